#!/usr/bin/env python3
"""Paired latency at one connection: requests sent to the sides in turn (each round every side
once, in a shuffled order), one at a time, so every side sees the same moments of a noisy machine. Each side holds several
keep-alive connections (`--connections`, 8) used in rotation: a connection stays on one of the
server's event loops, and a single one would measure that loop's luck as much as the side. Prints each side's p50 and, for each side after the first, the median of the per-round
differences to its reference side, which is what a "within 0.05 ms" target needs.

Usage: paired_latency.py --rounds N --warmup N [--connections N] NAME=URL=BODY_FILE[=REFERENCE] ...
  URL is http://127.0.0.1:PORT/path; BODY_FILE holds the JSON body to POST; REFERENCE names the
  side a side is compared with (default: the first side).
Prints JSON: {"sides": {NAME: {"p50_ms": …}}, "paired": {NAME: {"reference": …, "median_diff_ms": …}}}.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import time
from urllib.parse import urlsplit


class Connection:
    def __init__(self, name: str, url: str, body: bytes):
        self.name = name
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {self.address[0]}:{self.address[1]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.sock = socket.create_connection(self.address, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"{self.name}: connection closed")
        self.buffer += chunk

    def once(self) -> float:
        start = time.perf_counter_ns()
        self.sock.sendall(self.request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 200"):
            raise RuntimeError(f"{self.name}: {lines[0]}")
        headers = {key.strip().lower(): value.strip() for key, _, value in (line.partition(":") for line in lines[1:])}
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._fill()
            self.buffer = self.buffer[length:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill()
                size_line, rest = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    self._fill()
                    rest = self.buffer.split(b"\r\n", 1)[1]
                self.buffer = rest[size + 2:]
                if size == 0:
                    break
        else:
            raise RuntimeError(f"{self.name}: a response without a length")
        return (time.perf_counter_ns() - start) / 1e6


class Side:
    def __init__(self, name: str, url: str, body: bytes, reference: str | None, connections: int):
        self.name, self.reference = name, reference
        self.connections = [Connection(name, url, body) for _ in range(connections)]
        self.times: list[float] = []

    def once(self, round_index: int) -> float:
        return self.connections[round_index % len(self.connections)].once()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("sides", nargs="+")
    args = parser.parse_args()
    sides: list[Side] = []
    for spec in args.sides:
        parts = spec.split("=")
        if len(parts) not in (3, 4):
            parser.error(f"{spec}: expected NAME=URL=BODY_FILE[=REFERENCE]")
        with open(parts[2], "rb") as body:
            sides.append(Side(parts[0], parts[1], body.read(), parts[3] if len(parts) == 4 else None, max(1, args.connections)))
    # The order changes every round: a request that follows another side's pays for that side's
    # work after its answer (recording, on the same cores), and no side may always be second.
    shuffler = random.Random(12345)
    for round_index in range(args.warmup + args.rounds):
        order = list(sides)
        shuffler.shuffle(order)
        for side in order:
            elapsed = side.once(round_index)
            if round_index >= args.warmup:
                side.times.append(elapsed)
    by_name = {side.name: side for side in sides}
    result = {"rounds": args.rounds, "sides": {}, "paired": {}}
    for side in sides:
        result["sides"][side.name] = {"p50_ms": statistics.median(side.times), "p99_ms": sorted(side.times)[int(len(side.times) * 0.99)]}
    for side in sides[1:]:
        reference = by_name[side.reference or sides[0].name]
        diffs = [mine - theirs for mine, theirs in zip(side.times, reference.times)]
        result["paired"][side.name] = {"reference": reference.name, "median_diff_ms": statistics.median(diffs)}
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
