"""Governance through the real binary and the official openai SDK: keys (401/403) created with
`tollgate keys`, a rate limit hit under concurrency with its headers, PII masked before the
upstream and in a stream, a stream cut by an output guardrail against the local model, a
fallback from a failing entity to a healthy one, and `/metrics` scraped and parsed."""

from __future__ import annotations

import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from conftest import TOLLGATE_BIN, _stop, _wait_ready, free_port, query, wait_row

ADMIN = "gov-admin"
CALLS = 12

CONFIG = """
store: sqlite:{db}
server: {{port: {port}, admin_token: {admin}, auth: keys}}
providers:
  - {{name: sim, kind: simulator}}
  - {{name: local, kind: openai, base_url: "{model_url}"}}
  - {{name: down, kind: openai, base_url: "http://127.0.0.1:1/v1"}}
endpoints:
  - name: governed
    permissions: [{{group: data-eng, level: CAN_QUERY}}]
    ai_gateway:
      rate_limits: [{{key: user, principal: limited@example.com, calls: {calls}, renewal_period: minute}}]
      guardrails:
        input: {{pii: {{behavior: MASK}}, invalid_keywords: [heist]}}
        output: {{pii: {{behavior: MASK}}}}
      fallback_config: {{enabled: true}}
    config:
      served_entities:
        - {{name: broken, external_model: {{provider: down, name: gpt-down}}}}
        - {{name: healthy, external_model: {{provider: sim, name: gpt-sim}}}}
      traffic_config:
        routes: [{{served_entity_name: broken, traffic_percentage: 100}}, {{served_entity_name: healthy, traffic_percentage: 0}}]
  - name: smol-guarded
    ai_gateway:
      guardrails:
        output: {{invalid_keywords: [the, a, and, is, of, to, in], stream_window_chars: 8}}
    config:
      served_entities:
        - {{name: smol, external_model: {{provider: local, name: smollm2}}}}
"""


def tollgate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOLLGATE_BIN), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def governed(tmp_path_factory, model_server):
    directory = tmp_path_factory.mktemp("governance")
    db = directory / "store.db"
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(CONFIG.format(db=db, port=port, admin=ADMIN, calls=CALLS, model_url=model_server))
    done = tollgate("validate", "--config", str(config))
    assert done.returncode == 0, done.stderr
    log = directory / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(TOLLGATE_BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health/ready", proc, log, "tollgate", 60)
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "store": f"sqlite:{db}", "proc": proc}
    finally:
        _stop(proc)


def create_key(store: str, owner: str, *groups: str) -> str:
    args = ["keys", "create", "--owner", owner, "--store", store]
    for group in groups:
        args += ["--group", group]
    done = tollgate(*args)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert re.fullmatch(r"tg-[A-Za-z0-9_-]{32}", key), key
    return key


def sdk(governed, key: str | None) -> openai.OpenAI:
    return openai.OpenAI(base_url=governed["url"] + "/v1", api_key=key or "none", max_retries=0)


def ready_client(governed, key: str) -> openai.OpenAI:
    """A client for a key the CLI just created: the gateway polls the store for new keys every 200 ms."""
    client = sdk(governed, key)
    for _ in range(30):
        try:
            client.models.list()
            return client
        except openai.AuthenticationError:
            time.sleep(0.2)
    raise AssertionError("the gateway never accepted the new key")


