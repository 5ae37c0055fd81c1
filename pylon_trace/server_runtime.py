"""Starting a traced server from a config file, for `serve`, the walkthrough and the demo.

Startup is traced as its own document: the command, loading the server and the
application through PasteDeploy, make_app and load_environment, each middleware wrap,
and creating and binding the server.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import socket
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import paste.httpserver
from paste.deploy.converters import asbool

from pylon_trace.errors import CliError
from pylon_trace.loading import config_uri, describe, load_app, load_server, server_context
from tracer import markers as M
from tracer.middleware import TracingMiddleware
from tracer.server_adapter import TracingWSGIHandler, instrument_server

_INT_OPTIONS = ("port", "socket_timeout", "threadpool_workers", "threadpool_hung_thread_limit",
                "threadpool_kill_thread_limit", "threadpool_dying_limit",
                "threadpool_spawn_if_under", "threadpool_max_zombie_threads_before_die",
                "threadpool_hung_check_period", "threadpool_max_requests",
                "request_queue_size")
_BOOL_OPTIONS = ("use_threadpool", "daemon_threads")


@dataclass
class RunningServer:
    server: Any
    session: Any
    host: str
    port: int
    facts: dict[str, Any] = field(default_factory=dict)
    runner: Any = None       # a non-Paste server: a blocking callable taking the app
    app: Any = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        if self.server is None:
            self.runner(self.app)
        else:
            self.server.serve_forever()

    def start_thread(self) -> None:
        """Serve from a background thread (walkthrough, demo, tests)."""
        self._thread = threading.Thread(target=self.serve_forever, name="pylon-trace-accept",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish, then flush every trace."""
        if self.server is not None:
            self.server.running = False
            if self._thread is not None:
                self._thread.join(timeout)
            try:
                self.server.socket.close()
            except OSError:
                pass
            pool = getattr(self.server, "thread_pool", None)
            if pool is not None and self._thread is None:
                pool.shutdown()
        if self.session is not None:
            self.session.stop(timeout)


def start_server(ini: str, *, session: Any = None, host: str | None = None,
                 port: int | None = None, nodelay: bool = True,
                 argv: list[str] | None = None) -> RunningServer:
    mark = session.mark if session is not None else _no_mark
    mark(M.STARTUP_STEP, "command")
    uri, here = config_uri(ini)

    # What the config resolves to, for the startup document; not part of the app's startup.
    with session.paused() if session is not None else contextlib.nullcontext():
        server_facts = describe("server", uri, here)
        context = server_context(uri, here)
        app_facts = describe("app", uri, here)

    mark(M.STARTUP_STEP, "load-server")
    load_server(uri, here)  # as ServeCommand does; the runner it returns is replaced below

    mark(M.STARTUP_STEP, "load-app")
    app = load_app(uri, here)

    mark(M.STARTUP_STEP, "server-start")
    layers: list[Any] = []
    if session is not None:
        probed, layers = session.instrument(app)
        app = TracingMiddleware(probed, session, standalone=context.object
                                is not paste.httpserver.server_runner)
    facts = {
        "command": list(argv if argv is not None else sys.argv),
        "config_file": uri[len("config:"):],
        "server": server_facts.facts(),
        "app": app_facts.facts(),
        "app_factory": app_facts.object_name,
        "middleware": [layer.name for layer in layers],
        "python": sys.version.split()[0],
    }
    if context.object is not paste.httpserver.server_runner:
        # Any other PasteDeploy server: trace from the application call only.
        mark(M.STARTUP_END, facts)
        runner = context.create()
        return RunningServer(None, session, host or "?", port or 0, facts, runner, app)
    options = {**context.local_conf}
    if host is not None:
        options["host"] = host
    if port is not None:
        options["port"] = str(port)
    server = _make_paste_server(app, context.global_conf, options, TracingWSGIHandler)
    _stop_gracefully(server)
    if session is not None:
        instrument_server(server, session, nodelay=nodelay)
    elif nodelay:
        _set_nodelay(server)
    bound_host, bound_port = server.server_address[:2]
    facts["bound"] = f"{bound_host}:{bound_port}"
    facts["server_class"] = [f"{c.__module__}.{c.__qualname__}" for c in type(server).__mro__]
    mark(M.STARTUP_END, facts)
    # Startup's objects live as long as the server: keep them out of every later full
    # collection, whose pauses would otherwise land inside some request's timings.
    gc.freeze()
    return RunningServer(server, session, bound_host, bound_port, facts, app=app)


def _make_paste_server(app: Any, global_conf: dict, options: dict, handler: Any) -> Any:
    """What paste.httpserver.server_runner does, but returning the server unstarted."""
    kwargs: dict[str, Any] = dict(options)
    try:
        for name in _INT_OPTIONS:
            if name in kwargs:
                kwargs[name] = int(kwargs[name])
        for name in _BOOL_OPTIONS:
            if name in kwargs:
                kwargs[name] = asbool(kwargs[name])
    except ValueError as exc:
        raise CliError(f"[server:main]: bad value: {exc}") from None
    pool_options = {}
    for name in list(kwargs):
        if name.startswith("threadpool_") and name != "threadpool_workers":
            pool_options[name[len("threadpool_"):]] = kwargs.pop(name)
    if "error_email" not in pool_options and "error_email" in global_conf:
        pool_options["error_email"] = global_conf["error_email"]
    kwargs["threadpool_options"] = pool_options
    if handler is not None:
        kwargs["handler"] = handler
    kwargs["start_loop"] = False
    try:
        return paste.httpserver.serve(app, **kwargs)
    except OSError as exc:
        where = f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 8080)}"
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"{where}: address already in use") from None
        raise CliError(f"{where}: cannot listen: {exc.strerror or exc}") from None
    except TypeError as exc:
        raise CliError(f"[server:main]: {exc}") from None


GRACE_SECONDS = 10.0


def _stop_gracefully(server: Any) -> None:
    """Replace the pool's shutdown: end idle keep-alive waits, let requests in flight
    finish (up to GRACE_SECONDS), and never inject exceptions into busy workers as
    Paste's own shutdown does after half a second."""
    server.pylon_trace = getattr(server, "pylon_trace", None)
    server.pylon_connections = weakref.WeakSet()
    pool = getattr(server, "thread_pool", None)
    if pool is None:
        return

    def shutdown(force_quit_timeout: float = 0) -> None:
        for conn in list(server.pylon_connections):
            try:
                conn.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        for _ in list(pool.workers):
            pool.queue.put(pool.SHUTDOWN)
        deadline = time.monotonic() + GRACE_SECONDS
        for worker in list(pool.workers):
            worker.join(max(0.0, deadline - time.monotonic()))

    pool.shutdown = shutdown


def _set_nodelay(server: Any) -> None:
    original = server.get_request

    def get_request() -> Any:
        conn, address = original()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return conn, address

    server.get_request = get_request


def _no_mark(name: str, payload: Any = None) -> None:
    return None
