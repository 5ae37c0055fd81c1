"""The pure-Python call recorder: the readable reference for the compiled one.

The hot path is one closure per thread that appends a tuple to that thread's own list:
no lock, no lookup of the current thread, no decision. Everything else (which calls
matter, which request they belong to) is decided later, off the request's path.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

_clock = time.perf_counter_ns


class PyRecorder:
    name = "py"

    def __init__(self) -> None:
        self._buffers: dict[int, list[tuple[int, str, Any]]] = {}
        self._lock = threading.Lock()
        self._installed = False
        self._drained = 0

    # -- hooks ---------------------------------------------------------------
    def _buffer_for_current_thread(self) -> list[tuple[int, str, Any]]:
        ident = threading.get_ident()
        with self._lock:
            buf = self._buffers.get(ident)
            if buf is None:
                buf = self._buffers[ident] = []
        return buf

    def _make_hook(self) -> Any:
        append = self._buffer_for_current_thread().append
        clock = _clock

        def hook(frame: Any, event: str, arg: Any) -> None:
            # c_call / c_return / c_exception carry the C function; call/return the code.
            if event[1] == "_":
                append((clock(), event, arg))
            else:
                append((clock(), event, frame.f_code))

        return hook

    def _bootstrap(self, frame: Any, event: str, arg: Any) -> None:
        # First event on a new thread: swap in that thread's own closure.
        hook = self._make_hook()
        sys.setprofile(hook)
        hook(frame, event, arg)

    def install(self) -> None:
        self._installed = True
        threading.setprofile(self._bootstrap)
        self.attach_current_thread()

    def uninstall(self) -> None:
        self._installed = False
        threading.setprofile(None)
        self.detach_current_thread()

    def attach_current_thread(self) -> None:
        sys.setprofile(self._make_hook())

    def detach_current_thread(self) -> None:
        sys.setprofile(None)

    # -- markers and draining ---------------------------------------------------
    def mark(self, name: str, payload: Any = None) -> None:
        self._buffer_for_current_thread().append((_clock(), "mark", (name, payload)))

    def drain(self) -> list[tuple[int, list[tuple[int, str, Any]]]]:
        with self._lock:
            items = list(self._buffers.items())
        alive = {t.ident for t in threading.enumerate()}
        taken = []
        for ident, buf in items:
            n = len(buf)
            if n:
                # Slice then delete: the owner thread may append meanwhile, only at the end.
                chunk = buf[:n]
                del buf[:n]
                taken.append((ident, chunk))
                self._drained += n
            elif ident not in alive:
                with self._lock:
                    if self._buffers.get(ident) is buf and not buf:
                        del self._buffers[ident]
        return taken

    def pending(self) -> int:
        """Events buffered and not drained yet (a backlog measure, read without locking)."""
        return sum(len(buf) for buf in list(self._buffers.values()))

    def stats(self) -> dict[str, int]:
        with self._lock:
            pending = sum(len(b) for b in self._buffers.values())
        return {"events": self._drained + pending, "dropped": 0, "pending": pending}
