"""The numbered steps of a trace: one per stage occurrence, each naming the functions that
ran in it, where they are defined, and how long they took.

A trace holds thousands of calls; a step shows the ones a reader of the seeds would look
for: the direct calls made at each level the stage entered (a WSGI layer starts a new
level), every landmark function the classic analysis names, and the application's own
code, each with the calls that led to it. Everything else — standard-library plumbing,
comprehensions — stays in the trace and the diagrams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reports.model import Layer, Span, Stage, Trace
from reports.names import short_name, split_name
from walkthrough.knowledge import LANDMARKS, PLUMBING_MODULES, STAGE_NOTES
from walkthrough.paths import PathStyle

MAX_CALLS_PER_STEP = 40
# pylon-trace's own code (starting the server, reading the config for the trace) is
# not part of the story.
TOOL_PACKAGES = ("pylon_trace.", "tracer.", "walkthrough.")
CONTEXT_FRAMES = 4
_COMPREHENSION = re.compile(r"<(listcomp|genexpr|dictcomp|setcomp)>")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass
class Call:
    name: str
    where: str
    total_ns: int
    count: int = 1
    own: bool = False  # the application's own code
    children: list[Call] = field(default_factory=list)


@dataclass(frozen=True)
class Crossing:
    """A WSGI layer crossed in a step, on the way in or out."""

    name: str
    visit: int
    where: str
    time_ns: int
    environ: tuple[tuple[str, str], ...]   # (key, what happened to it)
    response: tuple[str, ...]              # status and header changes on the way out


@dataclass
class Step:
    number: int
    stage: str
    again: bool
    thread: str
    start_ns: int
    duration_ns: int
    share: float
    note: str
    context: list[tuple[str, str]]
    calls: list[Call]
    hidden: int
    crossings: list[Crossing]


@dataclass(frozen=True)
class Outline:
    """What the steps are built with: the trace and how to name things in it."""

    trace: Trace
    style: PathStyle
    app_package: str = ""
    extra_landmarks: tuple[str, ...] = ()


def build_steps(outline: Outline) -> list[Step]:
    trace = outline.trace
    by_thread: dict[str, list[Span]] = {}
    for span in trace.walk():
        by_thread.setdefault(span.thread, []).append(span)
    for spans in by_thread.values():
        spans.sort(key=lambda s: (s.start, s.depth))
    seen: set[str] = set()
    steps = []
    last = len(trace.stages) - 1
    for number, stage in enumerate(trace.stages, start=1):
        spans = by_thread.get(stage.thread or "", [])
        again = stage.name in seen
        seen.add(stage.name)
        calls, hidden = _calls(outline, stage, spans, final=stage.index == last)
        crossings = _crossings(outline, stage, final=stage.index == last)
        steps.append(Step(
            number=number,
            stage=stage.name,
            again=again,
            thread=trace.thread(stage.thread).label,
            start_ns=stage.start,
            duration_ns=stage.duration,
            share=stage.duration / trace.duration if trace.duration else 0.0,
            note=_note(stage.name, again, crossings),
            context=_context(outline, stage, spans),
            calls=calls,
            hidden=hidden,
            crossings=crossings,
        ))
    return steps


def _note(stage: str, again: bool, crossings: list[Crossing]) -> str:
    note = STAGE_NOTES.get(stage)
    if note is None:
        return ""
    if note.subrequest and any(c.visit > 0 for c in crossings):
        return note.subrequest
    if again and note.again:
        return note.again
    return note.first


def _inside(stage: Stage, t: int, final: bool) -> bool:
    return stage.start <= t < stage.end or (final and t == stage.end)


def _context(outline: Outline, stage: Stage, spans: list[Span]) -> list[tuple[str, str]]:
    """The frames already open on the stage's thread when it began, innermost last."""
    open_spans = [s for s in spans if (s.start < stage.start or s.clipped)
                  and s.end >= stage.start and s.kind in ("call", "layer")]
    if not open_spans:
        return []
    innermost = max(open_spans, key=lambda s: (s.depth, s.start))
    chain = []
    span: Span | None = innermost
    while span is not None:
        if not _is_plumbing(span, outline.style):
            chain.append(span)
        span = span.parent
    chain.reverse()
    return [(short_name(s.name, s.file), where(outline.style, s))
            for s in chain[-CONTEXT_FRAMES:]]


def where(style: PathStyle, span: Span) -> str:
    """File and line; for pylon-trace's own code the file alone, since its lines move
    with every change to the tool and say nothing about the stack being shown."""
    if span.name.startswith(TOOL_PACKAGES):
        return style.short(span.file)
    return style.where(span.file, span.line)


def _is_landmark(span: Span, landmarks: tuple[str, ...]) -> bool:
    qualname = split_name(span.name, span.file)[1].replace("<locals>.", "")
    full = span.name
    return any(qualname == mark or qualname.endswith("." + mark) or full.endswith("." + mark)
               for mark in landmarks)


