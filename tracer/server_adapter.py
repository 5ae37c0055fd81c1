"""The server adapter for paste.httpserver: where the request begins and ends.

The WSGI middleware cannot see the socket accept, the hand-off to the thread pool, the
request parsing or the connection closing. The adapter announces those moments with
markers, without changing what Paste runs:

- a handler subclass whose methods mark a point and then call Paste's own method, so the
  trace still shows WSGIHandler.handle_one_request, WSGIHandlerMixin.wsgi_execute …;
- instance attributes wrapping the server's get_request and process_request, the pool's
  add_task and its queue's get: one marker each, then the original call.

It also sets TCP_NODELAY on accepted sockets (unless asked not to): Paste writes headers
and body in separate sends, and without it a keep-alive client's delayed ACK stalls every
response by about 40 ms.
"""

from __future__ import annotations

import itertools
import socket
import threading
from typing import Any

from paste.httpserver import WSGIHandler

from tracer import markers as M
from tracer.passthrough import pass_through
from tracer.request_record import TRACE_ID_KEY

_local = threading.local()


class TracingWSGIHandler(WSGIHandler):
    """Paste's WSGIHandler, announcing request arrival, environ set-up and the end."""

    @pass_through
    def handle_one_request(self) -> None:
        session = getattr(self.server, "pylon_trace", None)
        if session is None or not session.active:
            return super().handle_one_request()
        conn_id = getattr(_local, "conn_id", None)
        index = getattr(_local, "index", 0)
        try:
            # Wait for the request's first bytes here, so a keep-alive connection's idle
            # time is not counted as parsing.
            arrived = self.rfile.peek(1)
        except (OSError, ValueError):
            arrived = b""
        if not arrived:
            return super().handle_one_request()
        trace_id = session.new_trace_id()
        self._pylon_trace_id = trace_id
        self._pylon_wire: list[bytes] = []
        self._pylon_status = None
        session.request_started()
        _local.index = index + 1
        calls_paused = session.pause_calls_if_backlogged()
        session.mark(M.REQUEST, (conn_id, index, trace_id, calls_paused))
        try:
            super().handle_one_request()
        finally:
            session.mark(M.REQUEST_END, (conn_id, index, not self.close_connection,
                                         self._wire_info()))
            session.request_finished()
            if calls_paused:
                session.resume_calls()

    @pass_through
    def setup(self) -> None:
        super().setup()
        # Known connections can be shut down when the server stops: a worker waiting on
        # an idle keep-alive connection would otherwise keep the process alive.
        connections = getattr(self.server, "pylon_connections", None)
        if connections is not None:
            connections.add(self.connection)

    @pass_through
    def wsgi_execute(self, environ: dict | None = None) -> None:
        session = getattr(self.server, "pylon_trace", None)
        if session is not None and session.active:
            session.mark(M.ENVIRON)
            extra = {TRACE_ID_KEY: getattr(self, "_pylon_trace_id", None)}
            if environ:
                extra.update(environ)
            environ = extra
        return super().wsgi_execute(environ)

    @pass_through
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # http.server reports every status here, even an HTTP/0.9 answer that has no
        # status line on the wire (a request line it could not parse).
        self._pylon_status = code
        super().log_request(code, size)

    @pass_through
    def end_headers(self) -> None:
        wire = getattr(self, "_pylon_wire", None)
        if wire is not None:
            wire.extend(getattr(self, "_headers_buffer", []))
        super().end_headers()

    def _wire_info(self) -> dict[str, Any]:
        try:
            headers = list(self.headers.items()) if getattr(self, "headers", None) else []
            lines = b"".join(getattr(self, "_pylon_wire", [])).decode("latin-1").split("\r\n")
            status_line = lines[0] if lines and lines[0] else ""
            code = getattr(self, "_pylon_status", None)
            if not status_line and code not in (None, "-"):
                status_line = f"HTTP/0.9 {int(code)} {self.responses.get(int(code), ('',))[0]}"
            response_headers = []
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    response_headers.append((name, value.strip()))
            host, port = self.client_address[:2]
            return {
                "requestline": getattr(self, "requestline", ""),
                "command": getattr(self, "command", None),
                "path": getattr(self, "path", None),
                "request_version": getattr(self, "request_version", None),
                "headers": headers,
                "client": f"{host}:{port}",
                "response_status": status_line.split(" ", 1)[1] if " " in status_line else "",
                "response_headers": response_headers,
            }
        except Exception:
            return {}


def instrument_server(server: Any, session: Any, nodelay: bool = True) -> None:
    """Wrap the server's accept and hand-off points with markers (instance attributes)."""
    server.pylon_trace = session
    connection_ids = itertools.count(1)
    pending: dict[int, int] = {}
    mark = session.mark

    original_get_request = server.get_request
    original_process_request = server.process_request

    @pass_through
    def get_request() -> tuple[Any, Any]:
        mark(M.ACCEPT)
        conn, address = original_get_request()
        if nodelay:
            try:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass
        conn_id = next(connection_ids)
        pending[id(conn)] = conn_id
        try:
            client = f"{address[0]}:{address[1]}"
        except (IndexError, TypeError):
            client = str(address)
        mark(M.ACCEPTED, (conn_id, client))
        return conn, address

    @pass_through
    def process_request(request: Any, client_address: Any) -> None:
        conn_id = pending.pop(id(request), None) or next(connection_ids)
        server.pylon_current_conn = conn_id
        mark(M.QUEUE, conn_id)
        try:
            original_process_request(request, client_address)
        finally:
            mark(M.QUEUED, conn_id)

    server.get_request = get_request
    server.process_request = process_request

    pool = getattr(server, "thread_pool", None)
    if pool is None:
        return
    original_add_task = pool.add_task
    original_get = pool.queue.get

    @pass_through
    def add_task(task: Any) -> None:
        conn_id = getattr(server, "pylon_current_conn", None)

        def traced_task() -> None:
            _local.conn_id = conn_id
            _local.index = 0
            mark(M.TASK, conn_id)
            try:
                task()
            finally:
                mark(M.TASK_END, conn_id)

        original_add_task(traced_task)

    @pass_through
    def get(*args: Any, **kwargs: Any) -> Any:
        mark(M.IDLE)
        return original_get(*args, **kwargs)

    pool.add_task = add_task
    pool.queue.get = get
