"""Finding the WSGI layers of an application and putting a probe in front of each.

Middleware keeps its inner application in an attribute (``app``, ``application``,
``wrap_app`` …, or a list ``apps`` for Cascade). Walking those from the outermost object
gives the onion; replacing each inner reference with a probe lets us see, for every
layer, the environ it received, what it passed inwards, and the status and headers it
sent outwards — without touching any layer's code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tracer import markers as M
from tracer.passthrough import pass_through
from tracer.request_record import RECORD_KEY, LayerInfo

log = logging.getLogger("pylon_trace")

INNER_ATTRIBUTES = ("app", "application", "wrap_app", "wrapped_app", "wsgi_app", "next_app")
LIST_ATTRIBUTES = ("apps",)


class LayerProbe:
    """Stands where a layer was referenced; records the visit, then calls the layer."""

    def __init__(self, target: Any, layer: LayerInfo, mark: Callable[[str, Any], None],
                 failed: Callable[[str], None]) -> None:
        self.target = target
        self.layer = layer
        # The recorder's own mark (no wrapper: this runs twice per layer per request);
        # what it raises is caught here and reported through ``failed``.
        self._mark = mark
        self._failed = failed

    @pass_through
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        record = environ.get(RECORD_KEY)
        if record is None:
            return self.target(environ, start_response)
        try:
            visit = record.enter(self.layer, environ)
            self._mark(M.LAYER_ENTER, visit)
        except Exception:  # the tracer must never break the application
            self._failed("layer probe")
            return self.target(environ, start_response)

        def probe_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            visit.status = status
            visit.headers = list(headers)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            result = self.target(environ, probe_start_response)
        except BaseException as exc:
            self._leave(record, visit, environ, exc)
            raise
        self._leave(record, visit, environ, None)
        return result

    def _leave(self, record: Any, visit: Any, environ: dict, exc: BaseException | None) -> None:
        try:
            record.leave(visit, environ, exc)
            self._mark(M.LAYER_EXIT, visit)
        except Exception:  # the tracer must never break the application
            self._failed("layer probe, after the layer returned")

    def __getattr__(self, name: str) -> Any:
        # Code that reaches through the stack for an attribute (app.config) still finds it.
        if name == "target":
            raise AttributeError(name)
        return getattr(self.target, name)


def instrument(app: Any, mark: Callable[[str, Any], None],
               failed: Callable[[str], None] | None = None) -> tuple[Any, list[LayerInfo]]:
    """Probe every layer reachable from ``app``; return the probed root and the layers.
    ``failed(where)`` hears of a probe that failed (by default: logged)."""
    layers: list[LayerInfo] = []
    seen: set[int] = set()
    report = failed or _log_failure
    root = _probe(app, 0, layers, seen, (mark, report), main_chain=True)
    return root, layers


def _log_failure(where: str) -> None:
    log.exception("pylon-trace: %s failed; the request continues untraced there", where)


def _probe(obj: Any, depth: int, layers: list[LayerInfo], seen: set[int],
           hooks: tuple[Callable[[str, Any], None], Callable[[str], None]],
           main_chain: bool) -> Any:
    if isinstance(obj, LayerProbe) or id(obj) in seen:
        return obj
    seen.add(id(obj))
    from tracer.middleware import TracingMiddleware

    if isinstance(obj, TracingMiddleware):
        # A tracing filter already in the pipeline: the server traces, the filter steps aside.
        obj.passive = True
        obj.app = _probe(obj.app, depth, layers, seen, hooks, main_chain)
        return obj
    info = LayerInfo(len(layers), obj, depth, "layer")
    layers.append(info)
    attributes = _own_attributes(obj)
    has_inner = False
    for name in INNER_ATTRIBUTES:
        inner = attributes.get(name)
        if _is_wsgi_callable(inner):
            probe = _probe(inner, depth + 1, layers, seen, hooks, main_chain)
            # Beaker keeps the same app as both ``app`` and ``wrap_app`` and calls the
            # latter: every reference to the inner application must lead to the probe.
            for other, value in list(attributes.items()):
                if value is inner and (other in INNER_ATTRIBUTES or other == name):
                    setattr(obj, other, probe)
            has_inner = True
            break
    if not has_inner:
        for name in LIST_ATTRIBUTES:
            inner_list = attributes.get(name)
            if isinstance(inner_list, list) and inner_list and all(
                _is_wsgi_callable(a) for a in inner_list
            ):
                last = len(inner_list) - 1
                inner_list[:] = [
                    _probe(a, depth + 1, layers, seen, hooks, main_chain and i == last)
                    for i, a in enumerate(inner_list)
                ]
                has_inner = True
                break
    if not has_inner and main_chain:
        info.role = "app"
    return LayerProbe(obj, info, *hooks)


def _own_attributes(obj: Any) -> dict[str, Any]:
    try:
        return vars(obj)
    except TypeError:
        return {}


def _is_wsgi_callable(value: Any) -> bool:
    return value is not None and callable(value) and not isinstance(value, type)


def unwrap(app: Any) -> Any:
    """The object behind a probe (for reading attributes such as ``config``)."""
    return app.target if isinstance(app, LayerProbe) else app
