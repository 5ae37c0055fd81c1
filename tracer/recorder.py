"""Choosing a call recorder: the compiled one when built, else the pure-Python reference.

A recorder keeps one append-only buffer per thread of flat event tuples

    (time_ns, event, obj)

where ``event`` is one of ``"call" "return" "c_call" "c_return" "c_exception" "mark"``
and ``obj`` is the frame's code object (call/return), the C function (c_*), or a
``(name, payload)`` pair (mark). Times come from ``time.perf_counter_ns``'s clock.

Every recorder offers:

- ``install()`` / ``uninstall()``: the profile hook on this thread and on threads
  started afterwards (``threading.setprofile``);
- ``attach_current_thread()`` / ``detach_current_thread()``: for a thread that already runs;
- ``mark(name, payload)``: append a marker to this thread's buffer, in order with its calls;
- ``drain() -> list[(thread_ident, events)]``: take everything buffered so far;
- ``stats() -> dict``: events recorded and dropped.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from pylon_trace.errors import CliError

CORE_ENV = "PYLON_TRACE_CORE"


class Recorder(Protocol):
    name: str

    def install(self) -> None: ...
    def uninstall(self) -> None: ...
    def attach_current_thread(self) -> None: ...
    def detach_current_thread(self) -> None: ...
    def mark(self, name: str, payload: Any = None) -> None: ...
    def drain(self) -> list[tuple[int, list[tuple[int, str, Any]]]]: ...
    def stats(self) -> dict[str, int]: ...


def compiled_core_available() -> bool:
    try:
        from tracer import _crecorder  # noqa: F401
    except ImportError:
        return False
    return True


def make_recorder(core: str | None = None) -> Recorder:
    """Build the recorder named by ``core`` or $PYLON_TRACE_CORE: "c", "py" or "auto"."""
    choice = (core or os.environ.get(CORE_ENV) or "auto").strip().lower()
    if choice not in ("auto", "c", "py"):
        raise CliError(f"{CORE_ENV}={choice!r}: expected c, py or auto")
    if choice in ("auto", "c"):
        try:
            from tracer.crecorder import CRecorder
        except ImportError as exc:
            if choice == "c":
                raise CliError(
                    f"{CORE_ENV}=c but the compiled recorder is not built ({exc}); "
                    "reinstall with a C compiler present (pip install -e .) or use "
                    f"{CORE_ENV}=py"
                ) from None
        else:
            return CRecorder()
    from tracer.pyrecorder import PyRecorder

    return PyRecorder()
