"""Shared fixtures for the end-to-end suite.

The pytest session starts two processes on free loopback ports:

* the llama.cpp OpenAI-compatible server with SmolLM2 (``scripts/start-model.sh``), and
* ``tollgate serve`` (``.build/debug/tollgate`` unless ``TOLLGATE_BIN`` says otherwise) with a
  temporary config: endpoint ``smollm2`` in front of that model server, endpoint ``simulated``
  in front of the built-in simulator, and a temporary SQLite store.

Tests talk to the gateway with the official ``openai`` SDK (or plain ``urllib``) and read the
recorded rows back from the SQLite file with :func:`wait_row`.

Environment:

* ``TOLLGATE_BIN`` — gateway binary to run (default ``.build/debug/tollgate``).
* ``TOLLGATE_E2E_MODEL_URL`` — use an already running model server (e.g.
  ``http://127.0.0.1:8081/v1``) instead of starting one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOLLGATE_BIN = Path(os.environ.get("TOLLGATE_BIN", ROOT / ".build" / "debug" / "tollgate"))

MODEL_READY_TIMEOUT = 120.0
GATEWAY_READY_TIMEOUT = 60.0
ROW_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 20.0

# Endpoint name -> served entity name, as written in the generated config.
ENTITIES = {"smollm2": "smollm2-135m", "simulated": "sim-a"}
ENDPOINTS = list(ENTITIES)
LOCAL = "smollm2"
SIMULATED = "simulated"

ADMIN_TOKEN = "e2e-admin-token"

# A gateway of its own for a test: the embedded simulator behind endpoint `chat`. `server` adds
# `server:` members (", admin_token: t"), `extra` adds top-level YAML.
SIM_CONFIG = """
store: sqlite:{db}
server: {{port: {port}{server}}}
{extra}
providers:
  - {{name: sim, kind: simulator}}
endpoints:
  - name: chat
    config:
      served_entities:
        - name: chat-a
          external_model: {{provider: sim, name: gpt-sim}}
"""

CONFIG_TEMPLATE = """\
server: {{host: 127.0.0.1, port: {port}, admin_token: e2e-admin-token}}
store: "sqlite:{db}"
environment: e2e
limits:
  upstream_timeout_seconds: 120
tracing:
  otlp: {{endpoint: "{mlflow_url}", headers: {{x-mlflow-experiment-id: "0"}}, flush_interval_ms: 200}}
providers:
  - name: local
    kind: openai
    base_url: "{model_url}"
  - name: sim
    kind: simulator
    simulator: {{latency_ms: 5, tokens_per_second: 2000}}
endpoints:
  - name: smollm2
    config:
      served_entities:
        - name: smollm2-135m
          external_model: {{provider: local, name: smollm2, task: llm/v1/chat}}
      traffic_config:
        routes: [{{served_entity_name: smollm2-135m, traffic_percentage: 100}}]
    ai_gateway:
      inference_table_config: {{enabled: true}}
      usage_tracking_config: {{enabled: true}}
  - name: simulated
    config:
      served_entities:
        - name: sim-a
          external_model: {{provider: sim, name: gpt-sim}}
      traffic_config:
        routes: [{{served_entity_name: sim-a, traffic_percentage: 100}}]
    ai_gateway:
      inference_table_config: {{enabled: true}}
      usage_tracking_config: {{enabled: true}}
  - name: smol-agent
    config:
      served_entities:
        - name: smol-agent-v1
          agent:
            instructions: You are a concise assistant. Answer in one sentence.
            model: {{endpoint: smollm2}}
            parameters: {{max_tokens: 32}}
            on_model_error: propagate
  - name: sim-agent
    config:
      served_entities:
        - name: sim-agent-v1
          agent:
            instructions: You help customers with their orders.
            model: {{endpoint: simulated}}
            on_model_error: {{respond: "Sorry, I can't help with that request."}}
            tools: [{{mcp: {{command: [python3, "{orders_server}"]}}}}]
            max_steps: 3
