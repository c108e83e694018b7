"""Streams a simulated answer through a gateway, one request at a time on one kept-alive
connection, and prints JSON: the p50 time to the first content chunk and to the end of the
stream. bench/run.sh runs it against the ungoverned and the governed gateway.

Usage: python3 bench/stream_ttft.py BASE_URL [KEY [MODEL]]   (MODEL defaults to bench-stream)
Environment: BENCH_STREAM_REQUESTS (default 100), BENCH_STREAM_TOKENS_PER_SECOND (reported only).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import urlparse

def body(model: str) -> bytes:
    return json.dumps({
        "model": model, "stream": True,
        "messages": [{"role": "user", "content": "Explain in a few sentences why streamed answers feel faster to the people who read them."}],
    }).encode()


def one(conn: http.client.HTTPConnection, key: str, payload: bytes) -> tuple[float, float]:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=payload, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"the stream answered HTTP {response.status}: {response.read()[:300]!r}")
    first = None
    for line in response:
        line = line.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if first is None and any((choice.get("delta") or {}).get("content") for choice in chunk.get("choices", [])):
            first = time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - start) * 1000, (end - start) * 1000


def main() -> None:
    base, key = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    payload = body(sys.argv[3] if len(sys.argv) > 3 else "bench-stream")
    count = int(os.environ.get("BENCH_STREAM_REQUESTS", "100"))
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    one(conn, key, payload)  # warm-up
    samples = [one(conn, key, payload) for _ in range(count)]
    print(json.dumps({
        "requests": count,
        "tokens_per_second": float(os.environ.get("BENCH_STREAM_TOKENS_PER_SECOND", "200")),
        "ttft_p50_ms": statistics.median(s[0] for s in samples),
        "total_p50_ms": statistics.median(s[1] for s in samples),
    }))


if __name__ == "__main__":
    main()
