#!/usr/bin/env python3
"""Pipeline under load: does a pipeline update inside `tollgate serve` stall the requests it serves?

One `tollgate serve` (release build) with the embedded simulator and `pipeline.interval_seconds`
set, over a store that already holds --rows bronze rows of mixed shapes (bench/pipeline_data.py).
Closed-loop clients send chat completions over keep-alive connections for the whole run. The
first pipeline update starts after the interval and processes every bronze row; the gateway logs
its duration (`pipeline update … seconds=`), which places it in time. Requests that started
before it are the baseline, those that started during it are compared with them (p50, p99, max,
and how many took longer than 100 ms). Nothing else runs in between, so both sides see the same
machine.

Usage: bench/pipeline_under_load.py [--rows 100000] [--connections 4] [--baseline 8] [--bin PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "How are rows kept while the pipeline runs?"}], "max_tokens": 16})

CONFIG = """
store: sqlite:{db}
server: {{port: {port}}}
providers:
  - {{name: sim, kind: simulator}}
endpoints:
  - name: bench
    config:
      served_entities:
        - name: bench-a
          external_model: {{provider: sim, name: gpt-sim}}
pipeline: {{interval_seconds: {interval}}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Load:
    """Closed-loop clients: each sends the next request when the last one is answered."""

    def __init__(self, port: int, connections: int):
        self.port = port
        self.samples: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(connections)]

    def client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        mine = []
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                connection.request("POST", "/v1/chat/completions", BODY, {"Content-Type": "application/json"})
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except OSError:
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            mine.append((start, time.monotonic() - start, status))
        with self.lock:
            self.samples += mine

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> list[tuple[float, float, int]]:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        return self.samples


def describe(name: str, latencies: list[float]) -> dict:
    figures = {
        "requests": len(latencies), "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000, "over_100ms": sum(1 for x in latencies if x > 0.1),
    }
    print("%-22s %9d %9.2f %9.2f %9.1f %11d" % (name, figures["requests"], figures["p50_ms"], figures["p99_ms"], figures["max_ms"], figures["over_100ms"]))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--baseline", type=int, default=8, help="seconds of load before the pipeline update starts")
    parser.add_argument("--bin", default=str(ROOT / ".build" / "release" / "tollgate"))
    parser.add_argument("--json", help="also write the figures as JSON to this path")
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit("no binary at %s: swift build -c release" % args.bin)

    with tempfile.TemporaryDirectory(prefix="tollgate-pipeline-load.") as tmp:
        db = Path(tmp) / "store.db"
        subprocess.run([args.bin, "pipeline", "status", "--store", "sqlite:%s" % db], check=True, capture_output=True)
        print("[load] generating %d bronze rows" % args.rows, file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "pipeline_data.py"), "--rows", str(args.rows), "--store", str(db)],
                       check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        config = Path(tmp) / "tollgate.yaml"
        config.write_text(CONFIG.format(db=db, port=port, interval=args.baseline + 1))
        log_path = Path(tmp) / "serve.log"
        log = log_path.open("w")
        server = subprocess.Popen([args.bin, "serve", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.time() > deadline or server.poll() is not None:
                        sys.exit("tollgate did not start:\n" + log_path.read_text()[-3000:])
                    time.sleep(0.1)
            load = Load(port, args.connections)
            load.start()
            print("[load] %d connections; pipeline update due in %d s" % (args.connections, args.baseline + 1), file=sys.stderr, flush=True)
            seconds = None
            deadline = time.monotonic() + args.baseline + 600
            while seconds is None and time.monotonic() < deadline:
                time.sleep(0.05)
                for line in log_path.read_text().splitlines():
                    if "pipeline update" in line and "seconds=" in line:
                        seconds = float(re.search(r"seconds=([0-9.]+)", line).group(1))
                        rows = int(re.search(r"rows=([0-9]+)", line).group(1))
            end = time.monotonic()
            time.sleep(1.0)
            samples = load.finish()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.close()
        if seconds is None:
            sys.exit("no pipeline update was logged:\n" + log_path.read_text()[-3000:])
        start = end - seconds
        first = min(s[0] for s in samples)
        before = [s[1] for s in samples if first + 1 <= s[0] < start]
        during = [s[1] for s in samples if start <= s[0] < end]
        failed = sum(1 for s in samples if s[2] != 200)
        with sqlite3.connect(db) as store:
            bronze = store.execute("SELECT count(*) FROM inference_table").fetchone()[0]
            gold = store.execute("SELECT count(*) FROM gold_requests").fetchone()[0]

    print()
    print("pipeline update inside serve: %d bronze rows in %.2f s (%.0f rows/s) while serving %d connections"
          % (rows, seconds, rows / seconds, args.connections))
    print("%-22s %9s %9s %9s %9s %11s" % ("", "requests", "p50 ms", "p99 ms", "max ms", "> 100 ms"))
    base = describe("before the update", before)
    under = describe("during the update", during)
    print()
    print("p50 ratio during / before: x%.2f; p99 ratio: x%.2f" % (under["p50_ms"] / base["p50_ms"], under["p99_ms"] / base["p99_ms"]))
    print("requests not answered 200: %d of %d" % (failed, len(samples)))
    answered = sum(1 for s in samples if s[2] == 200)
    print("bronze rows after the run: %d (generated %d + answered %d: %s)"
          % (bronze, args.rows, answered, "all recorded" if bronze >= args.rows + answered else "ROWS MISSING"))
    print("gold rows after the first update: %d" % gold)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "seconds": seconds, "before": base, "during": under, "failed": failed,
                                               "bronze": bronze, "gold": gold}, indent=2))
    return 0 if failed == 0 and bronze >= args.rows + answered else 1


if __name__ == "__main__":
    sys.exit(main())
