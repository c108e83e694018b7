"""Endpoint lifecycle end to end: a gateway of its own with the real SmolLM2 as a scale-to-zero
local model (Tollgate starts and stops the llama.cpp server itself), an agent endpoint on the
simulator whose versions are deployed, rolled back and retired with the `tollgate` CLI under a
bounded load from the official openai SDK, and the cost report checked against the usage rows."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import openai
import pytest

from conftest import ROOT, TOLLGATE_BIN, _stop, _tail, _wait_ready, free_port, query, wait_row

TOKEN = "e2e-admin-token"


def smollm2_gguf() -> str:
    """The GGUF path, as scripts/run.sh finds it."""
    return subprocess.run([str(ROOT / "scripts" / "model-path.sh")], capture_output=True, text=True, check=True).stdout.strip()


CONFIG = """
server: {{host: 127.0.0.1, port: {port}, admin_token: {token}}}
store: sqlite:{db}
providers: [{{name: sim, kind: simulator}}]
pricing:
  - {{provider: sim, model: gpt-sim, input_per_million: 2.5, output_per_million: 10}}
  - {{local_model: smol, cpu_hour: 0.05, gb_hour: 0.01}}
endpoints:
  - name: smol
    config:
      served_entities:
        - name: smol
          scale_to_zero_enabled: true
          local_model:
            model_path: {gguf}
            model_name: smollm2
            idle_timeout_seconds: 3
            command: ["{python}", -m, llama_cpp.server, --model, "{{model_path}}", --model_alias, smollm2,
                      --host, "{{host}}", --port, "{{port}}", --n_ctx, "{{context_size}}", --n_threads, "2"]
  - name: smol-embed
    config:
      served_entities:
        - name: smol-embed
          scale_to_zero_enabled: true
          local_model:
            model_path: {gguf}
            model_name: smollm2
            embeddings: true
            idle_timeout_seconds: 3
            command: ["{python}", -m, llama_cpp.server, --model, "{{model_path}}", --model_alias, smollm2, --embedding, "true",
                      --host, "{{host}}", --port, "{{port}}", --n_ctx, "{{context_size}}", --n_threads, "2"]
  - name: support
    retention: {{keep_zero_traffic_versions: 1}}
    config:
      served_entities:
        - name: support-v1
          agent: {{instructions: You answer support questions., model: {{provider: sim, name: gpt-sim}}}}
