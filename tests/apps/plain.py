"""Small WSGI applications for tracer tests: no framework, known behaviour."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any


def hello_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    body = f"hello {environ.get('PATH_INFO', '/')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class HeaderLayer:
    """Adds an environ key on the way in and a header on the way out."""

    def __init__(self, app: Callable, name: str = "x-layer") -> None:
        self.app = app
        self.name = name

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        environ["test.layer"] = self.name

        def layer_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            return start_response(status, headers + [("X-Layer", self.name)])

        return self.app(environ, layer_start_response)


class SleepLayer:
    """Sleeps a known time on the way in: a planted cost for accuracy tests."""

    def __init__(self, app: Callable, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        time.sleep(self.seconds)
        return self.app(environ, start_response)


def make_plain_app(global_conf: dict, **local_conf: str) -> Callable:
    return HeaderLayer(hello_app)


def make_header_filter(global_conf: dict, **local_conf: str) -> Callable:
    """A ``paste.filter_factory`` (what ``call:`` means for a filter section)."""
    name = local_conf.get("name", "filter")
    return lambda app: HeaderLayer(app, name)