def test_keys_from_the_cli_authenticate_and_permissions_refuse(governed):
    alice = create_key(governed["store"], "alice@example.com", "data-eng")
    bob = create_key(governed["store"], "bob@example.com")
    with pytest.raises(openai.AuthenticationError) as missing:
        sdk(governed, "tg-not-a-key").chat.completions.create(model="governed", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "invalid_api_key"
    answer = ready_client(governed, alice).chat.completions.with_raw_response.create(
        model="governed", messages=[{"role": "user", "content": "hello"}]
    )
    request_id = answer.headers["x-request-id"]
    row, _ = wait_row(governed["db"], request_id)
    assert row["requester"] == "alice@example.com"
    assert json.loads(row["requester_groups"]) == ["data-eng"]
    assert row["key_id"].startswith("key_")
    # Each key is in force once the gateway's next poll has seen it: wait for Bob's as for Alice's.
    bob_client = ready_client(governed, bob)
    with pytest.raises(openai.PermissionDeniedError) as denied:
        bob_client.chat.completions.create(model="governed", messages=[{"role": "user", "content": "hi"}])
    assert denied.value.code == "permission_denied"
    assert [model.id for model in sdk(governed, bob).models.list()] == ["smol-guarded"]
    assert sorted(model.id for model in sdk(governed, alice).models.list()) == ["governed", "smol-guarded"]
    listed = tollgate("keys", "list", "--json", "--store", governed["store"])
    owners = {entry["owner"] for entry in json.loads(listed.stdout)}
    assert {"alice@example.com", "bob@example.com"} <= owners
    assert alice not in listed.stdout


def test_a_user_limit_admits_exactly_its_calls_under_concurrency(governed):
    key = create_key(governed["store"], "limited@example.com", "data-eng")
    client = ready_client(governed, key)

    def one(_):
        try:
            raw = client.chat.completions.with_raw_response.create(model="governed", messages=[{"role": "user", "content": "hello"}])
            return 200, dict(raw.headers)
        except openai.RateLimitError as error:
            return 429, dict(error.response.headers), error.code

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(48)))
    assert sum(1 for r in results if r[0] == 200) == CALLS
    refused = [r for r in results if r[0] == 429]
    assert len(refused) == 48 - CALLS
    headers = refused[0][1]
    assert refused[0][2] == "rate_limit_exceeded"
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit-requests"] == str(CALLS)
    assert headers["x-ratelimit-remaining-requests"] == "0"
    rows = query(governed["db"], "SELECT rate_limit FROM inference_table WHERE status_code = 429 AND requester = 'limited@example.com'")
    assert len(rows) >= 1
    fired = json.loads(rows[0]["rate_limit"])
    assert fired["key"] == "user" and fired["principal"] == "limited@example.com" and fired["limit"] == CALLS


def test_pii_is_masked_before_the_upstream_and_in_the_stream_and_fallback_answers(governed):
    key = create_key(governed["store"], "carol@example.com", "data-eng")
    client = ready_client(governed, key)
    # The simulator repeats the prompt it received: what it says is what the upstream got.
    raw = client.chat.completions.with_raw_response.create(
        model="governed", messages=[{"role": "user", "content": "email dave@example.com about card 4111 1111 1111 1111"}]
    )
    text = raw.parse().choices[0].message.content
    assert "[EMAIL]" in text and "[CREDIT_CARD]" in text and "dave@example.com" not in text
    assert raw.headers["served-model-name"] == "healthy"
    row, usage = wait_row(governed["db"], raw.headers["x-request-id"])
    attempts = json.loads(row["fallback_attempts"])
    assert [a["entity"] for a in attempts] == ["broken", "healthy"]
    assert attempts[0]["status"] == 502 and attempts[1]["status"] == 200
    assert row["served_entity_name"] == "healthy"
    assert usage["served_entity_name"] == "healthy"
    with pytest.raises(openai.BadRequestError) as blocked:
        client.chat.completions.create(model="governed", messages=[{"role": "user", "content": "plan the heist"}])
    assert blocked.value.code == "content_filter"


def test_an_output_guardrail_cuts_a_stream_of_the_local_model(governed):
    client = openai.OpenAI(base_url=governed["url"] + "/v1", api_key=ADMIN, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="smol-guarded", stream=True, max_tokens=48, messages=[{"role": "user", "content": "Describe the sun and the moon in two sentences."}]
    )
    text, finish = "", None
    for chunk in raw.parse():
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert finish == "content_filter"
    assert not re.search(r"\b(the|a|and|is|of|to|in)\b", text, re.IGNORECASE), text
    row, _ = wait_row(governed["db"], raw.headers["x-request-id"])
    assert row["stream_end"] == "content_filter"
    assert json.loads(row["guardrails"])["output"]["invalid_keywords"]["filtered"] is True


def test_metrics_are_scraped_and_parsed(governed):
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    body = urllib.request.urlopen(governed["url"] + "/metrics", timeout=10).read().decode()
    families = {family.name: family for family in text_string_to_metric_families(body)}
    requests = families["tollgate_requests"]
    statuses = {sample.labels["status"] for sample in requests.samples if sample.labels.get("endpoint") == "governed"}
    assert {"200", "403", "429"} <= statuses
    # A request without a valid key is refused before its body names an endpoint.
    assert any(sample.labels["status"] == "401" for sample in requests.samples)
    assert "tollgate_rate_limit_rejections" in families
    assert "tollgate_guardrail_actions" in families
    assert "tollgate_fallbacks" in families
    assert "gen_ai_server_request_duration" in families
    assert "tollgate_overhead_seconds" in families
    assert "tollgate_record_queue_depth" in families
