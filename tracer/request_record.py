"""What the tracing middleware and the layer probes learn about one request as it runs.

Hooks only copy references and take snapshots here; diffs, names and the document are
worked out later by the assembler, off the request's path.
"""

from __future__ import annotations

from typing import Any

RECORD_KEY = "pylon_trace.record"
TRACE_ID_KEY = "pylon_trace.trace_id"


class LayerInfo:
    """One WSGI layer found when the stack was instrumented."""

    __slots__ = ("index", "name", "type_name", "depth", "role")

    def __init__(self, index: int, obj: Any, depth: int, role: str) -> None:
        kind = obj if isinstance(obj, type) else type(obj)
        if kind.__name__ in ("function", "method", "builtin_function_or_method"):
            self.name = getattr(obj, "__qualname__", getattr(obj, "__name__", "app"))
            self.type_name = f"{getattr(obj, '__module__', '?')}.{self.name}"
        else:
            self.name = kind.__name__
            self.type_name = f"{kind.__module__}.{kind.__qualname__}"
        self.index = index
        self.depth = depth
        self.role = role  # "layer", or "app" for the innermost application


class LayerVisit:
    """One pass of the request through one layer (a subrequest makes a second visit)."""

    __slots__ = ("layer", "parent", "environ_in", "environ_after", "status", "headers",
                 "exception", "children")

    def __init__(self, layer: LayerInfo, parent: LayerVisit | None, environ: dict) -> None:
        self.layer = layer
        self.parent = parent
        self.environ_in = dict(environ)
        self.environ_after: dict | None = None
        self.status: str | None = None
        self.headers: list | None = None
        self.exception: BaseException | None = None
        self.children: list[LayerVisit] = []


class RequestRecord:
    """Per-request state shared by the tracing middleware and the layer probes."""

    def __init__(self, trace_id: str, standalone: bool) -> None:
        self.trace_id = trace_id
        self.standalone = standalone
        self.visits: list[LayerVisit] = []
        self._open: list[LayerVisit] = []
        self.status: str | None = None
        self.headers: list | None = None
        self.body_bytes = 0
        self.body_exception: BaseException | None = None
        self.app_exception: BaseException | None = None
        self.environ: dict | None = None       # the environ as the server built it
        self.wall_start_ns = 0

    def enter(self, layer: LayerInfo, environ: dict) -> LayerVisit:
        parent = self._open[-1] if self._open else None
        visit = LayerVisit(layer, parent, environ)
        if parent is not None:
            parent.children.append(visit)
        self.visits.append(visit)
        self._open.append(visit)
        return visit

    def leave(self, visit: LayerVisit, environ: dict, exc: BaseException | None) -> None:
        if not visit.children:
            visit.environ_after = dict(environ)
        visit.exception = exc
        if self._open and self._open[-1] is visit:
            self._open.pop()
        elif visit in self._open:
            self._open.remove(visit)