"""


# --------------------------------------------------------------------------------------------
# Small HTTP helpers (stdlib only)
# --------------------------------------------------------------------------------------------


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def sse_payloads(self) -> list[str]:
        """The ``data:`` payloads of an SSE body, in order, without ``[DONE]``."""
        return sse_data_payloads(self.text)


def sse_data_payloads(text: str) -> list[str]:
    payloads: list[str] = []
    data_lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data_lines:
                payloads.append("\n".join(data_lines))
                data_lines = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_lines.append(value)
    if data_lines:
        payloads.append("\n".join(data_lines))
    return [p for p in payloads if p != "[DONE]"]


def http_request(
    method: str,
    url: str,
    body: bytes | str | dict | list | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> HttpResult:
    """Sends one request; HTTP error statuses are returned, not raised."""
    if isinstance(body, (dict, list)):
        data: bytes | None = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body
    all_headers = {"accept": "*/*"}
    if data is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def _get_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        return http_request("GET", url, timeout=timeout).status
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(url: str, proc: subprocess.Popen | None, log: Path | None, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what} exited with status {proc.returncode} before it was ready:\n{_tail(log) if log else ''}")
        if _get_status(url) == 200:
            return
        time.sleep(0.25)
    pytest.fail(f"{what} not ready at {url} after {timeout:.0f} s:\n{_tail(log) if log else ''}")


def _stop(proc: subprocess.Popen, timeout: float = SHUTDOWN_TIMEOUT) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# --------------------------------------------------------------------------------------------
# Reading the store
# --------------------------------------------------------------------------------------------


def _fetch(db_path: Path, table: str, request_id: str) -> dict[str, Any] | None:
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.OperationalError:
        return None
    try:
        conn.row_factory = sqlite3.Row
        row = conn.execute(f"SELECT * FROM {table} WHERE request_id = ?", (request_id,)).fetchone()
        return dict(row) if row is not None else None
    except sqlite3.OperationalError:
        # The file or the tables may not exist yet, or the database is briefly locked.
        return None
    finally:
        conn.close()


def wait_row(
    db_path: Path | str, request_id: str, *, usage: bool = True, timeout: float = ROW_TIMEOUT
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Polls the store until the ``inference_table`` row (and, when ``usage``, the
    ``endpoint_usage`` row) for ``request_id`` exist; returns both as dicts."""
    assert request_id, "response carried no x-request-id"
    db_path = Path(db_path)
    deadline = time.monotonic() + timeout
    inference = usage_row = None
    while True:
        if inference is None:
            inference = _fetch(db_path, "inference_table", request_id)
        if usage and usage_row is None:
            usage_row = _fetch(db_path, "endpoint_usage", request_id)
        if inference is not None and (usage_row is not None or not usage):
            return inference, usage_row
        if time.monotonic() > deadline:
            missing = [name for name, row in (("inference_table", inference), ("endpoint_usage", usage_row if usage else {})) if row is None]
            raise AssertionError(f"no {' / '.join(missing)} row for request {request_id} after {timeout:.0f} s in {db_path}")
        time.sleep(0.05)


def query(db_path: Path | str, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5.0)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Row assertions shared by the test modules
# --------------------------------------------------------------------------------------------

_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def assert_inference_row(
    row: dict[str, Any],
    *,
    request_id: str,
    endpoint: str,
    api: str,
    stream: bool,
    status: int,
    client_request_id: str | None = None,
) -> None:
    assert row["request_id"] == request_id
    assert row["endpoint_name"] == endpoint
    assert row["api"] == api
    assert row["stream"] == (1 if stream else 0)
    assert row["status_code"] == status
    assert row["client_request_id"] == client_request_id
    assert _TIME_RE.match(row["request_time"]), row["request_time"]
    assert row["request_date"] == row["request_time"][:10]
    assert row["sampling_fraction"] == 1.0
    assert isinstance(json.loads(row["logging_error_codes"]), list)
    if not stream:
        assert row["stream_end"] is None
    assert row["request"] is not None
    request = json.loads(row["request"])
    assert isinstance(request, dict)
    if status == 200:
        assert row["served_entity_name"] == ENTITIES[endpoint]
        assert json.loads(row["logging_error_codes"]) == []
        assert isinstance(row["execution_duration_ms"], int) and row["execution_duration_ms"] >= 0


