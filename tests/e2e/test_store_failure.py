"""The store refuses writes: another real process holds SQLite's write lock. The gateway keeps
serving, says so on /health/ready, keeps the rows in its spill file (across a restart too) and
writes them back once the lock is gone."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openai

from conftest import SIM_CONFIG, TOLLGATE_BIN, _stop, _wait_ready, free_port


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


def _ready(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(port: int, status: int, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while True:
        code, body = _ready(port)
        if code == status or time.time() > deadline:
            assert code == status, body
            return body
        time.sleep(0.2)


def _serve(config, log) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen([str(TOLLGATE_BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)


def test_rows_survive_a_locked_store_and_a_restart(tmp_path):
    db = tmp_path / "store.db"
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(SIM_CONFIG.format(db=db, port=port, server="", extra="limits: {store_busy_timeout_seconds: 1}"))
    log = tmp_path / "serve.log"
    proc = _serve(config, log)
    locker = None
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health/ready", proc, log, "tollgate", 30)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert locker.stdout.readline().strip() == "locked"

        ids = []
        for index in range(10):
            raw = client.chat.completions.with_raw_response.create(model="chat", messages=[{"role": "user", "content": f"while locked {index}"}])
            assert raw.http_response.status_code == 200
            ids.append(raw.headers["x-request-id"])
        failing = _wait_for(port, 503)
        assert failing["status"] == "unavailable"
        assert "store writes failing since" in failing["reason"] and "locked" in failing["reason"]
        assert failing["store"]["writes"] == "failing"

        # Stopped while failing: the rows stay in the spill file, owner-only.
        assert _stop(proc) == 0
        spill = tmp_path / "store.db.spill"
        assert spill.exists()
        assert stat.S_IMODE(os.stat(spill).st_mode) == 0o600
        with sqlite3.connect(spill) as kept:
            assert kept.execute("SELECT count(*) FROM inference_table").fetchone()[0] == 10

        locker.stdin.close()
        locker.wait(timeout=10)
        locker = None
        proc = _serve(config, log)
        _wait_ready(f"http://127.0.0.1:{port}/health/live", proc, log, "tollgate", 30)
        healthy = _wait_for(port, 200)
        assert healthy["store"]["writes"] == "ok"
        assert healthy["store"]["restored_records"] == 10
        assert not spill.exists()
        with sqlite3.connect(db) as store:
            found = {row[0] for row in store.execute("SELECT request_id FROM inference_table")}
            usage = store.execute("SELECT count(*) FROM endpoint_usage").fetchone()[0]
        assert set(ids) <= found and len(found) == 10
        assert usage == 10
    finally:
        if locker is not None:
            locker.stdin.close()
            locker.wait(timeout=10)
        _stop(proc)
