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

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest

from e2e_support import (  # noqa: F401  (re-exported: the test modules import them from conftest)
    ENDPOINTS,
    ENTITIES,
    LOCAL,
    SIMULATED,
    ROW_TIMEOUT,
    SHUTDOWN_TIMEOUT,
    HttpResult,
    sse_data_payloads,
    http_request,
    _get_status,
    free_port,
    _tail,
    _wait_ready,
    _stop,
    _fetch,
    wait_row,
    query,
    assert_inference_row,
    assert_usage_row,
    assert_error_envelope,
)

ROOT = Path(__file__).resolve().parents[2]
TOLLGATE_BIN = Path(os.environ.get("TOLLGATE_BIN", ROOT / ".build" / "debug" / "tollgate"))

MODEL_READY_TIMEOUT = 120.0
GATEWAY_READY_TIMEOUT = 60.0


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
  - name: smollm2-guarded
    config:
      served_entities:
        - name: smollm2-guarded-135m
          external_model: {{provider: local, name: smollm2}}
    ai_gateway:
      guardrails:
        input: {{invalid_keywords: [rob, weapon]}}
        output:
          invalid_keywords: [crime, crimes, criminal, criminals, murder, police, detective, heist, robbery, thief, gun, mystery]
          stream_window_chars: 16
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