"""


class LocalGateway:
    def __init__(self, work: pathlib.Path):
        self.port = free_port()
        self.db = work / "lifecycle.db"
        self.config = work / "lifecycle.yaml"
        self.config.write_text(CONFIG.format(
            port=self.port, token=TOKEN, db=self.db, gguf=smollm2_gguf(), python=ROOT / ".venv" / "bin" / "python",
        ))
        self.log = work / "lifecycle.log"
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, TOLLGATE_URL=self.base, TOLLGATE_ADMIN_TOKEN=TOKEN)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(TOLLGATE_BIN), *args], capture_output=True, text=True, timeout=300, env=self.env)
        if check:
            assert done.returncode == 0, f"tollgate {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def versions(self, endpoint: str) -> dict:
        return json.loads(self.cli("versions", endpoint, "--json").stdout)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory):
    gw = LocalGateway(tmp_path_factory.mktemp("lifecycle"))
    with open(gw.log, "wb") as out:
        proc = subprocess.Popen(
            [str(TOLLGATE_BIN), "serve", "--config", str(gw.config)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(gw.base + "/health/ready", proc, gw.log, "tollgate", 60)
        yield gw
    finally:
        code = _stop(proc)
        assert code == 0, _tail(gw.log)


def test_scale_to_zero_local_model_stops_when_idle_and_serves_again(lifecycle: LocalGateway):
    client = openai.OpenAI(base_url=lifecycle.base + "/v1", api_key="unused", max_retries=0, timeout=300.0)
    assert lifecycle.versions("smol")["versions"][0]["process"]["running"] == 0  # nothing before the first request

    first = client.chat.completions.with_raw_response.create(
        model="smol", messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
    )
    assert first.parse().choices[0].message.content is not None
    row, usage = wait_row(lifecycle.db, first.headers["x-request-id"])
    assert row["served_entity_name"] == "smol" and row["status_code"] == 200
    assert row["cold_start_ms"] > 0  # the request waited for the llama.cpp server to start
    assert usage["cost_usd"] == 0.0  # local models cost compute, not tokens
    process = lifecycle.versions("smol")["versions"][0]["process"]
    assert process["running"] == 1 and process["rss_bytes"] > 0
    pid = process["pids"][0]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and lifecycle.versions("smol")["versions"][0]["process"]["running"]:
        time.sleep(0.5)
    assert lifecycle.versions("smol")["versions"][0]["process"]["running"] == 0, _tail(lifecycle.log)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

    again = client.chat.completions.with_raw_response.create(
        model="smol", messages=[{"role": "user", "content": "Say hello again."}], max_tokens=8
    )
    assert again.parse().choices[0].message.content is not None
    row, _ = wait_row(lifecycle.db, again.headers["x-request-id"])
    assert row["cold_start_ms"] > 0
    process = lifecycle.versions("smol")["versions"][0]["process"]
    assert process["starts"] == 2 and process["cpu_seconds"] > 0
    client.close()


def test_local_model_with_embeddings_on_answers_embeddings(lifecycle: LocalGateway):
    client = openai.OpenAI(base_url=lifecycle.base + "/v1", api_key="unused", max_retries=0, timeout=300.0)
    raw = client.embeddings.with_raw_response.create(model="smol-embed", input=["a primary key", "a foreign key"])
    answer = raw.parse()
    assert len(answer.data) == 2 and len(answer.data[0].embedding) > 0
    assert answer.data[0].embedding != answer.data[1].embedding
    row, usage = wait_row(lifecycle.db, raw.headers["x-request-id"])
    assert row["api"] == "embeddings" and row["status_code"] == 200
    assert usage["input_token_count"] > 0
    # A local model without `embeddings: true` refuses before any process starts.
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="smol", input="x")


def test_versions_deployed_under_load_with_retention_rollback_and_cost(lifecycle: LocalGateway):
    client = openai.OpenAI(base_url=lifecycle.base + "/v1", api_key="unused", max_retries=0, timeout=60.0)
    failures: list[str] = []
    served: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        for _ in range(3000):  # bounded
            if stop.is_set():
                return
            try:
                raw = client.responses.with_raw_response.create(model="support", input="Where is my order?")
                served.add(raw.headers["served-model-name"])
            except openai.APIError as error:
                failures.append(repr(error))

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(0.3)
        for version in ("support-v2", "support-v3"):
            entity = json.dumps({"name": version, "agent": {"instructions": f"You answer support questions ({version}).",
                                                              "model": {"provider": "sim", "name": "gpt-sim"}}})
            out = lifecycle.cli("deploy", "support", "--entity", entity).stdout
            assert f"deployed {version}" in out and f"{version} 100%" in out
            time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not failures, failures[:3]
    assert {"support-v1", "support-v3"} <= served

    versions = {v["entity_name"]: v for v in lifecycle.versions("support")["versions"]}
    assert versions["support-v1"]["state"] == "RETIRED"  # keep_zero_traffic_versions: 1
    assert "keep_zero_traffic_versions" in versions["support-v1"]["retired_reason"]
    assert versions["support-v2"]["state"] == "READY" and versions["support-v2"]["traffic_percentage"] == 0
    assert versions["support-v3"]["traffic_percentage"] == 100
    table = lifecycle.cli("versions", "support").stdout
    assert "support-v1" in table and "RETIRED" in table

    assert "support-v2 100%" in lifecycle.cli("rollback", "support").stdout
    refused = lifecycle.cli("retire", "support", "support-v2", check=False)
    assert refused.returncode == 1 and "traffic" in refused.stderr
    assert "retired support-v3" in lifecycle.cli("retire", "support", "support-v3").stdout

    report = json.loads(lifecycle.cli("cost", "report", "--store", f"sqlite:{lifecycle.db}", "--by", "version", "--format", "json").stdout)
    rows = query(lifecycle.db, "SELECT COUNT(*) AS n, SUM(cost_usd) AS cost FROM endpoint_usage")[0]
    assert report["total"]["requests"] == rows["n"]
    assert abs(report["total"]["token_cost_usd"] - rows["cost"]) < 1e-9
    assert rows["cost"] > 0
    client.close()


def test_apply_is_idempotent(lifecycle: LocalGateway, tmp_path: pathlib.Path):
    file = tmp_path / "faq.yaml"
    file.write_text("""
providers: [{name: sim, kind: simulator}]
endpoints:
  - name: faq
    config:
      served_entities:
        - {name: faq-a, external_model: {provider: sim, name: gpt-sim}}
""")
    assert "faq: created" in lifecycle.cli("apply", str(file)).stdout
    assert "faq: unchanged" in lifecycle.cli("apply", str(file)).stdout
    denied = subprocess.run([str(TOLLGATE_BIN), "versions", "faq", "--url", lifecycle.base, "--token", "wrong"],
                            capture_output=True, text=True, timeout=60)
    assert denied.returncode == 1 and "401" in denied.stderr