def _is_plumbing(span: Span, style: PathStyle) -> bool:
    if _COMPREHENSION.search(span.name) or span.name.startswith(TOOL_PACKAGES):
        return True
    if span.file is None or span.file.startswith("<"):
        return True
    if not style.is_stdlib(span.file):
        return False
    top = split_name(span.name, span.file)[0].split(".")[0]
    return top in PLUMBING_MODULES


def _calls(outline: Outline, stage: Stage, spans: list[Span],
           final: bool) -> tuple[list[Call], int]:
    style = outline.style
    landmarks = LANDMARKS + outline.extra_landmarks
    members = [s for s in spans if _inside(stage, s.start, final) and not s.clipped
               and s.kind in ("call", "layer")]
    if stage.end <= stage.start:
        members = []
    ids = {s.id for s in members}

    def level(span: Span) -> int:
        """Calls between the span and the nearest layer or frame outside the stage."""
        steps = 1
        parent = span.parent
        while parent is not None and parent.id in ids and parent.kind != "layer":
            steps += 1
            parent = parent.parent
        return steps

    own_prefix = outline.app_package + "." if outline.app_package else None
    chosen: set[int] = set()
    for span in members:
        own = own_prefix is not None and span.name.startswith(own_prefix)
        if span.kind == "layer" or _is_landmark(span, landmarks) or own \
                or (level(span) == 1 and not _is_plumbing(span, style)):
            # The calls that led here, up to the level's start, make the path readable.
            node: Span | None = span
            while node is not None and node.id in ids and node.id not in chosen:
                chosen.add(node.id)
                node = node.parent
    shown = [s for s in members if s.id in chosen]
    hidden = len(members) - len(shown)
    roots: list[Call] = []
    made: dict[int, Call] = {}
    for span in shown:
        call = Call(short_name(span.name, span.file), where(style, span),
                    span.total, span.calls,
                    own=own_prefix is not None and span.name.startswith(own_prefix))
        made[span.id] = call
        parent = span.parent
        while parent is not None and parent.id not in made:
            parent = parent.parent
        siblings = made[parent.id].children if parent is not None else roots
        previous = siblings[-1] if siblings else None
        if previous is not None and previous.name == call.name and previous.where == call.where \
                and not previous.children:
            previous.count += call.count
            previous.total_ns += call.total_ns
            made[span.id] = previous
        else:
            siblings.append(call)
    return _cap(roots), hidden


def _cap(calls: list[Call]) -> list[Call]:
    """Keep a step readable: beyond the budget, later calls are left to the diagrams."""
    budget = [MAX_CALLS_PER_STEP]

    def keep(nodes: list[Call]) -> list[Call]:
        kept = []
        for node in nodes:
            if budget[0] <= 0:
                break
            budget[0] -= 1
            node.children = keep(node.children)
            kept.append(node)
        return kept

    return keep(calls)


def _crossings(outline: Outline, stage: Stage, final: bool) -> list[Crossing]:
    trace = outline.trace
    spans = {s.id: s for s in trace.walk() if s.kind == "layer"}
    found: list[tuple[int, Crossing]] = []
    for layer in trace.layers:
        span = spans.get(layer.span) if layer.span is not None else None
        where = outline.style.where(span.file, span.line) if span is not None else layer.type
        if stage.name in ("middleware", "app") and _inside(stage, layer.enter, final):
            found.append((layer.enter, Crossing(layer.name, layer.visit, where, layer.time_in,
                                                _environ(layer), ())))
        elif stage.name == "unwind" and layer.inner_exit is not None \
                and _inside(stage, layer.inner_exit, final):
            # On the way out the innermost layer returns first.
            found.append((layer.inner_exit, Crossing(layer.name, layer.visit, where,
                                                     layer.time_out, (), _response(layer))))
    return [crossing for _t, crossing in sorted(found, key=lambda pair: pair[0])]


def _value(text: str, limit: int = 90) -> str:
    text = _ADDRESS.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(text: str) -> str:
    return _value(text, 40) or "(empty)"


def _environ(layer: Layer) -> tuple[tuple[str, str], ...]:
    changes = [(key, "added: " + _value(value)) for key, value in layer.environ_added]
    changes += [(key, f"changed: {_shown(old)} → {_shown(new)}")
                for key, old, new in layer.environ_changed]
    changes += [(key, "removed") for key in layer.environ_removed]
    return tuple(changes)


def _response(layer: Layer) -> tuple[str, ...]:
    notes = []
    if layer.status is not None:
        if layer.status_before is not None and layer.status_before != layer.status:
            notes.append(f"status {layer.status_before} → {layer.status}")
        else:
            notes.append(f"status {layer.status}")
    notes += [f"adds header {name}: {_value(value, 60)}" for name, value in layer.headers_added]
    notes += [f"changes header {name}: {_value(old, 40)} → {_value(new, 40)}"
              for name, old, new in layer.headers_changed]
    notes += [f"removes header {name}" for name, _value_ in layer.headers_removed]
    if layer.raised:
        notes.append(f"raised {layer.raised}")
    return tuple(notes)
