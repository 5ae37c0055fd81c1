"""`sequence`: the request's journey as a sequence diagram drawn by Graphviz.

One lifeline per participant: the threads (the accept thread, the worker running the
server code), each WSGI layer, and the controller; the lifelines of one thread are
boxed together, so threads read as lanes. Time runs downwards in steps: each call into
a layer, each return with its status, the hand-off between threads and the server's
own stages (parse, environ, write, …) as notes, every one with its time.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from reports.dot_util import FONT, label, left_label, text
from reports.fmt import ms
from reports.model import Span, Trace, walk
from reports.names import short_name
from reports.options import RenderOptions
from reports.style import stage_color, thread_color

# Stages drawn as arrows between participants rather than as notes on a thread.
_ARROW_STAGES = {"middleware", "app", "controller", "response", "unwind"}
# Same-instant events: returns first (innermost first), then hand-offs, calls, notes.
_RETURN, _HANDOFF, _CALL, _NOTE = range(4)


@dataclass(frozen=True)
class _Lane:
    key: str
    title: str
    thread: str | None


@dataclass(frozen=True)
class _Event:
    time: int
    order: tuple[int, int]
    source: str
    target: str | None  # None: a note on `source`
    label: str
    color: str = "black"
    dashed: bool = False


def _library(file: str) -> bool:
    path = file.replace("\\", "/")
    return "/site-packages/" in path or "/dist-packages/" in path or "/lib/python3" in path


def _controller_calls(trace: Trace) -> list[tuple[Span, str]]:
    """The outermost span of each controller stage and the action it ran."""
    found: list[tuple[Span, str]] = []
    for stage in trace.stages:
        if stage.name != "controller":
            continue
        top: Span | None = None
        for span in trace.walk():
            if span.stage == "controller" and stage.start <= span.start <= stage.end and (
                    top is None or span.depth < top.depth):
                top = span
        if top is None:
            continue
        # The action is the outermost call into application code: not the controller
        # base class's package, not the standard library or an installed package.
        root = top.name.split(".", 1)[0]
        action = top
        for span in walk(top.children):
            if (span.kind == "call" and span.stage == "controller" and span.file
                    and span.name.split(".", 1)[0] != root and not _library(span.file)
                    and (action is top or (span.depth, -span.total)
                         < (action.depth, -action.total))):
                action = span
        found.append((top, short_name(action.name, action.file)))
    return found


def _lanes_and_events(trace: Trace) -> tuple[list[_Lane], list[_Event]]:
    lanes: dict[str, _Lane] = {}
    events: list[_Event] = []
    layer_spans = {span.id: span for span in trace.walk() if span.kind == "layer"}

    def lane(key: str, title: str, thread: str | None) -> str:
        if key not in lanes:
            lanes[key] = _Lane(key, title, thread)
        return key

    for thread in trace.threads:
        if any(stage.thread == thread.id for stage in trace.stages) or any(
                root.thread == thread.id for root in trace.roots):
            lane(f"t:{thread.id}", thread.label, thread.id)

    previous = None
    for stage in trace.stages:
        thread_lane = lane(f"t:{stage.thread}", trace.thread(stage.thread).label, stage.thread)
        if previous is not None and previous.thread != stage.thread:
            source = lane(f"t:{previous.thread}", trace.thread(previous.thread).label,
                          previous.thread)
            worker = text(trace.thread(stage.thread).name, 40)
            events.append(_Event(stage.start, (_HANDOFF, 0), source, thread_lane,
                                 f"{text(stage.name)} on {worker} · t={ms(stage.start)}",
                                 dashed=True))
        previous = stage
        if stage.name not in _ARROW_STAGES:
            events.append(_Event(stage.start, (_NOTE, 0), thread_lane, None,
                                 f"{text(stage.name, 40)} {ms(stage.duration)} ms",
                                 stage_color(stage.name)))

    by_index = {layer.index: layer for layer in trace.layers}
    for layer in trace.layers:
        span = layer_spans.get(layer.span) if layer.span is not None else None
        thread = span.thread if span is not None else None
        target = lane(f"l:{layer.name}", layer.name, thread)
        parent = by_index.get(layer.parent) if layer.parent is not None else None
        if parent is not None:
            source = f"l:{parent.name}"
        else:
            source = lane(f"t:{thread}", trace.thread(thread).label, thread) if thread \
                else next(iter(lanes), target)
        visit = f" #{layer.visit + 1}" if layer.visit else ""
        events.append(_Event(layer.enter, (_CALL, layer.depth), source, target,
                             f"{text(layer.name, 40)}(){visit} · t={ms(layer.enter)}"))
        if layer.raised is not None:
            back = f"✗ {text(layer.raised, 40)}"
            color = "red"
        else:
            back = text(layer.status or "returned", 40)
            color = "black"
        spent = f"{ms(layer.time_out)} ms out" if layer.inner_exit is not None \
            else f"{ms(layer.exit - layer.enter)} ms"
        events.append(_Event(layer.exit, (_RETURN, -layer.depth), target, source,
                             f"{back} · {spent} · t={ms(layer.exit)}", color, dashed=True))

    # The controller is called by the application it runs inside (PylonsApp).
    endpoints = [layer for layer in trace.layers if layer.inner_enter is None]
    for top, action in _controller_calls(trace):
        target = lane("controller", "controller", top.thread)
        caller = next((f"l:{layer.name}" for layer in reversed(endpoints)
                       if layer.enter <= top.start <= layer.exit), None)
        source = caller or f"t:{top.thread}"
        events.append(_Event(top.start, (_CALL, 99), source, target,
                             f"{text(action, 60)} · t={ms(top.start)}"))
        events.append(_Event(top.end, (_RETURN, -99), target, source,
                             f"response · {ms(top.total)} ms · t={ms(top.end)}", dashed=True))
    events.sort(key=lambda e: (e.time, e.order))
    return list(lanes.values()), events


def build(trace: Trace, options: RenderOptions) -> graphviz.Digraph:
    lanes, events = _lanes_and_events(trace)
    dot = graphviz.Digraph("sequence")
    title = [text(trace.title, 160) + f"  ({ms(trace.duration)} ms)",
             f"trace {text(trace.trace_id, 60)} · time runs down · t = ms since the window opened"]
    title += ["filtered: " + text(note, 120) for note in trace.filters]
    dot.attr("graph", label=left_label(*title), labelloc="t", labeljust="l", fontname=FONT,
             fontsize="12", newrank="true", nodesep="0.9", ranksep="0.22", splines="line")
    dot.attr("node", fontname=FONT, fontsize="10")
    dot.attr("edge", fontname=FONT, fontsize="9")
    if not lanes:
        dot.node("empty", label=label("no stages or layers to draw"), shape="plaintext")
        return dot

    lane_ids = {lane.key: f"p{i}" for i, lane in enumerate(lanes)}
    steps = len(events) + 1
    thread_index = {thread.id: i for i, thread in enumerate(trace.threads)}
    groups: dict[str | None, list[_Lane]] = {}
    for lane in lanes:
        groups.setdefault(lane.thread, []).append(lane)
    for position, (thread_id, members) in enumerate(groups.items()):
        thread = trace.thread(thread_id)
        color = thread_color(thread_index.get(thread_id or "", position))
        with dot.subgraph(name=f"cluster_{position}") as cluster:
            cluster.attr(label=label(text(f"{thread.id} {thread.label}", 60)), color=color,
                         fontcolor=color, style="rounded", fontname=FONT)
            for lane in members:
                pid = lane_ids[lane.key]
                server = lane.key.startswith("t:")
                cluster.node(f"{pid}_h", label=label(text(lane.title, 50)), shape="box",
                             style="filled" if server else "rounded,filled",
                             fillcolor="#dddddd" if server else "#f2f2f2")
                for step in range(steps):
                    cluster.node(f"{pid}_{step}", label="", shape="point", width="0.04")
                cluster.edge(f"{pid}_h", f"{pid}_0", style="dashed", arrowhead="none",
                             weight="100")
                for step in range(steps - 1):
                    cluster.edge(f"{pid}_{step}", f"{pid}_{step + 1}", style="dashed",
                                 arrowhead="none", weight="100", color="#999999")

    with dot.subgraph() as heads:
        heads.attr(rank="same")
        for lane in lanes:
            heads.node(f"{lane_ids[lane.key]}_h")
    for left, right in zip(lanes, lanes[1:], strict=False):
        dot.edge(f"{lane_ids[left.key]}_h", f"{lane_ids[right.key]}_h", style="invis")
    for step in range(steps):
        with dot.subgraph() as row:
            row.attr(rank="same")
            for lane in lanes:
                row.node(f"{lane_ids[lane.key]}_{step}")
        for left, right in zip(lanes, lanes[1:], strict=False):
            dot.edge(f"{lane_ids[left.key]}_{step}", f"{lane_ids[right.key]}_{step}",
                     style="invis")

    for step, event in enumerate(events, start=1):
        source = f"{lane_ids[event.source]}_{step}"
        if event.target is None:
            dot.node(source, xlabel=label(event.label), fontcolor=event.color)
            continue
        dot.edge(source, f"{lane_ids[event.target]}_{step}", label=label(event.label),
                 color=event.color, fontcolor=event.color, constraint="false",
                 style="dashed" if event.dashed else "solid")
    return dot


def render(trace: Trace, options: RenderOptions) -> str:
    return build(trace, options).source
