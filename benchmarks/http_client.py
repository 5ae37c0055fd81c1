"""The load generator for the HTTP benchmark, run as a separate process so that its
work does not take the server's GIL.

It reads one JSON command per line on stdin and answers one JSON line on stdout:

    {"port": 8080, "path": "/page2", "connections": 4, "requests": 2000, "warmup": 20}
    -> {"elapsed": s, "requests": n, "errors": n, "latencies_ns": [...], "bad": {...}}

Each connection is an http.client HTTP/1.1 keep-alive connection owned by one thread;
the threads share one request budget, so a slow connection does not hold the others.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any


def run(command: dict[str, Any]) -> dict[str, Any]:
    host = command.get("host", "127.0.0.1")
    port = int(command["port"])
    path = command.get("path", "/page2")
    connections = int(command.get("connections", 4))
    total = int(command["requests"])
    warmup = int(command.get("warmup", 10))
    remaining = [total]
    lock = threading.Lock()
    start_barrier = threading.Barrier(connections + 1)
    latencies: list[list[int]] = [[] for _ in range(connections)]
    errors = [0]
    bad: dict[str, int] = {}
    reconnects = [0]

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)

        def one() -> None:
            nonlocal conn
            try:
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    with lock:
                        bad[str(response.status)] = bad.get(str(response.status), 0) + 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                    with lock:
                        reconnects[0] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)

        try:
            for _ in range(warmup):
                one()
        finally:
            start_barrier.wait()
        mine = latencies[index]
        clock = time.perf_counter_ns
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            t0 = clock()
            one()
            mine.append(clock() - t0)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    flat = [value for per_connection in latencies for value in per_connection]
    return {"elapsed": elapsed, "requests": len(flat), "errors": errors[0], "bad": bad,
            "reconnects": reconnects[0], "latencies_ns": flat}


def main() -> int:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        if command.get("quit"):
            break
        try:
            result = run(command)
        except Exception as exc:  # report, do not die: the benchmark is waiting
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
