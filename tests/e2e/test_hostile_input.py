"""Hostile input through the real binary: numbers that overflow, unknown keys, and more idle
connections than the process has file descriptors."""

from __future__ import annotations

import resource
import socket
import subprocess
import time

from conftest import SIM_CONFIG, TOLLGATE_BIN, _stop, _wait_ready, free_port, http_request



def _validate(tmp_path, text: str) -> subprocess.CompletedProcess:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return subprocess.run([str(TOLLGATE_BIN), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60)


def test_validate_reports_overflowing_traffic_instead_of_crashing(tmp_path):
    done = _validate(
        tmp_path,
        """
providers:
  - {name: sim, kind: simulator}
endpoints:
  - name: chat
    config:
      served_entities:
        - {name: a, external_model: {provider: sim, name: m}}
        - {name: b, external_model: {provider: sim, name: m}}
      traffic_config:
        routes:
          - {served_entity_name: a, traffic_percentage: 9223372036854775807}
          - {served_entity_name: b, traffic_percentage: 9223372036854775807}
""",
    )
    assert done.returncode == 2, done.stderr
    assert "routes[0].traffic_percentage: must be between 0 and 100" in done.stderr


def test_validate_refuses_unknown_keys_and_warns_on_databricks_only_ones(tmp_path):
    done = _validate(
        tmp_path,
        """
server: {authentication: keys}
providers:
  - {name: sim, kind: simulator}
endpoints:
  - name: chat
    config:
      served_entities:
        - {name: a, external_model: {provider: sim, name: m}}
    ai_gateway:
      rate_limit: [{calls: 1, renewal_period: minute}]
""",
    )
    assert done.returncode == 2
    assert "server.authentication: unknown key" in done.stderr
    assert "endpoints[0].ai_gateway.rate_limit: unknown key (did you mean rate_limits?)" in done.stderr
    warned = _validate(
        tmp_path,
        """
providers:
  - {name: sim, kind: simulator}
endpoints:
  - name: chat
    config:
      served_entities:
        - {name: a, external_model: {provider: sim, name: m}}
    ai_gateway:
      inference_table_config: {enabled: true, catalog_name: main}
""",
    )
    assert warned.returncode == 0, warned.stderr
    assert "inference_table_config.catalog_name" in warned.stderr


def test_more_idle_connections_than_file_descriptors_do_not_kill_the_process(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        raise AssertionError(f"the test needs 1400 descriptors for its own sockets; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1400) if hard == resource.RLIM_INFINITY else min(hard, max(soft, 1400)), hard))
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(SIM_CONFIG.format(db=tmp_path / "store.db", port=port, server="", extra=""))
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", f'ulimit -n 1024 && exec "{TOLLGATE_BIN}" serve --config "{config}"'], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health/ready", proc, log, "tollgate", 30)
        sockets = []
        for _ in range(1100):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break  # the kernel's backlog is full: refused, as it should be
        time.sleep(1.0)
        assert proc.poll() is None, "the gateway died with 1,100 idle connections"
        for s in sockets:
            s.close()
        deadline = time.time() + 20
        status = None
        while time.time() < deadline:
            try:
                status = http_request("GET", f"http://127.0.0.1:{port}/health/live", timeout=2).status
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        answer = http_request(
            "POST", f"http://127.0.0.1:{port}/v1/chat/completions",
            body={"model": "chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e19}, timeout=10,
        )
        assert answer.status == 400
        assert answer.json()["error"]["param"] == "max_tokens"
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_databricks_sdk_raises_its_typed_errors_from_the_admin_api(tmp_path):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound, PermissionDenied, ResourceDoesNotExist

    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(SIM_CONFIG.format(db=tmp_path / "store.db", port=port, server=", admin_token: sdk-token", extra=""))
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(TOLLGATE_BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health/ready", proc, log, "tollgate", 30)
        workspace = WorkspaceClient(host=f"http://127.0.0.1:{port}", token="sdk-token", auth_type="pat")
        assert workspace.serving_endpoints.get("chat").name == "chat"
        try:
            workspace.serving_endpoints.get("no-such-endpoint")
            raise AssertionError("expected ResourceDoesNotExist")
        except ResourceDoesNotExist as error:
            assert isinstance(error, NotFound)
            assert error.error_code == "RESOURCE_DOES_NOT_EXIST"
            assert "no-such-endpoint" in str(error)
        wrong = WorkspaceClient(host=f"http://127.0.0.1:{port}", token="wrong", auth_type="pat")
        try:
            wrong.serving_endpoints.get("chat")
            raise AssertionError("expected an authentication error")
        except Exception as error:  # the SDK maps 401 to Unauthenticated
            assert type(error).__name__ == "Unauthenticated", type(error)
        tools = {"name": "t", "agent": {"instructions": "x", "model": "chat", "tools": [{"mcp": {"command": ["sh", "-c", "id"]}}]}}
        answer = http_request(
            "POST", f"http://127.0.0.1:{port}/api/2.0/serving-endpoints",
            body={"name": "with-tools", "config": {"served_entities": [tools]}}, headers={"authorization": "Bearer sdk-token"},
        )
        assert answer.status == 403
        assert answer.json()["error_code"] == "PERMISSION_DENIED"
        assert PermissionDenied  # the SDK's class for that code
    finally:
        _stop(proc)
