"""The tracing WSGI middleware: the outermost layer of every traced application.

Under ``pylon-trace serve`` it is one part of the picture (the server adapter sees the
socket, the thread pool and the HTTP parsing). As a PasteDeploy filter in any other
server it works alone: the trace window starts at the application call and ends when the
server closes the body.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from tracer import markers as M
from tracer.passthrough import pass_through
from tracer.request_record import RECORD_KEY, TRACE_ID_KEY, RequestRecord

log = logging.getLogger("pylon_trace")

TRACE_ID_HEADER = "X-Pylon-Trace-Id"


class TracingMiddleware:
    def __init__(self, app: Any, session: Any, standalone: bool = True) -> None:
        self.app = app
        self.session = session
        self.standalone = standalone
        self.passive = False
        # A standalone filter probes its inner layers on the first request, so that a
        # server that traces by itself can make it passive before that.
        self._instrumented = not standalone
        self._instrument_lock = threading.Lock()

    @pass_through
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        session = self.session
        if self.passive or session is None or not session.active:
            return self.app(environ, start_response)
        if not self._instrumented:
            self._instrument()
        try:
            record = RequestRecord(environ.get(TRACE_ID_KEY) or session.new_trace_id(),
                                   self.standalone)
            record.environ = dict(environ)
            environ[RECORD_KEY] = record
            if self.standalone:
                session.begin_standalone(record)
            session.mark(M.APP_CALL, record)
        except Exception:
            session.hook_failed("tracing middleware")
            return self.app(environ, start_response)

        def traced_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            headers = list(headers)
            headers.append((TRACE_ID_HEADER, record.trace_id))
            record.status = status
            record.headers = headers
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, traced_start_response)
        except BaseException as exc:
            record.app_exception = exc
            session.mark(M.APP_RETURN, record)
            self._finish(record)
            raise
        session.mark(M.APP_RETURN, record)
        return TracedBody(result, record, self)

    def _instrument(self) -> None:
        with self._instrument_lock:
            if self._instrumented:
                return
            try:
                self.app, _layers = self.session.instrument(self.app)
            except Exception:
                self.session.hook_failed("layer discovery")
            self._instrumented = True

    def _finish(self, record: RequestRecord) -> None:
        if self.standalone:
            self.session.mark(M.STANDALONE_END, record)
            self.session.end_standalone(record)


class TracedBody:
    """The body as the server iterates it: counts bytes, notes failures, marks close."""

    def __init__(self, result: Any, record: RequestRecord, owner: TracingMiddleware) -> None:
        self._result = result
        self._iterator: Iterator | None = None
        self._record = record
        self._owner = owner
        self._closed = False

    def __iter__(self) -> TracedBody:
        return self

    @pass_through
    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = iter(self._result)
        try:
            chunk = next(self._iterator)
        except StopIteration:
            raise
        except BaseException as exc:
            self._record.body_exception = exc
            raise
        self._record.body_bytes += len(chunk)
        return chunk

    @pass_through
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        owner = self._owner
        owner.session.mark(M.CLOSE, self._record)
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            owner._finish(self._record)

    def __del__(self) -> None:
        # A server that never calls close() (against PEP 3333) must not leave the trace open.
        if not self._closed and sys is not None:
            try:
                self.close()
            except Exception:
                pass


def make_trace_filter(app: Any, global_conf: dict, **local_conf: str) -> TracingMiddleware:
    """PasteDeploy ``paste.filter_app_factory``: ``[filter:trace] use = egg:pylon-trace#trace``.

    Options: ``trace_dir`` (default ./traces), ``calls`` (true: record every call; false:
    stages and layers only), ``redact`` (default true), ``max_events``.
    """
    from paste.deploy.converters import asbool

    from tracer.session import TraceSession, shared_session

    options = {**global_conf, **local_conf}
    session = shared_session(
        trace_dir=options.get("trace_dir", "traces"),
        calls=asbool(options.get("calls", True)),
        redact=asbool(options.get("redact", True)),
        max_events=int(options.get("max_events", TraceSession.DEFAULT_MAX_EVENTS)),
    )
    return TracingMiddleware(app, session, standalone=True)
