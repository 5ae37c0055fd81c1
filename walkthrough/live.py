"""A live, traced run: start the server in this process, send real HTTP requests, collect
the traces.

The session starts before the server so that startup is traced too; every request goes
over its own connection with ``Connection: close``, so its trace runs from the accept to
the worker's return and includes closing the connection.
"""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pylon_trace.errors import CliError
from pylon_trace.server_runtime import RunningServer, start_server
from tracer.layers import unwrap
from tracer.session import TraceSession, set_shared_session
from tracer.trace_format import load_trace

TRACE_HEADER = "X-Pylon-Trace-Id"
TRACE_WAIT_SECONDS = 20.0


@dataclass
class Fetched:
    """One request as the client saw it, and the trace the server wrote for it."""

    path: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    trace_id: str
    trace_path: str
    doc: dict[str, Any]
    note: str = ""
    version: str = "HTTP/1.1"

    @property
    def status_line(self) -> str:
        return f"{self.status} {self.reason}"

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class LiveRun:
    """A started server with its session; what it fetched and what startup recorded."""

    running: RunningServer
    session: TraceSession
    fetched: list[Fetched] = field(default_factory=list)

    @property
    def facts(self) -> dict[str, Any]:
        return self.running.facts

    @property
    def trace_dir(self) -> str:
        return self.session.trace_dir

    def application(self) -> Any:
        """The object make_app returned, behind the tracing middleware and probes."""
        app = self.running.app
        inner = getattr(app, "app", app)  # TracingMiddleware keeps the probed root in .app
        return unwrap(inner)

    def fetch(self, path: str, headers: Mapping[str, str] | None = None,
              note: str = "") -> Fetched:
        conn = http.client.HTTPConnection(self.running.host, self.running.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Connection": "close", **(headers or {})})
            response = conn.getresponse()
            body = response.read()
            reply = (response.status, response.reason, response.getheaders())
            version = "HTTP/1.0" if response.version == 10 else "HTTP/1.1"
        except (OSError, http.client.HTTPException) as exc:
            raise CliError(f"GET {path}: {exc}") from None
        finally:
            conn.close()
        status, reason, header_list = reply
        trace_id = next((v for k, v in header_list if k.lower() == TRACE_HEADER.lower()), None)
        if trace_id is None:
            raise CliError(f"GET {path}: the response has no {TRACE_HEADER} header")
        trace_path = os.path.join(self.trace_dir, f"{trace_id}.json")
        doc = load_trace(wait_for_file(trace_path))
        fetched = Fetched(path, status, reason, list(header_list), body, trace_id, trace_path,
                          doc, note, version)
        self.fetched.append(fetched)
        return fetched

    def startup_path(self) -> str:
        return os.path.join(self.trace_dir, "startup.json")


def wait_for_file(path: str, timeout: float = TRACE_WAIT_SECONDS) -> str:
    """The writer renames a finished trace into place: once it exists it is whole."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise CliError(f"{path}: the trace was not written within {timeout:.0f} s")
        time.sleep(0.01)
    return path


@contextmanager
def live_run(ini: str, trace_dir: str, command: list[str],
             on_started: Callable[[LiveRun], None] | None = None) -> Iterator[LiveRun]:
    """Serve ``ini`` traced on an ephemeral loopback port for the duration of the block.

    On leaving, the server stops and every trace is flushed, startup.json included.
    """
    session = TraceSession(trace_dir=trace_dir, calls=True)
    set_shared_session(session)
    session.start()
    try:
        running = start_server(ini, session=session, host="127.0.0.1", port=0, argv=command)
    except BaseException:
        session.stop()
        set_shared_session(None)
        raise
    if running.server is None:
        running.stop()
        set_shared_session(None)
        use = running.facts.get("server", {}).get("use", "?")
        raise CliError(f"{ini}: [server:main] uses {use}; the walkthrough follows Paste's "
                       "thread-pool server (use = egg:Paste#http)")
    running.start_thread()
    run = LiveRun(running, session)
    try:
        if on_started is not None:
            on_started(run)
        yield run
    finally:
        running.stop()
        set_shared_session(None)
