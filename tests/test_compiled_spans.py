"""The compiled span path (tracer/cspans.py, tracer/_crecorder_spans.c) against the Python
reference (tracer/thread_stream.py, tracer/document.py): the same recorded events, fed to
both, must give byte-for-byte the same saved traces."""

from __future__ import annotations

import json
import tempfile
from typing import Any

import pytest

from benchmarks import common
from tracer import cspans
from tracer.middleware import TracingMiddleware
from tracer.session import TraceSession
from tracer.thread_stream import Part, ThreadStream
from tracer.writer import serialise

pytestmark = pytest.mark.skipif(not cspans.available(), reason="compiled recorder not built")

PATHS = ["/page2", "/hello/ann", "/fail", "/no/such/page", "/stream", "/hooks", "/counter",
         "/redirect"]


def recorded_events(core: str, max_events: int = 200_000) -> tuple[Any, list]:
    """Requests to every kind of route, recorded and drained as (time, event, obj) lists."""
    session = TraceSession(trace_dir=tempfile.mkdtemp(prefix="pylon-cspans-"), core=core,
                           source="middleware", max_events=max_events)
    session.active = True  # no background threads: the test drains by hand
    app = TracingMiddleware(common.load_sample_app(), session, standalone=True)
    make = {path: common.environ_factory(path) for path in PATHS}
    for path in PATHS:
        common.run_request(app, make[path]())
    return session, session.recorder.drain()


def documents(session: Any, drained: list, compiled: bool) -> list[bytes]:
    builder = session.assembler.builder
    names = session.assembler.names
    parts: list[Part] = []
    for ident, events in drained:
        if compiled:
            stream: ThreadStream = cspans.CThreadStream(ident, names, session.max_events,
                                                        builder.naming)
            stream.feed(cspans_block(events), parts)
        else:
            stream = ThreadStream(ident, names, session.max_events)
            stream.feed(events, parts)
    return [serialise(builder.request(part, None)) for part in parts]


def cspans_block(events: list) -> Any:
    from tracer._crecorder import event_block

    return event_block(events)


@pytest.mark.parametrize("core", ["c", "py"])
def test_both_paths_save_the_same_traces(core: str) -> None:
    session, drained = recorded_events(core)
    reference = documents(session, drained, compiled=False)
    compiled = documents(session, drained, compiled=True)
    assert len(reference) == len(PATHS)
    for ref, fast in zip(reference, compiled, strict=True):
        assert json.loads(fast) == json.loads(ref)
        assert fast == ref
    paths = [json.loads(doc)["request"]["path"] for doc in compiled]
    assert paths == PATHS
    failed = json.loads(compiled[PATHS.index("/fail")])
    assert failed["exceptions"] and failed["exceptions"][0]["span"] is not None
    raiser = next(s for s in failed["spans"] if s["id"] == failed["exceptions"][0]["span"])
    assert raiser["exception"] == 0
    assert any(s.get("layer") is not None for s in failed["spans"])


def test_truncation_is_the_same() -> None:
    session, drained = recorded_events("c", max_events=50)
    reference = [json.loads(d) for d in documents(session, drained, compiled=False)]
    compiled = [json.loads(d) for d in documents(session, drained, compiled=True)]
    assert compiled == reference
    assert all(doc["truncated"] for doc in compiled)


def test_spans_are_spliced_as_json_and_survive_a_hostile_request_string() -> None:
    doc = {"schema": "x", "request": {"path": "\x00pylon-trace-spans-\x00"},
           "spans": cspans.RawSpans('[{"id":1}]', 1), "tail": "after"}
    out = json.loads(serialise(doc))
    assert out == {"schema": "x", "request": {"path": "\x00pylon-trace-spans-\x00"},
                   "spans": [{"id": 1}], "tail": "after"}

