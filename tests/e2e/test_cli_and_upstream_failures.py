"""The `tollgate validate` command and upstream server errors, through the real binary."""

from __future__ import annotations

import subprocess

import openai
import pytest

from conftest import SIMULATED, TOLLGATE_BIN, assert_error_envelope, assert_inference_row, wait_row

MAX_TOKENS = 16


def test_validate_accepts_the_example_config(tmp_path):
    example = TOLLGATE_BIN.parents[2] / "examples" / "tollgate.yaml"
    done = subprocess.run([str(TOLLGATE_BIN), "validate", "--config", str(example)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_validate_names_the_key_path_of_each_problem(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        """
providers:
  - {name: sim, kind: simulator}
endpoints:
  - name: chat
    config:
      served_entities:
        - {name: a, external_model: {provider: sim, name: m}}
        - {name: b, external_model: {provider: nowhere, name: m}}
      traffic_config:
        routes:
          - {served_entity_name: a, traffic_percentage: 60}
          - {served_entity_name: b, traffic_percentage: 30}
"""
    )
    done = subprocess.run([str(TOLLGATE_BIN), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "endpoints[0].config.traffic_config.routes: percentages sum to 90, expected 100" in done.stderr
    assert 'endpoints[0].config.served_entities[1].external_model.provider: unknown provider "nowhere"' in done.stderr


def test_serve_refuses_a_bad_config(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("server: {port: not-a-number}\n")
    done = subprocess.run([str(TOLLGATE_BIN), "serve", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "server.port" in done.stderr


def test_upstream_server_error_is_500_with_a_row(gateway, client):
    with pytest.raises(openai.InternalServerError) as caught:
        client.with_options(max_retries=0).chat.completions.create(
            model=SIMULATED, messages=[{"role": "user", "content": "sim:server_error"}], max_tokens=MAX_TOKENS
        )
    assert caught.value.status_code == 500
    request_id = caught.value.response.headers.get("x-request-id")
    assert request_id
    assert_error_envelope(caught.value.response.json(), typed=False)
    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=False, status=500)
    assert usage["status_code"] == 500
