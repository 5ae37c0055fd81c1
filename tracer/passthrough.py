"""Which of our own frames call through to the application.

Our hook code is hidden from traces. Most of it is bookkeeping, hidden with everything it
calls. A few functions stand between two pieces of the application (a layer probe, a
wrapped start_response, the task wrapper): they are hidden, but what they call is the
application's and stays in the trace, attached to the nearest visible caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

PASS_THROUGH_CODES: set[Any] = set()


def pass_through(func: F) -> F:
    """Mark ``func`` and the functions defined inside it (wrapped start_response
    callables, task wrappers) as pass-through, once, when ``func`` is defined: decorating
    the inner functions themselves would run on every request."""
    _register(func.__code__)
    return func


def _register(code: Any) -> None:
    PASS_THROUGH_CODES.add(code)
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            _register(constant)
