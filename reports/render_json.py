"""`json`: the trace re-emitted after the filters, in the same `pylon-trace/1` schema.

Spans keep every key they had (readers ignore unknown keys, so none is dropped); a
span whose parent was filtered out hangs from its nearest kept ancestor. Layers are
renumbered when a thread filter removed some, and references to spans that are gone
become null. A top-level `filtered` object says what was applied.
"""

from __future__ import annotations

import json
from typing import Any

from reports.model import Trace
from reports.options import RenderOptions


def document(trace: Trace) -> dict[str, Any]:
    doc = dict(trace.doc)
    kept_layers = {layer.index: new for new, layer in enumerate(trace.layers)}

    depth: dict[int, int] = {}
    spans: list[dict[str, Any]] = []
    for span in trace.walk():
        raw = dict(span.raw)
        raw["parent"] = span.parent.id if span.parent is not None else None
        depth[span.id] = depth[span.parent.id] + 1 if span.parent is not None else 0
        if "layer" in raw:
            if span.layer in kept_layers:
                raw["layer"] = kept_layers[span.layer]
            else:
                del raw["layer"]
        spans.append(raw)
    # The format orders spans by start, then depth, which also puts parents first.
    spans.sort(key=lambda raw: (raw["start_ns"], depth[raw["id"]]))
    span_ids = set(depth)

    raw_layers = doc.get("layers", [])
    layers = []
    for layer in trace.layers:
        raw = dict(raw_layers[layer.index])
        raw["index"] = kept_layers[layer.index]
        raw["parent"] = kept_layers.get(layer.parent) if layer.parent is not None else None
        if layer.span not in span_ids:
            raw["span"] = None
        layers.append(raw)

    exceptions = []
    for exc, raw_exception in zip(trace.exceptions, doc.get("exceptions", []), strict=False):
        raw = dict(raw_exception)
        if "span" in raw and exc.span not in span_ids:
            raw["span"] = None
        exceptions.append(raw)

    raw_stages = doc.get("stages", [])
    doc["spans"] = spans
    doc["stages"] = [raw_stages[stage.index] for stage in trace.stages]
    doc["layers"] = layers
    doc["exceptions"] = exceptions
    if isinstance(doc.get("stats"), dict):
        doc["stats"] = dict(doc["stats"], spans=len(spans))
    if trace.filters:
        doc["filtered"] = {"filters": list(trace.filters), "hidden_spans": trace.hidden_spans}
    return doc


def render(trace: Trace, options: RenderOptions) -> str:
    return json.dumps(document(trace), ensure_ascii=True, separators=(",", ":")) + "\n"