def assert_usage_row(
    row: dict[str, Any] | None,
    *,
    request_id: str,
    endpoint: str,
    status: int,
    stream: bool,
    client_request_id: str | None = None,
) -> None:
    assert row is not None
    assert row["request_id"] == request_id
    assert row["endpoint_name"] == endpoint
    assert row["status_code"] == status
    assert row["request_streaming"] == (1 if stream else 0)
    assert row["client_request_id"] == client_request_id
    assert _TIME_RE.match(row["request_time"]), row["request_time"]
    assert row["token_count_source"] in ("reported", "estimated")
    if status == 200:
        assert row["served_entity_name"] == ENTITIES[endpoint]
        assert isinstance(row["input_token_count"], int) and row["input_token_count"] > 0
        assert isinstance(row["output_token_count"], int) and row["output_token_count"] > 0


def assert_error_envelope(body: Any, *, typed: bool = True) -> dict[str, Any]:
    """Checks the OpenAI error envelope. ``typed=False`` allows ``type: null``, as Azure OpenAI
    sends (and the gateway passes through) for content-filter rejections."""
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    error = body["error"]
    for key in ("message", "type", "param", "code"):
        assert key in error, f"error envelope lacks {key!r}: {body}"
    assert isinstance(error["message"], str) and error["message"]
    if typed:
        assert isinstance(error["type"], str) and error["type"]
    else:
        assert error["type"] is None or isinstance(error["type"], str)
    return error


# --------------------------------------------------------------------------------------------
# Session fixtures
# --------------------------------------------------------------------------------------------


@dataclass
class Gateway:
    base_url: str  # http://127.0.0.1:PORT
    db_path: Path
    config_path: Path
    log_path: Path
    client: openai.OpenAI
    model_url: str
    mlflow_url: str
    process: subprocess.Popen = field(repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> HttpResult:
        if path.startswith("/api/") and headers is None:
            headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        return http_request(method, self.url(path), body, headers)

    def wait_row(self, request_id: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        return wait_row(self.db_path, request_id, **kwargs)

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory):
    """Base URL (``…/v1``) of a llama.cpp server answering to model ``smollm2``."""
    external = os.environ.get("TOLLGATE_E2E_MODEL_URL")
    if external:
        _wait_ready(external.rstrip("/") + "/models", None, None, "model server", MODEL_READY_TIMEOUT)
        yield external.rstrip("/")
        return
    port = free_port()
    log = tmp_path_factory.mktemp("model") / "model.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "start-model.sh"), str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(url + "/models", proc, log, "model server", MODEL_READY_TIMEOUT)
        yield url
    finally:
        _stop(proc)


MLFLOW_READY_TIMEOUT = 180.0


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """Base URL of a real MLflow tracking server (SQLite backend) that ingests OTLP traces."""
    work = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = work / "mlflow.log"
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "mlflow"), "server",
                "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
                "--default-artifact-root", str(work / "artifacts"),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            ],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url + "/health", proc, log, "mlflow server", MLFLOW_READY_TIMEOUT)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="session")
def gateway(model_server: str, mlflow_server: str, tmp_path_factory: pytest.TempPathFactory):
    if not TOLLGATE_BIN.exists():
        pytest.fail(f"{TOLLGATE_BIN} does not exist; run `swift build` first")
    work = tmp_path_factory.mktemp("tollgate")
    port = free_port()
    db = work / "tollgate.db"
    config = work / "tollgate.yaml"
    config.write_text(
        CONFIG_TEMPLATE.format(
            port=port, db=db, model_url=model_server, mlflow_url=mlflow_server,
            orders_server=ROOT / "tools" / "mcp" / "orders_server.py",
        )
    )
    log = work / "tollgate.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(TOLLGATE_BIN), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120.0)
    gw = Gateway(
        base_url=base, db_path=db, config_path=config, log_path=log, client=client, model_url=model_server,
        mlflow_url=mlflow_server, process=proc,
    )
    try:
        _wait_ready(base + "/health/ready", proc, log, "tollgate", GATEWAY_READY_TIMEOUT)
        yield gw
    finally:
        client.close()
        code = _stop(proc)
    if code != 0:
        pytest.fail(f"tollgate exited with status {code} after SIGTERM (expected 0):\n{_tail(log)}")


@pytest.fixture(scope="session")
def client(gateway: Gateway) -> openai.OpenAI:
    return gateway.client
