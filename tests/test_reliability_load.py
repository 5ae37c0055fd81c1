"""Under load: every request gets exactly one complete trace of its own, no worker is
lost, and the server's memory stays flat (issue 7). Loopback only, bounded loops."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from tests.conftest import REPO, SAMPLE_INI

CLIENTS = 16
REQUESTS_PER_CLIENT = 300
ROUTES = ["/page2", "/", "/hello/load", "/counter", "/stream", "/robots.txt", "/nope"]


def keepalive_ini(tmp_path: Path) -> Path:
    """The sample app's config with HTTP/1.1 so that clients can keep connections open."""
    text = SAMPLE_INI.read_text().replace("[server:main]", "[server:main]\n"
                                          "protocol_version = HTTP/1.1")
    text = text.replace("%(here)s", str(REPO / "sample_app"))
    ini = tmp_path / "keepalive.ini"
    ini.write_text(text)
    return ini


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def hammer(host: str, port: int, clients: int, per_client: int, tag: str,
           ) -> tuple[list[tuple[str, str, int]], list[BaseException]]:
    results: list[tuple[str, str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            for i in range(per_client):
                route = ROUTES[(n + i) % len(ROUTES)]
                token = f"{tag}-{n}-{i}"
                conn.request("GET", f"{route}?id={token}")
                response = conn.getresponse()
                response.read()
                with lock:
                    results.append((token, response.getheader("X-Pylon-Trace-Id") or "",
                                    response.status))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results, errors


def wait_for_traces(directory: Path, count: int, timeout: float = 240) -> int:
    deadline = time.monotonic() + timeout
    found = 0
    while time.monotonic() < deadline:
        found = sum(1 for p in directory.glob("*.json") if p.name != "startup.json")
        if found >= count:
            return found
        time.sleep(0.2)
    return found


def test_sixteen_keepalive_clients_each_request_one_complete_trace(serve, tmp_path) -> None:
    server = serve(keepalive_ini(tmp_path))
    started = time.monotonic()
    results, errors = hammer(server.host, server.port, CLIENTS, REQUESTS_PER_CLIENT, "load")
    elapsed = time.monotonic() - started
    assert not errors, errors[:3]
    total = CLIENTS * REQUESTS_PER_CLIENT
    assert len(results) == total
    assert all(status in (200, 404) for _, _, status in results)
    ids = [trace_id for _, trace_id, _ in results]
    assert len(set(ids)) == total and all(ids)
    written = wait_for_traces(server.trace_dir, total)
    server.stop()
    mixed = lost = 0
    workers: set[str] = set()
    calls_recorded = 0
    for token, trace_id, _status in results:
        path = server.trace_dir / f"{trace_id}.json"
        if not path.exists():
            lost += 1
            continue
        trace = json.loads(path.read_text())
        if trace["request"]["query"] != f"id={token}" or len(
                [s for s in trace["stages"] if s["name"] == "parse"]) != 1:
            mixed += 1
        calls_recorded += trace["recorder"] != "none"
        workers.update(t["name"] for t in trace["threads"] if t["role"] != "accept")
    print(f"\nload: {total} requests from {CLIENTS} keep-alive clients in {elapsed:.1f}s "
          f"({total / elapsed:.0f}/s); traces written {written}, lost {lost}, mixed {mixed}, "
          f"with calls {calls_recorded}, worker threads seen {len(workers)}")
    assert lost == 0 and mixed == 0
    # Paste's pool has 10 workers: none died and none was replaced
    assert len(workers) <= 10


def test_memory_does_not_grow_with_requests_served(serve, tmp_path) -> None:
    """After a first burst has set the high-water mark of trace building, thousands more
    traced requests of the same shape must not raise the server's resident memory."""
    server = serve(keepalive_ini(tmp_path))
    pid = server.process.pid
    burst = (8, 300)
    results, errors = hammer(server.host, server.port, *burst, "warm")
    assert not errors
    wait_for_traces(server.trace_dir, burst[0] * burst[1])
    time.sleep(2)
    after_warmup = rss_kb(pid)
    results, errors = hammer(server.host, server.port, *burst, "more")
    assert not errors
    wait_for_traces(server.trace_dir, 2 * burst[0] * burst[1])
    time.sleep(2)
    after_more = rss_kb(pid)
    growth_mb = (after_more - after_warmup) / 1024
    print(f"\nmemory: RSS {after_warmup / 1024:.1f} MB after {burst[0] * burst[1]} traced "
          f"requests, {after_more / 1024:.1f} MB after {2 * burst[0] * burst[1]} "
          f"({growth_mb:+.1f} MB)")
    assert growth_mb < 20
