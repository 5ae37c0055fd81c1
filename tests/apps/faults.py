"""A plain WSGI application that fails in the ways a server meets in the wild."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator


def fault_app(environ: dict, start_response: Callable) -> Iterator[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/body-fails":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _fails_after_first_chunk()
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _big_slow_body()
    body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return iter([body])


def _fails_after_first_chunk() -> Iterator[bytes]:
    yield b"first chunk\n"
    raise RuntimeError("body failed after the first chunk")


def _big_slow_body() -> Iterator[bytes]:
    for _ in range(200):
        yield b"x" * 65536
        time.sleep(0.005)


def make_fault_app(global_conf: dict, **local_conf: str) -> Callable:
    return fault_app
