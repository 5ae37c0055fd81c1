"""Giving memory back to the system after bursts of trace building.

Building traces allocates and frees a lot on several threads. glibc keeps freed memory
in per-thread arenas, so the server's resident size would creep up to the high-water
mark of the busiest burst and stay there. Capping the number of arenas and trimming
them when the tracer is idle keeps it near what is live. Elsewhere (no glibc) both are
no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_ARENA_MAX = -8

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _malloc_trim = _libc.malloc_trim
    _mallopt = _libc.mallopt
except (OSError, AttributeError):
    _malloc_trim = None
    _mallopt = None


def limit_arenas(count: int = 2) -> None:
    if _mallopt is not None:
        _mallopt(_M_ARENA_MAX, count)


def trim() -> None:
    if _malloc_trim is not None:
        _malloc_trim(0)
