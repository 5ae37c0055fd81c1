"""The assembler: a background thread that drains the recorder, cuts each thread's events
into windows, joins the accept thread's part of a connection with the worker's, and hands
finished documents to the writer. Nothing here runs on a request's thread."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from tracer import markers as M
from tracer.cspans import CThreadStream
from tracer.document import DocumentBuilder
from tracer.memory import trim
from tracer.names import NameTable
from tracer.thread_stream import Part, ThreadStream

log = logging.getLogger("pylon_trace")
# PYLON_TRACE_DEBUG=1: say what the assembler receives, to find a trace that never came.
DEBUG = os.environ.get("PYLON_TRACE_DEBUG") == "1"

DRAIN_INTERVAL = 0.05
# Building traces is Python work that competes with requests for the GIL: wait for a
# quiet moment (at most this long), and give the GIL back between chunks of events.
MAX_DEFER = 1.0
CHUNK_EVENTS = 500
# Deferring is only for small amounts of work; above this, build without waiting.
DEFER_BELOW_EVENTS = 50_000
TRIM_INTERVAL = 1.0
# A part still waiting for its other half after this long is built (or dropped) alone.
ORPHAN_SECONDS = 30.0
# An accepted connection that never sends a request leaves only its accept part.
IDLE_CONNECTION_SECONDS = 300.0


class Assembler:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.names = NameTable()
        self.streams: dict[int, ThreadStream] = {}
        self.builder = DocumentBuilder(self.names, session.source, session.recorder_name,
                                       session.redact, session.wall_at_zero)
        self._wake = threading.Event()
        self._stopping = False
        self._deadline = 0.0
        self._trimmed_at = 0.0
        self._built_at_trim = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.pending_accept: dict[int, tuple[float, Part]] = {}
        self.pending_worker: dict[int, tuple[float, Part]] = {}
        self.startup_facts: dict[str, Any] | None = None
        self.built = 0
        self.orphaned = 0
        self.failed = 0
        self.listeners: list[Any] = []
        self.backlog = 0  # events drained and not fed yet

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pylon-trace-assembler",
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self.process()
        if DEBUG:
            for ident, stream in self.streams.items():
                log.warning("pylon-trace debug: stream %s window=%s request_open=%s marks=%s "
                            "stack=%d", ident, stream.window_start, stream.request_open,
                            [m[1] for m in stream.marks], stream.depth)
        self._flush_orphans(force=True)

    def stats(self) -> dict[str, int]:
        return {"built": self.built, "orphaned": self.orphaned, "build_failed": self.failed}

    def _run(self) -> None:
        sys.setprofile(None)
        while True:
            self._wake.wait(DRAIN_INTERVAL)
            self._wake.clear()
            self._deadline = time.monotonic() + MAX_DEFER
            self._wait_for_quiet()
            self.process()
            self._trim_when_idle()
            if self._stopping:
                self.process()
                return

    def _trim_when_idle(self) -> None:
        now = time.monotonic()
        if (self.built != self._built_at_trim and now - self._trimmed_at > TRIM_INTERVAL
                and self.session.requests_in_flight() == 0):
            trim()
            self._trimmed_at = now
            self._built_at_trim = self.built

    def _wait_for_quiet(self) -> None:
        """Yield the GIL; while requests run, keep out of their way until the deadline,
        unless work is piling up: then building goes on beside the requests."""
        time.sleep(0)
        while (not self._stopping and self.session.requests_in_flight() > 0
               and time.monotonic() < self._deadline
               and self.session.pending_events() < DEFER_BELOW_EVENTS):
            time.sleep(0.001)

    def process(self) -> None:
        """Drain, cut and build what is complete. Never raises."""
        with self._lock:
            try:
                parts: list[Part] = []
                # Threads dead before the drain have nothing left in the recorder; a thread
                # that dies during this pass may still have events to come (its last idle
                # marker, which cuts its last trace), so its stream must be kept.
                alive_before_drain = {t.ident for t in threading.enumerate()}
                recorder = self.session.recorder
                compiled = self.builder.naming is not None and hasattr(recorder, "drain_blocks")
                drained = recorder.drain_blocks() if compiled else recorder.drain()
                self.backlog = sum(len(events) for _, events in drained)
                for ident, events in drained:
                    stream = self.streams.get(ident)
                    if stream is None:
                        stream = self.streams[ident] = self._new_stream(ident, compiled)
                    if compiled:
                        # C work, a few hundred ns per event: one block at a time is fine.
                        count = len(events)
                        stream.feed(events, parts)
                        self.backlog -= count
                        self._wait_for_quiet()
                        continue
                    for begin in range(0, len(events), CHUNK_EVENTS):
                        chunk = events[begin:begin + CHUNK_EVENTS]
                        stream.feed(chunk, parts)
                        self.backlog -= len(chunk)
                        self._wait_for_quiet()
                self.backlog = 0
                for part in parts:
                    self._on_part(part)
                self._flush_orphans()
                self._forget_dead_threads(alive_before_drain)
            except Exception:
                self.failed += 1
                if self.failed == 1:
                    log.exception("pylon-trace: building traces failed; continuing")

    def _new_stream(self, ident: int, compiled: bool) -> ThreadStream:
        if compiled:
            return CThreadStream(ident, self.names, self.session.max_events,
                                 self.builder.naming)
        return ThreadStream(ident, self.names, self.session.max_events)

    def _on_part(self, part: Part) -> None:
        if DEBUG:
            request = _payload(part, M.REQUEST)
            log.warning("pylon-trace debug: part %s thread=%s marks=%s request=%s",
                        part.kind, part.thread, [m[1] for m in part.marks][:12],
                        request[:3] if request else None)
        if part.kind == "accept":
            conn = _payload(part, M.QUEUED)
            if conn in self.pending_worker:
                self._emit_request(self.pending_worker.pop(conn)[1], part)
            else:
                self.pending_accept[conn] = (time.monotonic(), part)
        elif part.kind == "worker":
            request = _payload(part, M.REQUEST)
            if request is None:
                return  # a connection that closed without sending a request
            conn, index = request[0], request[1]
            if index == 0 and conn in self.pending_accept:
                self._emit_request(part, self.pending_accept.pop(conn)[1])
            elif index == 0:
                self.pending_worker[conn] = (time.monotonic(), part)
            else:
                self._emit_request(part, None)
        elif part.kind == "standalone":
            self._emit_request(part, None)
        elif part.kind == "startup":
            facts = _payload(part, M.STARTUP_END) or {}
            doc = self.builder.startup(part, facts)
            self._deliver(doc, "startup.json")

    def _emit_request(self, worker: Part, accept: Part | None) -> None:
        self._wait_for_quiet()
        try:
            doc = self.builder.request(worker, accept)
        except Exception:
            self.failed += 1
            if self.failed == 1:
                log.exception("pylon-trace: could not build a trace; continuing")
            return
        self._deliver(doc, f"{doc['trace_id']}.json")

    def _deliver(self, doc: dict[str, Any], name: str) -> None:
        self.built += 1
        self.session.writer.submit(doc, name)
        for listener in self.listeners:
            try:
                listener(doc)
            except Exception:
                log.exception("pylon-trace: a trace listener failed")

    def _flush_orphans(self, force: bool = False) -> None:
        now = time.monotonic()
        for conn, (since, part) in list(self.pending_worker.items()):
            if force or now - since > ORPHAN_SECONDS:
                del self.pending_worker[conn]
                self.orphaned += 1
                self._emit_request(part, None)
        for conn, (since, _part) in list(self.pending_accept.items()):
            if force or now - since > IDLE_CONNECTION_SECONDS:
                del self.pending_accept[conn]

    def _forget_dead_threads(self, alive_before_drain: set[int | None]) -> None:
        for ident in list(self.streams):
            if ident not in alive_before_drain:
                del self.streams[ident]


def _payload(part: Part, name: str) -> Any:
    for _t, mark, payload in part.marks:
        if mark == name:
            return payload
    return None
