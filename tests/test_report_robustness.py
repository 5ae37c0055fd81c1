"""Documents the validator accepts must render in every format, whatever else they hold.

The validator checks what the span tree needs; the optional parts (layers' diffs and
statuses, exception details, thread names, the startup block…) may be missing or of
any type, and may point at indexes or spans that do not exist. Hypothesis replaces
such fields in the fixture traces with arbitrary JSON values; every renderer must
still produce its output (DOT is rendered to source here; test_report_formats runs dot).
"""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.model import build_trace
from reports.options import RenderOptions
from reports.processors import Filters, apply_filters
from tracer.trace_format import TraceFormatError, validate

DATA = Path(__file__).parent / "data"
RENDERERS = ["timeline", "tree", "stages", "layers", "dot", "sequence", "chrome", "speedscope",
             "json"]
DOCS = {name: json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("notfound", "error", "startup")}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**40) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6,
)
# (where, key): the optional fields a renderer reads.
OPTIONAL = [
    ("layer", "type"), ("layer", "visit"), ("layer", "parent"), ("layer", "span"),
    ("layer", "inner_enter_ns"), ("layer", "inner_exit_ns"), ("layer", "environ"),
    ("layer", "response"), ("layer", "exception"),
    ("span", "file"), ("span", "line"), ("span", "layer"), ("span", "exception"),
    ("span", "calls"), ("span", "clipped"),
    ("stage", "thread"), ("thread", "name"), ("thread", "role"),
    ("exception", "raised_in"), ("exception", "through"), ("exception", "handled_by"),
    ("exception", "span"),
    ("top", "source"), ("top", "recorder"), ("top", "started_at"), ("top", "startup"),
    ("top", "stats"), ("top", "connection"), ("top", "redacted"),
    ("request", "query"), ("request", "http_version"), ("request", "client"),
    ("response", "status_code"), ("response", "body_bytes"),
]


def targets(doc: dict[str, Any], where: str) -> list[dict[str, Any]]:
    if where == "top":
        return [doc]
    if where in ("request", "response"):
        return [doc[where]] if isinstance(doc.get(where), dict) else []
    return doc.get({"layer": "layers", "span": "spans", "stage": "stages",
                    "thread": "threads", "exception": "exceptions"}[where], [])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(DOCS)))
    doc = copy.deepcopy(DOCS[name])
    for _ in range(draw(st.integers(1, 6))):
        where, key = draw(st.sampled_from(OPTIONAL))
        objects = targets(doc, where)
        if not objects:
            continue
        target = objects[draw(st.integers(0, len(objects) - 1))]
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    return name, doc


def render_all(doc: dict[str, Any]) -> None:
    trace = build_trace(doc)
    for fmt in RENDERERS:
        module = importlib.import_module(f"reports.render_{fmt}")
        assert module.render(trace, RenderOptions(width=100)), fmt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_optional_fields_of_any_type(case: tuple[str, dict[str, Any]]) -> None:
    _, doc = case
    try:
        validate(doc, "mutated")
    except TraceFormatError:
        return  # refused with a one-line message: also fine
    render_all(doc)


@pytest.mark.parametrize("name", sorted(DOCS))
def test_minimal_document(name: str) -> None:
    """Only what the validator requires: no stages, layers, threads or metadata."""
    doc = DOCS[name]
    spans = [{key: span[key] for key in ("id", "parent", "thread", "name", "start_ns",
                                         "end_ns", "kind")} for span in doc["spans"]]
    minimal = {"schema": doc["schema"], "trace_id": "m", "kind": doc["kind"],
               "duration_ns": doc["duration_ns"], "truncated": True, "spans": spans}
    validate(minimal, "minimal")
    render_all(minimal)


def test_empty_trace() -> None:
    doc = {"schema": "pylon-trace/1", "trace_id": "e", "kind": "request", "duration_ns": 0,
           "truncated": False}
    validate(doc, "empty")
    render_all(doc)


def test_filters_that_leave_nothing() -> None:
    trace = apply_filters(build_trace(DOCS["error"]), Filters(min_ns=10**12))
    assert trace.span_count == 0
    for fmt in RENDERERS:
        module = importlib.import_module(f"reports.render_{fmt}")
        assert module.render(trace, RenderOptions(width=100))
