"""The span tree (reports.model), the processors and the call graph, on hand-built trees.

`tree(...)` writes a small document from nested tuples (name, start, end, children…),
so each test states the exact tree it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import processors
from reports.callgraph import aggregate, call_graph
from reports.fmt import ms, safe, share
from reports.model import Span, Trace, build_trace
from reports.names import fit, short_name, split_name
from tracer.trace_format import validate

Node = tuple  # (name, start_us, end_us, *children) or with a leading thread "T2:name"


def tree(*roots: Node, stages: Sequence[tuple[str, int, int, str]] = (),
         extra: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A valid document from nested (name, start µs, end µs, children...) tuples."""
    spans: list[dict[str, Any]] = []

    def add(node: Node, parent: int | None, thread: str) -> None:
        name, start, end, *children = node
        if ":" in name:
            thread, name = name.split(":", 1)
        span = {"id": len(spans) + 1, "parent": parent, "thread": thread, "name": name,
                "file": None, "line": None, "start_ns": start * 1000, "end_ns": end * 1000,
                "kind": "call", "stage": stage_at(start * 1000)}
        span.update((extra or {}).get(span["id"], {}))
        spans.append(span)
        for child in children:
            add(child, span["id"], thread)

    def stage_at(time_ns: int) -> str | None:
        found = None
        for name, start, _, _ in stages:
            if start * 1000 <= time_ns:
                found = name
        return found

    for root in roots:
        add(root, None, "T1")
    end = max([s["end_ns"] for s in spans] + [0])
    doc = {
        "schema": "pylon-trace/1", "trace_id": "t", "kind": "request", "source": "server",
        "recorder": "py", "started_at": "", "duration_ns": end, "request": None,
        "response": None, "connection": None,
        "threads": [{"id": "T1", "name": "MainThread", "role": "accept"},
                    {"id": "T2", "name": "worker 1", "role": "worker"}],
        "spans": sorted(spans, key=lambda s: s["start_ns"]),
        "stages": [{"name": n, "start_ns": a * 1000, "end_ns": b * 1000, "thread": t}
                   for n, a, b, t in stages],
        "layers": [], "exceptions": [], "truncated": False,
    }
    validate(doc, "hand-built")
    return doc


def names(spans: Sequence[Span]) -> list[str]:
    return [span.name for span in spans]


def shape(trace: Trace) -> list[tuple[str, int, list[str]]]:
    return [(s.name, s.depth, names(s.children)) for s in trace.walk()]


SAMPLE = tree(
    ("main", 0, 100,
     ("parse", 0, 10),
     ("work", 10, 90,
      ("a", 10, 40, ("leaf", 10, 12), ("leaf", 12, 14)),
      ("b", 40, 90, ("c", 40, 88, ("leaf", 40, 41)))),
     ("done", 90, 99)),
    stages=[("parse", 0, 10, "T1"), ("app", 10, 40, "T1"), ("controller", 40, 90, "T1"),
            ("write", 90, 100, "T1")],
)


# -- the model --------------------------------------------------------------------------
def test_tree_times_depth_and_size() -> None:
    trace = build_trace(SAMPLE)
    spans = {s.name + str(s.start): s for s in trace.walk()}
    main = trace.roots[0]
    assert main.total == 100_000
    assert main.self_ns == 100_000 - 10_000 - 80_000 - 9_000
    assert spans["work10000"].self_ns == 80_000 - 30_000 - 50_000 == 0
    assert spans["c40000"].depth == 3 and spans["c40000"].self_ns == 47_000
    assert spans["leaf40000"].depth == 4
    assert main.size == trace.span_count == 10
    assert [s.name for s in main.children] == ["parse", "work", "done"]


def test_self_time_never_negative() -> None:
    # A recorder may let a child end after its parent; self time stays at zero then.
    doc = tree(("p", 0, 10, ("c", 2, 10)))
    doc["spans"][1]["end_ns"] = 15_000
    assert build_trace(doc).roots[0].self_ns == 0


