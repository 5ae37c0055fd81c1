"""Saving trace documents: atomically, privately, off the request's path.

A bounded queue feeds one writer thread; when it is full the builder waits, so the
backlog shows up where recording can react to it (see TraceSession.backlogged). Only a
writer stuck for SUBMIT_TIMEOUT drops traces, counted and logged once: a trace is never
lost silently. Files are written to a
temporary name and renamed, so a reader never sees half a trace; they are readable by
their owner only (0600) in a directory only the owner can list (0700).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tracer.cspans import RawSpans

log = logging.getLogger("pylon_trace")

_STOP = object()


class TraceWriter:
    # json.dumps holds the GIL for the whole document: wait (this long at most) until no
    # request is running, so that serialising never stalls one.
    MAX_DEFER = 1.0
    DEFER_BELOW_QUEUED = 4

    def __init__(self, directory: str, queue_size: int = 256,
                 busy: Callable[[], int] | None = None) -> None:
        self.directory = directory
        self._busy = busy
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self.last_written: str | None = None
        self._warned: set[str] = set()
        self._serial = 0
        # Unique per writer, so a temporary file left by a crashed process never collides.
        self._tmp_prefix = f".tmp-{os.getpid()}-{secrets.token_hex(4)}-"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pylon-trace-writer", daemon=True)
        self._thread.start()

    # The builder waits this long for room; only a writer stuck this long loses traces.
    SUBMIT_TIMEOUT = 30.0

    def submit(self, doc: dict[str, Any], name: str) -> None:
        """Queue a document. The caller (the background builder) waits while the queue is
        full, which holds back the builder and, through its backlog, the recording."""
        try:
            self._queue.put((doc, name), timeout=self.SUBMIT_TIMEOUT)
        except queue.Full:
            self.dropped += 1
            self._warn_once("queue", "pylon-trace: trace writer is stuck; dropping traces "
                            "(count in stats: dropped)")

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def stats(self) -> dict[str, int]:
        return {"written": self.written, "dropped": self.dropped, "write_failed": self.failed}

    def _run(self) -> None:
        sys.setprofile(None)
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            doc, name = item
            if self._busy is not None:
                deadline = time.monotonic() + self.MAX_DEFER
                while (self._busy() and time.monotonic() < deadline
                       and self._queue.qsize() < self.DEFER_BELOW_QUEUED):
                    time.sleep(0.001)
            try:
                self.write_now(doc, name)
            except Exception:
                self.failed += 1
                self._warn_once("bug", "pylon-trace: could not serialise a trace")

    def write_now(self, doc: dict[str, Any], name: str) -> str | None:
        """Write one document; on failure log once per kind of failure, never raise OSError."""
        try:
            data = serialise(doc)
            path = os.path.join(self.directory, name)
            self._serial += 1
            tmp = os.path.join(self.directory, f"{self._tmp_prefix}{self._serial}.json")
            try:
                fd = _create_private(tmp)
            except FileNotFoundError:  # the first trace, or the directory was removed since
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                fd = _create_private(tmp)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            self.failed += 1
            self._warn_once(f"os-{exc.errno}", f"pylon-trace: cannot write traces to "
                            f"{self.directory}: {exc.strerror or exc}; requests are still served")
            return None
        self.written += 1
        self.last_written = path
        return path

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning(message)


def _create_private(path: str) -> int:
    # 0600 and exclusive in one call: never readable by others, not even briefly.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)


# Stands in a document for spans already rendered to JSON (tracer/cspans.py's RawSpans);
# random, so that no string from a request can be mistaken for it.
_SPANS_PLACEHOLDER = f"\x00pylon-trace-spans-{secrets.token_hex(8)}\x00"


def serialise(doc: dict[str, Any]) -> bytes:
    """The document as compact UTF-8 JSON; pre-rendered spans are spliced in as they are."""
    spans = doc.get("spans")
    if not isinstance(spans, RawSpans):
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text = json.dumps({**doc, "spans": _SPANS_PLACEHOLDER}, separators=(",", ":"),
                      ensure_ascii=False)
    head, placeholder, tail = text.partition(json.dumps(_SPANS_PLACEHOLDER))
    if not placeholder:
        raise ValueError("spans placeholder lost in serialisation")
    return "".join((head, spans.text, tail)).encode("utf-8")

