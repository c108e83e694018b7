"""Helpers of the end-to-end suite that need no fixture: HTTP over the stdlib, starting and
stopping processes, reading the store, and the row assertions the test modules share. The
test modules import them through conftest."""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROW_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 20.0

# Endpoint name -> served entity name, as written in the session gateway's config.
ENTITIES = {"smollm2": "smollm2-135m", "simulated": "sim-a"}
ENDPOINTS = list(ENTITIES)
LOCAL = "smollm2"
SIMULATED = "simulated"

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