def test_names() -> None:
    httpserver = "/site-packages/paste/httpserver.py"
    assert split_name("paste.httpserver.WSGIHandler.handle", httpserver) == (
        "paste.httpserver", "WSGIHandler.handle")
    assert split_name("socket.socket.accept", "/usr/lib/python3.11/socket.py") == (
        "socket", "socket.accept")
    assert split_name("framework.util.f", "/x/framework/util/__init__.py") == (
        "framework.util", "f")
    assert split_name("_io.BufferedReader.readline") == ("_io", "BufferedReader.readline")
    assert split_name("_socket.socket._accept") == ("_socket", "socket._accept")
    synthetic = "waiting in the thread pool queue"
    assert split_name(synthetic) == ("", synthetic)
    assert short_name("paste.httpserver.ThreadPoolMixIn.process_request.<locals>.<lambda>",
                      httpserver) == "ThreadPoolMixIn.process_request.<lambda>"
    assert short_name("urllib.parse.urlsplit", "/usr/lib/python3.11/urllib/parse.py") == (
        "parse.urlsplit")
    assert fit("WSGIHandlerMixin.wsgi_execute", 13) == "…wsgi_execute"
    assert fit("short", 13) == "short"


def test_formatting() -> None:
    assert ms(58_000) == "0.058" and ms(12_345_678) == "12.35" and ms(2_500_000_000) == "2,500"
    assert share(1, 3) == "33.3%" and share(1, 0) == "0.0%"
    assert safe("a\nb\x1b[31m\u202e\ud800") == "a\\nb\\x1b[31m\\u202e\\ud800"
    assert safe("x" * 10, 5) == "xxxx…"
    assert safe("ünïcode ok") == "ünïcode ok"


# -- filters -----------------------------------------------------------------------------
def test_keep_stages_reattaches_to_the_nearest_kept_ancestor() -> None:
    trace = build_trace(SAMPLE)
    kept = processors.keep_stages(trace, {"parse", "controller"})
    # main started in parse; work and a (app) go, and b hangs from main instead.
    assert shape(kept) == [("main", 0, ["parse", "b"]), ("parse", 1, []), ("b", 2, ["c"]),
                           ("c", 3, ["leaf"]), ("leaf", 4, [])]
    assert [s.name for s in kept.stages] == ["parse", "controller"]
    assert kept.hidden_spans == 10 - 5 and kept.span_count == 5
    assert kept.filters == ("stage controller, parse",)
    with pytest.raises(processors.FilterError, match="does not occur"):
        processors.keep_stages(trace, {"queue"})


def test_processors_do_not_touch_their_input() -> None:
    trace = build_trace(SAMPLE)
    before = shape(trace)
    processors.keep_stages(trace, {"controller"})
    processors.limit_depth(trace, 1)
    processors.drop_shorter(trace, 20_000)
    processors.collapse(trace, 3)
    assert shape(trace) == before
    assert all(s.hidden_spans == 0 for s in trace.walk())


def test_limit_depth_counts_what_it_hides() -> None:
    kept = processors.limit_depth(build_trace(SAMPLE), 1)
    assert shape(kept) == [("main", 0, ["parse", "work", "done"]), ("parse", 1, []),
                           ("work", 1, []), ("done", 1, [])]
    work = kept.roots[0].children[1]
    assert work.hidden_spans == 6 and work.hidden_ns == 80_000  # a and b, with theirs
    assert kept.hidden_spans == 6


def test_drop_shorter() -> None:
    kept = processors.drop_shorter(build_trace(SAMPLE), 30_000)
    assert [s.name for s in kept.walk()] == ["main", "work", "a", "b", "c"]
    a = next(s for s in kept.walk() if s.name == "a")
    assert a.hidden_spans == 2 and a.hidden_ns == 4_000


def test_threads_by_id_name_or_role() -> None:
    doc = tree(("accept", 0, 10), ("T2:worker_loop", 0, 50, ("T2:call", 5, 40)),
               stages=[("accept", 0, 10, "T1"), ("app", 10, 50, "T2")])
    trace = build_trace(doc)
    for name in ("T2", "worker 1", "worker"):
        kept = processors.keep_threads(trace, processors.resolve_threads(trace, [name]))
        assert names(kept.roots) == ["worker_loop"] and names(kept.stages) == ["app"]
    with pytest.raises(processors.FilterError, match="no thread 'T7'"):
        processors.resolve_threads(trace, ["T7"])


