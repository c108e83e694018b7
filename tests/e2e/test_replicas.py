"""Two `tollgate serve` replicas on one real PostgreSQL, behind a real nginx as the load
balancer, queried with the official openai SDK: one rate limit for both, keys and deploys made
on one replica in force on the other within a second, every row recorded once, and a replica
killed under load while the other keeps serving.

PostgreSQL is the cluster the test script starts (``TOLLGATE_TEST_POSTGRES_URL``); each test
module gets a database of its own. nginx is Debian's (``scripts/ensure-package.sh``)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import openai
import pytest

from conftest import TOLLGATE_BIN, _stop, _tail, _wait_ready, free_port, http_request

ADMIN = "replica-admin-token"
LIMIT = 30

CONFIG = """
store: "{store}"
spill_directory: "{spill}"
server: {{port: {port}, admin_token: {admin}, auth: keys, replica_id: {replica}}}
providers:
  - {{name: sim, kind: simulator}}
endpoints:
  - name: chat
    config:
      served_entities:
        - name: chat-a
          external_model: {{provider: sim, name: gpt-sim}}
  - name: limited
    config:
      served_entities:
        - name: limited-a
          external_model: {{provider: sim, name: gpt-sim}}
    ai_gateway:
      rate_limits: [{{key: endpoint, calls: {limit}, renewal_period: minute}}]
