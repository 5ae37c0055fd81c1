"""TCP_NODELAY: Paste writes a response's headers and body in two sends. Without
TCP_NODELAY (`serve --no-nodelay`, Paste's stock sockets) Nagle's algorithm holds the
second send until the client acknowledges the first, and a keep-alive client delays that
acknowledgement (~40 ms on Linux). With it, keep-alive responses come back at once.

The traces of the stock server show where that time goes: not inside any request. Each
request's window is about a millisecond and its write stage holds both sends, each
returning at once (the kernel queues the body); the ~40 ms is the gap between one
keep-alive trace's end and the next one's start, the worker waiting for a request the
client cannot send before the held-back body arrives."""

from __future__ import annotations

import configparser
import http.client
import statistics
import time
from datetime import datetime
from pathlib import Path

from tests.conftest import SAMPLE_INI, ServeProcess

REQUESTS = 10
SLOW_MS = 20.0


def http11_ini(tmp_path: Path) -> Path:
    """The sample app's config with HTTP/1.1 responses: Paste answers HTTP/1.0 (one
    request per connection) unless told otherwise."""
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(SAMPLE_INI, encoding="utf-8")
    parser.set("server:main", "protocol_version", "HTTP/1.1")
    path = tmp_path / "http11.ini"
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    return path


def keepalive_requests(server: ServeProcess) -> tuple[list[float], list[str]]:
    """Milliseconds per request on one keep-alive connection, and the trace ids."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        for _ in range(2):  # warm-up: first compile, first connection
            conn.request("GET", "/page2")
            conn.getresponse().read()
        took, ids = [], []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            conn.request("GET", "/page2")
            response = conn.getresponse()
            response.read()
            took.append((time.perf_counter() - start) * 1000)
            assert response.status == 200 and response.version == 11
            assert not response.will_close, "the connection must stay open"
            ids.append(response.getheader("X-Pylon-Trace-Id"))
    finally:
        conn.close()  # an open keep-alive connection would hold the server's shutdown
    return took, ids


def gaps_ms(traces: list[dict]) -> list[float]:
    """Time between one request's trace end and the next one's start, same connection."""
    out = []
    for before, after in zip(traces, traces[1:], strict=False):
        assert after["connection"]["id"] == before["connection"]["id"]
        assert after["connection"]["index"] == before["connection"]["index"] + 1
        end = _epoch(before["started_at"]) + before["duration_ns"] / 1e9
        out.append((_epoch(after["started_at"]) - end) * 1000)
    return out


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_nodelay_removes_the_delayed_ack_stall_and_the_trace_shows_where_it_was(
        serve, tmp_path: Path) -> None:
    ini = http11_ini(tmp_path)
    stock = serve(ini, "--no-nodelay")
    stock_ms, stock_ids = keepalive_requests(stock)
    fast = serve(ini)
    fast_ms, fast_ids = keepalive_requests(fast)

    assert statistics.median(stock_ms) > SLOW_MS, stock_ms
    assert statistics.median(fast_ms) < SLOW_MS, fast_ms

    stock_traces = [stock.trace(i) for i in stock_ids]
    fast_traces = [fast.trace(i) for i in fast_ids]
    # The server's own work is quick: the stall is not inside the requests' windows.
    durations = [trace["duration_ns"] / 1e6 for trace in stock_traces]
    assert statistics.median(durations) < SLOW_MS, durations
    send_ms = []
    for trace in stock_traces:
        # The write stage: headers and body, two separate sends, each returning at once
        # (the kernel queues the body; Nagle holds it back until the client's ACK).
        sends = [s for s in trace["spans"]
                 if s["name"] == "socket.socket.sendall" and s["stage"] == "write"]
        assert len(sends) >= 2, [s["name"] for s in trace["spans"] if s["stage"] == "write"]
        send_ms += [(s["end_ns"] - s["start_ns"]) / 1e6 for s in sends]
    assert statistics.median(send_ms) < 1.0, send_ms
    # The stall is between requests: the worker waits for the next request, which the
    # client sends only once the held-back body has arrived.
    assert statistics.median(gaps_ms(stock_traces)) > SLOW_MS, gaps_ms(stock_traces)
    assert statistics.median(gaps_ms(fast_traces)) < SLOW_MS, gaps_ms(fast_traces)
