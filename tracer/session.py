"""A tracing session: the recorder, the assembler that turns events into traces, and the
writer that saves them. One per process is active at a time."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from tracer import markers as M
from tracer.assembler import Assembler
from tracer.layers import instrument
from tracer.memory import limit_arenas
from tracer.recorder import Recorder, make_recorder
from tracer.writer import TraceWriter

log = logging.getLogger("pylon_trace")

SWITCH_INTERVAL = 0.0005

_shared_lock = threading.Lock()
_shared: TraceSession | None = None


class TraceSession:
    DEFAULT_MAX_EVENTS = 500_000
    # Above this many events recorded but not yet built into traces, new requests are
    # recorded without their calls (stages and layers only) until the builder catches up:
    # memory stays bounded when requests arrive faster than traces can be built.
    MAX_BACKLOG_EVENTS = 150_000

    def __init__(self, trace_dir: str = "traces", calls: bool = True, redact: bool = True,
                 max_events: int = DEFAULT_MAX_EVENTS, core: str | None = None,
                 source: str = "server", queue_size: int = 8) -> None:
        self.trace_dir = os.path.abspath(trace_dir)
        self.calls = calls
        self.redact = redact
        self.max_events = max_events
        self.source = source
        # Stages-only sessions record markers alone, but through the same recorder: the
        # compiled one's mark() costs a tenth of the Python one's.
        self.recorder: Recorder = make_recorder(core)
        self.recorder_name = self.recorder.name if calls else "none"
        # The clock pair that turns monotonic event times into wall-clock times.
        self.wall_at_zero = time.time_ns() - time.perf_counter_ns()
        self.writer = TraceWriter(self.trace_dir, queue_size=queue_size,
                                  busy=self.requests_in_flight)
        self.assembler = Assembler(self)
        self.layers: list[Any] = []
        self.active = False
        self._ids = itertools.count(1)
        self._id_prefix = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid() % 100000:05d}"
        self._failures: set[str] = set()
        self._in_flight = 0
        self.degraded = 0
        self._in_flight_lock = threading.Lock()
        self._tls = threading.local()

    # -- life cycle ----------------------------------------------------------------
    def start(self, install_hooks: bool = True) -> None:
        """Start the background threads first, so that the hooks never trace them."""
        # Building and writing traces runs on background threads; a request thread that
        # wants the GIL back then waits up to one switch interval (5 ms by default).
        # Half a millisecond keeps that wait out of the timings being measured.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        limit_arenas()
        self.writer.start()
        self.assembler.start()
        if install_hooks and self.calls:
            self.recorder.install()
        self.active = True

    def stop(self, timeout: float = 10.0) -> None:
        """Uninstall hooks, build what is complete, and write every pending trace."""
        if self.calls:
            try:
                self.recorder.uninstall()
            except Exception:
                pass
        self.active = False
        self.assembler.stop(timeout)
        self.writer.stop(timeout)
        sys.setswitchinterval(getattr(self, "_switch_interval", sys.getswitchinterval()))

    # -- hooks' entry points (must never raise into the application) --------------------
    def mark(self, name: str, payload: Any = None) -> None:
        try:
            self.recorder.mark(name, payload)
        except Exception:
            self.hook_failed("recording a marker")

    def request_started(self) -> None:
        with self._in_flight_lock:
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._in_flight_lock:
            self._in_flight = max(0, self._in_flight - 1)

    def requests_in_flight(self) -> int:
        return self._in_flight

    def pending_events(self) -> int:
        """Events recorded and not yet turned into spans."""
        pending = getattr(self.recorder, "pending", None)
        return (pending() if pending is not None else 0) + self.assembler.backlog

    def backlogged(self) -> bool:
        return self.calls and self.pending_events() > self.MAX_BACKLOG_EVENTS

    def pause_calls_if_backlogged(self) -> bool:
        """Stop recording calls on this thread while the builder is behind; True if paused.

        A plain call, not a context manager: the frames open when the hook goes away never
        report their return, and they must be our own hidden frames, not contextlib's."""
        if not self.backlogged():
            return False
        self.degraded += 1
        self.recorder.detach_current_thread()
        return True

    def resume_calls(self) -> None:
        self.recorder.attach_current_thread()

    def new_trace_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids):06d}"

    def instrument(self, app: Any) -> tuple[Any, list[Any]]:
        probed, layers = instrument(app, self.recorder.mark, self.hook_failed)
        self.layers = layers
        return probed, layers

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Do the tool's own work on this thread (reading config facts) unrecorded."""
        if not self.calls:
            yield
            return
        self.recorder.detach_current_thread()
        try:
            yield
        finally:
            self.recorder.attach_current_thread()

    def hook_failed(self, where: str) -> None:
        if where not in self._failures:
            self._failures.add(where)
            log.exception("pylon-trace: %s failed; the request is served untraced", where)

    def begin_standalone(self, record: Any) -> None:
        attached = False
        if self.calls and threading.current_thread() is not None:
            if sys.getprofile() is None:
                self.recorder.attach_current_thread()
                self.recorder.mark(M.ATTACHED)
                attached = True
        self._tls.attached = attached
        self.request_started()

    def end_standalone(self, record: Any) -> None:
        self.request_finished()
        if getattr(self._tls, "attached", False):
            self.recorder.detach_current_thread()
            self._tls.attached = False
        self.assembler.wake()

    def stats(self) -> dict[str, int]:
        return {**self.assembler.stats(), **self.writer.stats(),
                "calls_not_recorded": self.degraded}


def shared_session(**options: Any) -> TraceSession:
    """The process's active session, or a new standalone one for a tracing filter."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.active:
            _shared = TraceSession(source="middleware", **options)
            _shared.start(install_hooks=False)
        return _shared


def set_shared_session(session: TraceSession | None) -> None:
    global _shared
    with _shared_lock:
        _shared = session