"""

NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/temp/client_body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    upstream tollgate {{
        server 127.0.0.1:{first} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{second} max_fails=1 fail_timeout=30s;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tollgate;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def _nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is missing: scripts/test.sh installs it (scripts/ensure-package.sh nginx nginx)")
    return found


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, timeout=60)


def _database_url(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


class Replicas:
    def __init__(self, root: Path, store: str):
        self.root = root
        self.store = store
        self.ports = [free_port(), free_port()]
        self.procs: list[subprocess.Popen | None] = [None, None]
        self.logs = [root / f"replica{index + 1}.log" for index in range(2)]
        self.nginx_port = free_port()
        self.nginx: subprocess.Popen | None = None

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    @property
    def balanced(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    def start(self, index: int) -> None:
        config = self.root / f"replica{index + 1}.yaml"
        config.write_text(CONFIG.format(
            store=self.store, spill=self.root, port=self.ports[index], admin=ADMIN, replica=f"replica-{index + 1}", limit=LIMIT,
        ))
        with self.logs[index].open("a") as out:
            self.procs[index] = subprocess.Popen([str(TOLLGATE_BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)
        _wait_ready(self.url(index) + "/health/ready", self.procs[index], self.logs[index], f"replica {index + 1}", 60)

    def start_nginx(self) -> None:
        directory = self.root / "nginx"
        (directory / "temp").mkdir(parents=True, exist_ok=True)
        conf = directory / "nginx.conf"
        conf.write_text(NGINX_CONFIG.format(dir=directory, first=self.ports[0], second=self.ports[1], port=self.nginx_port))
        binary = _nginx_binary()
        subprocess.run([binary, "-p", str(directory), "-c", str(conf), "-t", "-q"], check=True, timeout=30)
        self.nginx = subprocess.Popen([binary, "-p", str(directory), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_ready(self.balanced + "/health/live", self.nginx, directory / "error.log", "nginx", 30)

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        for proc in self.procs:
            if proc is not None:
                _stop(proc)

    def sql(self, query: str) -> list[dict]:
        done = subprocess.run(
            [str(TOLLGATE_BIN), "sql", "--store", self.store, "--json", query], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory):
    server = os.environ.get("TOLLGATE_TEST_POSTGRES_URL")
    if not server:
        pytest.fail("TOLLGATE_TEST_POSTGRES_URL is unset: scripts/test.sh starts PostgreSQL (scripts/postgres.sh) and sets it")
    name = "e2e_" + uuid.uuid4().hex
    _psql(server, f"CREATE DATABASE {name}")
    group = Replicas(tmp_path_factory.mktemp("replicas"), _database_url(server, name))
    try:
        # The first start migrates the empty database; the second finds it migrated.
        group.start(0)
        group.start(1)
        group.start_nginx()
        yield group
    except BaseException:
        for log in group.logs:
            print(f"--- {log.name}\n{_tail(log)}")
        raise
    finally:
        group.stop()
        _psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _create_key(base_url: str, owner: str) -> dict:
    answer = http_request("POST", base_url + "/api/2.0/tollgate/keys", {"owner": owner}, {"authorization": f"Bearer {ADMIN}"})
    assert answer.status == 200, answer.body
    return answer.json()


def _until(condition, timeout: float) -> float:
    """Seconds until `condition()` holds (polled every 20 ms); fails after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not true after {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


def _rows_when(replicas: Replicas, query: str, ready, timeout: float = 15) -> list[dict]:
    """The rows of `query` once `ready(rows)` holds (the writer batches off the request path)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = replicas.sql(query)
        if ready(rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"{query}: not as expected after {timeout} s: {rows[:5]}")
        time.sleep(0.1)


def _chat(base_url: str, key: str, endpoint: str = "chat") -> int:
    answer = http_request(
        "POST", base_url + "/v1/chat/completions", {"model": endpoint, "messages": [{"role": "user", "content": "hi"}]},
        {"authorization": f"Bearer {key}"},
    )
    return answer.status


def test_a_key_created_or_revoked_on_one_replica_is_in_force_on_the_other_within_a_second(replicas):
    created = _create_key(replicas.url(0), "alice@example.com")
    seen = _until(lambda: _chat(replicas.url(1), created["key"]) == 200, timeout=5)
    assert seen <= 1.0, f"the key worked on replica 2 only after {seen:.2f} s"
    answer = http_request("DELETE", replicas.url(1) + f"/api/2.0/tollgate/keys/{created['key_id']}", None, {"authorization": f"Bearer {ADMIN}"})
    assert answer.status == 200, answer.body
    gone = _until(lambda: _chat(replicas.url(0), created["key"]) == 401, timeout=5)
    assert gone <= 1.0, f"the revoked key still worked on replica 1 for {gone:.2f} s"


def test_a_deploy_on_one_replica_serves_from_the_other_within_a_second(replicas):
    key = _create_key(replicas.url(0), "deployer@example.com")["key"]
    entity = {"name": "chat-b", "external_model": {"provider": "sim", "name": "gpt-sim"}}
    answer = http_request(
        "POST", replicas.url(0) + "/api/2.0/serving-endpoints/chat/deploy", {"entity": entity}, {"authorization": f"Bearer {ADMIN}"}
    )
    assert answer.status == 200, answer.body
    version = answer.json()["config"]["config_version"]

    def other_has_it() -> bool:
        seen = http_request("GET", replicas.url(1) + "/api/2.0/serving-endpoints/chat", None, {"authorization": f"Bearer {ADMIN}"})
        body = seen.json()
        return body["config"]["config_version"] == version and body["state"]["config_update"] == "NOT_UPDATING"

    seen = _until(other_has_it, timeout=5)
    assert seen <= 1.0, f"replica 2 applied the deploy after {seen:.2f} s"
    client = openai.OpenAI(base_url=replicas.url(1) + "/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=[{"role": "user", "content": "who serves?"}])
    request_id = raw.headers["x-request-id"]
    rows = _rows_when(replicas, f"SELECT served_entity_name FROM inference_table WHERE request_id = '{request_id}'", bool)
    assert rows == [{"served_entity_name": "chat-b"}]


def test_one_limit_holds_across_both_replicas_and_every_request_leaves_one_row(replicas):
    key = _create_key(replicas.url(0), "load@example.com")["key"]
    _until(lambda: _chat(replicas.url(1), key, "chat") == 200, timeout=5)
    client = openai.OpenAI(base_url=replicas.balanced + "/v1", api_key=key, max_retries=0)

    def one(index: int) -> tuple[int, str]:
        try:
            raw = client.chat.completions.with_raw_response.create(model="limited", messages=[{"role": "user", "content": f"n{index}"}])
            return raw.http_response.status_code, raw.headers["x-request-id"]
        except openai.RateLimitError as error:
            return 429, error.response.headers["x-request-id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(100)))
    statuses = [status for status, _ in results]
    admitted = statuses.count(200)
    assert statuses.count(200) + statuses.count(429) == 100
    # Calls are exact to within the number of replicas: never more than the limit.
    assert LIMIT - 2 <= admitted <= LIMIT, statuses
    ids = {request_id for _, request_id in results}
    assert len(ids) == 100

    rows = _rows_when(
        replicas, "SELECT request_id, status_code FROM inference_table WHERE endpoint_name = 'limited'", lambda rows: len(rows) >= 100
    )
    assert len(rows) == 100 and {row["request_id"] for row in rows} == ids
    assert sorted(row["status_code"] for row in rows) == sorted(statuses)
    # Both replicas took part: each one's metrics count requests to `limited`.
    for index in range(2):
        metrics = http_request("GET", replicas.url(index) + "/metrics").body.decode()
        served = [line for line in metrics.splitlines() if line.startswith("tollgate_requests_total{") and 'endpoint="limited"' in line]
        assert sum(float(line.rsplit(" ", 1)[1]) for line in served) > 0, f"replica {index + 1} served nothing"


def test_two_pipeline_runs_split_the_bronze_rows_and_process_each_once(replicas):
    key = _create_key(replicas.url(0), "pipeline@example.com")["key"]
    _until(lambda: _chat(replicas.url(1), key) == 200, timeout=5)
    client = openai.OpenAI(base_url=replicas.balanced + "/v1", api_key=key, max_retries=0)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda index: client.chat.completions.create(model="chat", messages=[{"role": "user", "content": f"p{index}"}]), range(120)))
    _rows_when(
        replicas, "SELECT count(*) AS n FROM inference_table WHERE requester = 'pipeline@example.com'", lambda rows: rows[0]["n"] >= 121
    )
    time.sleep(1)  # the last batches of the record writers
    # Every bronze row is queued once, by the trigger on inference_table (one entry per statement).
    bronze = replicas.sql("SELECT sum(row_count) AS n FROM pipeline_queue")[0]["n"]
    assert bronze == replicas.sql("SELECT count(*) AS n FROM inference_table")[0]["n"]
    config = replicas.root / "pipeline.yaml"
    config.write_text(f'store: "{replicas.store}"\npipeline: {{batch_size: 8}}\n')
    # Two machines' worth: two processes started together on the same database.
    runs = [
        subprocess.Popen([str(TOLLGATE_BIN), "pipeline", "run", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    counts = [int(out.split(": ", 1)[1].split(" bronze", 1)[0]) for out, _ in outputs]
    print(f"pipeline runs took {counts[0]} and {counts[1]} of {bronze} bronze rows")
    assert sum(counts) == bronze, outputs
    assert replicas.sql("SELECT count(*) AS n FROM pipeline_queue")[0]["n"] == 0
    processed = replicas.sql(
        "SELECT sum(CAST(details::jsonb #>> '{flow_progress,metrics,num_input_rows}' AS bigint)) AS n FROM pipeline_events WHERE event_type = 'flow_progress'"
    )
    assert processed[0]["n"] == bronze
    gold = replicas.sql("SELECT request_id FROM gold_requests")
    bronze_ids = replicas.sql("SELECT request_id FROM inference_table")
    assert sorted(row["request_id"] for row in gold) == sorted(row["request_id"] for row in bronze_ids)
    status = subprocess.run(
        [str(TOLLGATE_BIN), "pipeline", "status", "--store", replicas.store], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0 and "pending: 0" in status.stdout, status


def test_a_replica_killed_under_load_leaves_the_other_serving(replicas):
    key = _create_key(replicas.url(0), "survivor@example.com")["key"]
    _until(lambda: _chat(replicas.url(1), key) == 200, timeout=5)
    client = openai.OpenAI(base_url=replicas.balanced + "/v1", api_key=key, max_retries=0)

    def one(index: int) -> tuple[int, str | None]:
        try:
            raw = client.chat.completions.with_raw_response.create(model="chat", messages=[{"role": "user", "content": f"k{index}"}])
            return raw.http_response.status_code, raw.headers.get("x-request-id")
        except openai.APIStatusError as error:
            return error.status_code, error.response.headers.get("x-request-id")
        except openai.APIConnectionError:
            return 0, None

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        first = list(pool.map(one, range(40)))
        victim = replicas.procs[1]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        after = list(pool.map(one, range(40, 140)))
    assert all(status == 200 for status, _ in first), first
    # nginx moves to the survivor; only requests in flight at the kill may fail.
    failed = [status for status, _ in after if status != 200]
    assert len(failed) <= 4, after
    assert [status for status, _ in after[-60:]] == [200] * 60
    survivors = {request_id for _, request_id in after[-60:]}
    rows = _rows_when(
        replicas, "SELECT request_id FROM inference_table WHERE endpoint_name = 'chat'",
        lambda rows: survivors <= {row["request_id"] for row in rows},
    )
    ids = [row["request_id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert http_request("GET", replicas.url(0) + "/health/ready").status == 200
    # The killed replica comes back on the same database and serves again.
    replicas.start(1)
    assert _chat(replicas.url(1), key) == 200
