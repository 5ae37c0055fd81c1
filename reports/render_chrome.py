"""`chrome`: Trace Event Format JSON for Perfetto and chrome://tracing.

One process; one track per recorded thread holding its spans as complete ("X")
events, a "stages" track with the lifecycle stages and a "WSGI layers" track with each
layer visit, both of which nest by construction. Exceptions are instant events on the
thread that raised them. Timestamps are microseconds from the start of the window.
"""

from __future__ import annotations

import json
from typing import Any

from pylon_trace import __version__
from reports.model import Span, Trace
from reports.options import RenderOptions

PID = 1


def _us(ns: int) -> float:
    return ns / 1000


def events(trace: Trace) -> list[dict[str, Any]]:
    tids = {thread.id: i + 1 for i, thread in enumerate(trace.threads)}
    for span in trace.walk():  # a thread missing from the threads list still gets a track
        tids.setdefault(span.thread, len(tids) + 1)
    stages_tid = len(tids) + 1
    layers_tid = len(tids) + 2

    out: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": PID, "tid": 0, "ts": 0,
         "args": {"name": f"pylon-trace {trace.title}"}},
    ]
    names = {thread.id: f"{thread.id} {thread.label}" for thread in trace.threads}
    tracks = [(tid, names.get(thread_id, thread_id)) for thread_id, tid in tids.items()]
    tracks += [(stages_tid, "stages"), (layers_tid, "WSGI layers")]
    for tid, name in tracks:
        out.append({"ph": "M", "name": "thread_name", "pid": PID, "tid": tid, "ts": 0,
                    "args": {"name": name}})
        out.append({"ph": "M", "name": "thread_sort_index", "pid": PID, "tid": tid, "ts": 0,
                    "args": {"sort_index": tid}})

    for stage in trace.stages:
        out.append({"ph": "X", "name": stage.name, "cat": "stage", "pid": PID,
                    "tid": stages_tid, "ts": _us(stage.start), "dur": _us(stage.duration),
                    "args": {"thread": stage.thread}})
    for layer in trace.layers:
        args: dict[str, Any] = {"type": layer.type, "depth": layer.depth, "visit": layer.visit,
                                "status": layer.status, "ms_in": layer.time_in / 1e6,
                                "ms_out": layer.time_out / 1e6}
        out.append({"ph": "X", "name": layer.name, "cat": "layer", "pid": PID,
                    "tid": layers_tid, "ts": _us(layer.enter),
                    "dur": _us(layer.exit - layer.enter), "args": args})
    by_id = {}
    # The span an exception came out of: the one the document names, or else the last
    # (innermost, in depth-first order) span marked with it.
    raised_from: dict[int, int] = {}
    for span in trace.walk():
        by_id[span.id] = span
        span_args: dict[str, Any] = {"stage": span.stage, "self_ms": span.self_ns / 1e6}
        if span.file is not None:
            span_args["file"] = span.file
            span_args["line"] = span.line
        if span.calls > 1:
            span_args["calls"] = span.calls
        if span.clipped:
            span_args["clipped"] = True
        out.append({"ph": "X", "name": span.name, "cat": span.kind, "pid": PID,
                    "tid": tids[span.thread], "ts": _us(span.start), "dur": _us(span.total),
                    "args": span_args})
        if span.exception is not None:
            raised_from[span.exception] = span.id
    last_named: dict[str, Span] = {}
    for span in by_id.values():
        last_named[span.name] = span
    for exc in trace.exceptions:
        source = by_id.get(exc.span) if exc.span is not None else None
        source = source or by_id.get(raised_from.get(exc.index, -1))
        if source is None and exc.raised_in is not None:
            source = last_named.get(exc.raised_in)  # the last call of the raising function
        if source is None:
            continue
        out.append({"ph": "i", "s": "t", "name": f"{exc.type}: {exc.message}",
                    "cat": "exception", "pid": PID, "tid": tids[source.thread],
                    "ts": _us(source.end),
                    "args": {"handled_by": exc.handled_by, "through": list(exc.through)}})
    return out


def render(trace: Trace, options: RenderOptions) -> str:
    document = {
        "traceEvents": events(trace),
        "displayTimeUnit": "ms",
        "otherData": {"trace_id": trace.trace_id, "kind": trace.kind,
                      "started_at": trace.started_at, "exporter": f"pylon-trace {__version__}",
                      "filters": list(trace.filters)},
    }
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")) + "\n"
