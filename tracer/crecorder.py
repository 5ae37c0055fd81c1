"""The compiled call recorder: tracer/pyrecorder.py's behaviour with a C profile hook.

The C module (tracer/_crecorder.c) keeps each thread's events as 16-byte structs in
chunked buffers and builds the ``(time_ns, event, obj)`` tuples only in ``drain()``, on
the assembler's thread. ``mark``, ``drain``, ``pending``, ``stats``,
``attach_current_thread`` and ``detach_current_thread`` are C methods; this class adds
what needs the threading module.

Two things differ from the Python recorder, neither visible in a trace:

- where the kernel drives CLOCK_MONOTONIC from the TSC, the hook stores TSC ticks and
  ``drain()`` maps them to ``perf_counter_ns`` nanoseconds (``_crecorder.CLOCK`` says
  which; PYLON_TRACE_CLOCK=monotonic forbids the TSC);
- a C method called on an instance is recorded with the first bound method of that
  method and type seen by the thread since the last drain, not the one CPython made for
  that call: same function, same owner type, same name; far less memory and time.

Importing this module raises ImportError when the extension was not built; make_recorder
then falls back to the Python recorder (or refuses, when PYLON_TRACE_CORE=c).
"""

from __future__ import annotations

import threading

from tracer._crecorder import Recorder as _Recorder


class CRecorder(_Recorder):
    __slots__ = ()
    name = "c"

    def install(self) -> None:
        # New threads start with this C callable as their profile function; their first
        # event swaps in the C hook with that thread's own buffer.
        threading.setprofile(self._bootstrap)
        self.attach_current_thread()

    def uninstall(self) -> None:
        threading.setprofile(None)
        self.detach_current_thread()