def test_apply_filters_in_order() -> None:
    trace = processors.apply_filters(build_trace(SAMPLE), processors.Filters(
        stages=("controller",), max_depth=3, min_ns=2_000))
    assert [s.name for s in trace.walk()] == ["b", "c"]
    assert len(trace.filters) == 3


# -- collapse and the hot path -----------------------------------------------------------
def test_hot_path_follows_the_costliest_child() -> None:
    assert names(processors.hot_path(build_trace(SAMPLE).roots)) == ["main", "work", "b", "c",
                                                                      "leaf"]


def test_collapse_keeps_the_costliest_connected() -> None:
    trace = build_trace(SAMPLE)
    kept = processors.collapse(trace, 4)
    # work (80), then b (50), then c (48) beats a (30)
    assert [s.name for s in kept.walk()] == ["main", "work", "b", "c"]
    main = kept.roots[0]
    assert main.hidden_spans == 2 and main.hidden_ns == 19_000  # parse and done
    always = processors.hot_path(trace.roots)
    forced = processors.collapse(trace, 2, always=always)
    assert [s.name for s in forced.walk()] == names(always)


def test_collapse_threshold() -> None:
    kept = processors.collapse(build_trace(SAMPLE), 100, min_ns=40_000)
    assert [s.name for s in kept.walk()] == ["main", "work", "b", "c"]


# -- stages and costs --------------------------------------------------------------------
def test_stage_of_spans_with_repeated_stages() -> None:
    doc = tree(("main", 0, 60, ("m1", 1, 5), ("u", 10, 20), ("m2", 21, 25), ("w", 40, 50)),
               stages=[("middleware", 0, 10, "T1"), ("unwind", 10, 20, "T1"),
                       ("middleware", 20, 30, "T1"), ("write", 30, 60, "T1")])
    trace = build_trace(doc)
    groups = processors.stage_of_spans(trace, trace.walk())
    assert [names(g) for g in groups] == [["main", "m1"], ["u"], ["m2"], ["w"]]


def test_costliest_by_self_time_without_clipped() -> None:
    doc = tree(("loop", 0, 100, ("f", 0, 10), ("g", 10, 30), ("f", 30, 45)),
               extra={1: {"clipped": True}})
    costs = processors.costliest(build_trace(doc).walk(), 5)
    assert [(c.name, c.self_ns, c.calls) for c in costs] == [("f", 25_000, 2),
                                                             ("g", 20_000, 1)]


# -- the call graph ----------------------------------------------------------------------
def test_recursion_is_not_counted_twice() -> None:
    doc = tree(("main", 0, 100, ("r", 0, 90, ("r", 10, 80, ("r", 20, 30)), ("x", 85, 90))))
    nodes = {key[0]: node for key, node in aggregate(build_trace(doc)).items()}
    assert nodes["r"].calls == 3
    assert nodes["r"].total_ns == 90_000
    assert nodes["r"].self_ns == (90 - 70 - 5 + 70 - 10 + 10) * 1000


def test_call_graph_prunes_and_reconnects() -> None:
    # deep is called through two cheaper functions, so it outranks both of them.
    doc = tree(("main", 0, 100, ("mid", 0, 50, ("deep", 0, 45)),
                ("other", 50, 100, ("deep", 50, 95))))
    graph = call_graph(build_trace(doc), max_nodes=2)
    assert [n.name for n in graph.nodes] == ["main", "deep"]
    [edge] = graph.edges
    assert (edge.caller[0], edge.callee[0], edge.calls, edge.total_ns, edge.direct) == (
        "main", "deep", 2, 90_000, False)
    assert graph.pruned_functions == 2 and graph.pruned_calls == 2
    assert graph.pruned_self_ns == 10_000
    assert graph.reasons == ("beyond the 2 costliest",)
    full = call_graph(build_trace(doc), max_nodes=10)
    assert {(e.caller[0], e.callee[0], e.calls) for e in full.edges} == {
        ("main", "mid", 1), ("mid", "deep", 1), ("main", "other", 1), ("other", "deep", 1)}
    assert all(e.direct for e in full.edges)
    assert call_graph(build_trace(doc), max_nodes=10, min_ns=60_000).reasons == (
        "below 0.06 ms",)


# -- properties over random trees --------------------------------------------------------
@st.composite
def random_docs(draw: st.DrawFn) -> dict[str, Any]:
    names_ = ["a", "b", "c", "d", "e"]

    def node(start: int, end: int, depth: int) -> Node:
        children = []
        at = start
        while depth < 5 and at < end and draw(st.booleans()):
            length = draw(st.integers(0, end - at))
            children.append(node(at, at + length, depth + 1))
            at += length + draw(st.integers(0, 3))
        return (draw(st.sampled_from(names_)), start, end, *children)

    roots = [node(0, draw(st.integers(1, 60)), 0)]
    roots.append(node(0, draw(st.integers(1, 60)), 1))
    stage_edges = sorted(draw(st.sets(st.integers(1, 59), max_size=4)))
    bounds = [0, *stage_edges, 60]
    stage_names = ["parse", "app", "controller", "write", "close"]
    stages = [(stage_names[i], bounds[i], bounds[i + 1], "T1") for i in range(len(bounds) - 1)]
    return tree(*roots, stages=stages)


def check_tree(trace: Trace, original: Trace) -> None:
    ids = {s.id for s in original.walk()}
    seen = set()
    for span in trace.walk():
        assert span.id in ids and span.id not in seen
        seen.add(span.id)
        for child in span.children:
            assert child.parent is span
            assert child.start >= span.start
        assert span.children == sorted(span.children, key=lambda s: s.start)
    assert trace.span_count == len(seen)
    assert trace.span_count + trace.hidden_spans == original.span_count


@settings(max_examples=60, deadline=None)
@given(doc=random_docs(), budget=st.integers(1, 30), min_us=st.integers(0, 30),
       depth=st.integers(0, 5))
def test_processors_keep_a_consistent_tree(doc: dict[str, Any], budget: int, min_us: int,
                                           depth: int) -> None:
    trace = build_trace(doc)
    for result in (processors.collapse(trace, budget, min_us * 1000),
                   processors.limit_depth(trace, depth),
                   processors.drop_shorter(trace, min_us * 1000),
                   processors.keep_stages(trace, {trace.stages[0].name})):
        check_tree(result, trace)
    collapsed = processors.collapse(trace, budget)
    assert collapsed.span_count <= budget
    # What collapse hides is counted on the spans that stay, or is a whole root tree.
    kept_roots = {root.id for root in collapsed.roots}
    folded_roots = sum(root.size for root in trace.roots if root.id not in kept_roots)
    assert sum(s.hidden_spans for s in collapsed.walk()) + folded_roots == \
        trace.span_count - collapsed.span_count
    hot = processors.hot_path(trace.roots)
    forced = processors.collapse(trace, 1, always=hot)
    assert [s.id for s in forced.walk()] == [s.id for s in hot]


@settings(max_examples=60, deadline=None)
@given(doc=random_docs())
def test_call_graph_totals(doc: dict[str, Any]) -> None:
    trace = build_trace(doc)
    nodes = aggregate(trace)
    assert sum(n.calls for n in nodes.values()) == trace.span_count
    assert sum(n.self_ns for n in nodes.values()) == sum(s.self_ns for s in trace.walk())
    for node in nodes.values():
        assert node.self_ns <= node.total_ns  # recursion never counts time twice
    graph = call_graph(trace, max_nodes=3)
    kept = {n.key for n in graph.nodes}
    assert all(e.caller in kept and e.callee in kept for e in graph.edges)


def test_call_graph_keeps_the_heaviest_edges() -> None:
    # Every function calls every other: 6 nodes, 30 edges; a budget of 8 keeps each
    # function's heaviest incoming edge and then the heaviest of the rest.
    fns = ["a", "b", "c", "d", "e", "f"]
    children = []
    at = 1
    for caller in fns:
        calls = []
        for weight, callee in enumerate(fns, start=1):
            if callee != caller:
                calls.append((callee, at, at + weight))
                at += weight
        children.append((caller, calls[0][1] - 1 if calls else at, at, *calls))
        at += 1
    doc = tree(("main", 0, at, *children))
    graph = call_graph(build_trace(doc), max_nodes=7, max_edges=8)
    assert len(graph.edges) == 8 and graph.pruned_edges == 6 + 30 - 8
    drawn = {n.key for n in graph.nodes}
    callees = {e.callee for e in graph.edges}
    assert drawn - callees == {n.key for n in graph.nodes if n.name == "main"}
