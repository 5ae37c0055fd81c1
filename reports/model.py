"""The span tree and trace metadata every renderer works from, built once per document.

`build_trace` takes a document that `tracer.trace_format.validate` accepted. That check
covers the fields the tree needs; everything else (layers' environ diffs, response
details, the startup block) is optional to a renderer, so it is read defensively here:
a field of the wrong type reads as missing instead of failing a report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.names import split_name


class Span:
    """One call (or synthetic interval) with its children on the same thread.

    Built by `build_trace` and by processors; treated as immutable once a processor has
    returned it. `self_ns` and `depth` describe the recorded tree and survive filtering;
    `hidden_spans`/`hidden_ns` count what processors removed below this span.
    """

    __slots__ = (
        "id", "parent", "thread", "name", "file", "line", "start", "end", "kind", "stage",
        "clipped", "layer", "exception", "calls", "children", "depth", "self_ns", "size",
        "hidden_spans", "hidden_ns", "raw",
    )

    id: int
    parent: Span | None
    thread: str
    name: str
    file: str | None
    line: int | None
    start: int
    end: int
    kind: str
    stage: str | None
    clipped: bool
    layer: int | None
    exception: int | None
    calls: int
    children: list[Span]
    depth: int
    self_ns: int
    size: int
    hidden_spans: int
    hidden_ns: int
    raw: Mapping[str, Any]

    @property
    def total(self) -> int:
        return self.end - self.start

    @property
    def module(self) -> str:
        return split_name(self.name, self.file)[0]

    @property
    def qualname(self) -> str:
        return split_name(self.name, self.file)[1]

    @property
    def key(self) -> tuple[str, str | None, int | None]:
        """What makes two spans calls of the same function."""
        return (self.name, self.file, self.line)

    def derive(self, parent: Span | None) -> Span:
        """A copy without children, attached to `parent` (which it is appended to)."""
        copy = Span.__new__(Span)
        for slot in Span.__slots__:
            setattr(copy, slot, getattr(self, slot))
        copy.parent = parent
        copy.children = []
        if parent is not None:
            parent.children.append(copy)
        return copy

    def __repr__(self) -> str:
        return f"<Span {self.id} {self.name!r} {self.start}..{self.end}>"


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str
    start: int
    end: int
    thread: str | None

    @property
    def duration(self) -> int:
        return max(self.end - self.start, 0)


@dataclass(frozen=True, slots=True)
class Layer:
    index: int
    name: str
    type: str
    depth: int
    visit: int
    parent: int | None
    span: int | None
    enter: int
    inner_enter: int | None
    inner_exit: int | None
    exit: int
    environ_added: tuple[tuple[str, str], ...]
    environ_changed: tuple[tuple[str, str, str], ...]
    environ_removed: tuple[str, ...]
    status: str | None
    status_before: str | None
    headers_added: tuple[tuple[str, str], ...]
    headers_removed: tuple[tuple[str, str], ...]
    headers_changed: tuple[tuple[str, str, str], ...]
    exception: int | None
    # The type of the exception that propagated out of this visit: from `exception`
    # as an index into exceptions, or as the type name the recorder wrote there.
    raised: str | None = None

    @property
    def time_in(self) -> int:
        """Time on the way in: until the inner call, or the whole visit for an endpoint."""
        end = self.inner_enter if self.inner_enter is not None else self.exit
        return max(end - self.enter, 0)

    @property
    def time_out(self) -> int:
        """Time on the way out, after the inner call returned."""
        if self.inner_exit is None:
            return 0
        return max(self.exit - self.inner_exit, 0)


@dataclass(frozen=True, slots=True)
class ExceptionInfo:
    index: int
    type: str
    message: str
    raised_in: str | None
    through: tuple[str, ...]
    handled_by: str | None
    span: int | None


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: str
    http_version: str
    client: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Response:
    status: str
    status_code: int | None
    headers: tuple[tuple[str, str], ...]
    body_bytes: int | None


@dataclass(frozen=True)
class Trace:
    """A trace document as a tree: the input and output of every processor."""

    doc: Mapping[str, Any] = field(repr=False)
    trace_id: str
    kind: str
    source: str
    recorder: str
    started_at: str
    duration: int
    request: Request | None
    response: Response | None
    threads: tuple[Thread, ...]
    roots: tuple[Span, ...] = field(repr=False)
    stages: tuple[Stage, ...]
    layers: tuple[Layer, ...]
    exceptions: tuple[ExceptionInfo, ...]
    truncated: bool
    redacted: bool
    span_count: int
    # What processors did: human-readable filter descriptions and spans removed.
    filters: tuple[str, ...] = ()
    hidden_spans: int = 0

    def walk(self) -> Iterator[Span]:
        """Every span, depth first, children in start order."""
        return walk(self.roots)

    def thread(self, thread_id: str | None) -> Thread:
        for thread in self.threads:
            if thread.id == thread_id:
                return thread
        return Thread(thread_id or "?", thread_id or "?", "")

    @property
    def title(self) -> str:
        """One line naming the request (or the startup), from untrusted strings as is."""
        if self.request is not None:
            target = self.request.path + (f"?{self.request.query}" if self.request.query else "")
            line = f"{self.request.method} {target}"
            if self.response is not None:
                line += f" → {self.response.status}"
            return line
        if self.kind == "startup":
            command = self.doc.get("startup", {})
            argv = command.get("command") if isinstance(command, dict) else None
            if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                return "startup: " + " ".join(argv)
            return "startup"
        return f"trace {self.trace_id}"


def walk(roots: Iterable[Span]) -> Iterator[Span]:
    stack = list(roots)
    stack.reverse()
    while stack:
        span = stack.pop()
        yield span
        if span.children:
            stack.extend(reversed(span.children))


def finish_tree(roots: Iterable[Span]) -> int:
    """Recompute subtree sizes after a tree was (re)built; return the span count."""
    order = list(walk(roots))
    for span in order:
        span.size = 1
    for span in reversed(order):
        if span.parent is not None:
            span.parent.size += span.size
    return len(order)


# -- reading the document ----------------------------------------------------------
def _str(obj: Any, key: str, default: str = "") -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else default


def _opt_str(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def _opt_int(obj: Any, key: str) -> int | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if type(value) is int else None


def _int(obj: Any, key: str, default: int = 0) -> int:
    value = _opt_int(obj, key)
    return default if value is None else value


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (item[0], item[1]) for item in value
        if isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item)
    )


def _triples(value: Any) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (item[0], item[1], item[2]) for item in value
        if isinstance(item, list) and len(item) == 3 and all(isinstance(p, str) for p in item)
    )


def _build_span(raw: Mapping[str, Any], parent: Span | None) -> Span:
    span = Span.__new__(Span)
    span.id = raw["id"]
    span.parent = parent
    span.thread = raw["thread"]
    span.name = raw["name"]
    file = raw.get("file")
    span.file = file if isinstance(file, str) else None
    line = raw.get("line")
    span.line = line if type(line) is int else None
    span.start = raw["start_ns"]
    span.end = raw["end_ns"]
    span.kind = raw["kind"]
    span.stage = raw.get("stage")
    span.clipped = raw.get("clipped") is True
    layer = raw.get("layer")
    span.layer = layer if type(layer) is int else None
    exception = raw.get("exception")
    span.exception = exception if type(exception) is int else None
    calls = raw.get("calls")
    span.calls = calls if type(calls) is int and calls > 1 else 1
    span.children = []
    span.depth = parent.depth + 1 if parent is not None else 0
    span.self_ns = span.end - span.start
    span.size = 1
    span.hidden_spans = 0
    span.hidden_ns = 0
    span.raw = raw
    return span


def _layer(index: int, raw: Mapping[str, Any]) -> Layer:
    environ = raw.get("environ") if isinstance(raw.get("environ"), dict) else {}
    added = environ.get("added") if isinstance(environ.get("added"), dict) else {}
    changed = environ.get("changed") if isinstance(environ.get("changed"), dict) else {}
    removed = environ.get("removed") if isinstance(environ.get("removed"), list) else []
    response = raw.get("response") if isinstance(raw.get("response"), dict) else {}
    return Layer(
        index=index,
        name=raw["name"],
        type=_str(raw, "type"),
        depth=raw["depth"],
        visit=_int(raw, "visit"),
        parent=_opt_int(raw, "parent"),
        span=_opt_int(raw, "span"),
        enter=raw["enter_ns"],
        inner_enter=_opt_int(raw, "inner_enter_ns"),
        inner_exit=_opt_int(raw, "inner_exit_ns"),
        exit=max(raw["exit_ns"], raw["enter_ns"]),
        environ_added=tuple((str(k), v if isinstance(v, str) else repr(v))
                            for k, v in added.items()),
        environ_changed=tuple(
            (str(k), str(v[0]), str(v[1])) for k, v in changed.items()
            if isinstance(v, list) and len(v) == 2
        ),
        environ_removed=tuple(k for k in removed if isinstance(k, str)),
        status=_opt_str(response, "status"),
        status_before=_opt_str(response, "status_before"),
        headers_added=_pairs(response.get("headers_added")),
        headers_removed=_pairs(response.get("headers_removed")),
        headers_changed=_triples(response.get("headers_changed")),
        exception=_opt_int(raw, "exception"),
        raised=_opt_str(raw, "exception"),
    )


def _exception(index: int, raw: Mapping[str, Any]) -> ExceptionInfo:
    raised = raw.get("raised_in")
    through = raw.get("through")
    return ExceptionInfo(
        index=index,
        type=raw["type"],
        message=raw["message"],
        raised_in=_opt_str(raised, "name"),
        through=tuple(t for t in through if isinstance(t, str)) if isinstance(through, list)
        else (),
        handled_by=_opt_str(raw, "handled_by"),
        span=_opt_int(raw, "span"),
    )


def build_trace(doc: Mapping[str, Any]) -> Trace:
    """Build the span tree of a validated document (see tracer.trace_format.validate)."""
    by_id: dict[int, Span] = {}
    roots: list[Span] = []
    ordered: list[Span] = []
    for raw in doc.get("spans", []):
        parent_id = raw.get("parent")
        parent = by_id[parent_id] if parent_id is not None else None
        span = _build_span(raw, parent)
        by_id[span.id] = span
        ordered.append(span)
        if parent is None:
            roots.append(span)
        else:
            parent.children.append(span)
            parent.self_ns -= span.end - span.start
    # Children listed in document order are in start order; subtract-then-clamp keeps
    # self time non-negative when a recorder's child overlaps its parent's end.
    for span in reversed(ordered):
        if span.self_ns < 0:
            span.self_ns = 0
        if span.parent is not None:
            span.parent.size += span.size

    threads = tuple(
        Thread(t["id"], _str(t, "name", t["id"]), _str(t, "role"))
        for t in doc.get("threads", [])
    )
    stages = tuple(
        Stage(i, s["name"], s["start_ns"], max(s["end_ns"], s["start_ns"]),
              _opt_str(s, "thread"))
        for i, s in enumerate(doc.get("stages", []))
    )
    request = None
    if isinstance(doc.get("request"), dict):
        r = doc["request"]
        request = Request(r["method"], r["path"], _str(r, "query"), _str(r, "http_version"),
                          _str(r, "client"), _pairs(r.get("headers")))
    response = None
    if isinstance(doc.get("response"), dict):
        r = doc["response"]
        response = Response(r["status"], _opt_int(r, "status_code"), _pairs(r.get("headers")),
                            _opt_int(r, "body_bytes"))
    layers = tuple(_layer(i, raw) for i, raw in enumerate(doc.get("layers", [])))
    exceptions = tuple(_exception(i, raw) for i, raw in enumerate(doc.get("exceptions", [])))
    # Indexes into other lists are trusted only when they point somewhere.
    for span in ordered:
        if span.exception is not None and not 0 <= span.exception < len(exceptions):
            span.exception = None
        if span.layer is not None and not 0 <= span.layer < len(layers):
            span.layer = None
    checked = []
    for layer in layers:
        exception = layer.exception if layer.exception is not None \
            and 0 <= layer.exception < len(exceptions) else None
        checked.append(dataclasses.replace(
            layer,
            parent=layer.parent if layer.parent is not None
            and 0 <= layer.parent < len(layers) and layer.parent != layer.index else None,
            exception=exception,
            raised=exceptions[exception].type if exception is not None else layer.raised,
        ))
    layers = tuple(checked)
    return Trace(
        doc=doc,
        trace_id=doc["trace_id"],
        kind=doc["kind"],
        source=_str(doc, "source"),
        recorder=_str(doc, "recorder"),
        started_at=_str(doc, "started_at"),
        duration=doc["duration_ns"],
        request=request,
        response=response,
        threads=threads,
        roots=tuple(roots),
        stages=stages,
        layers=layers,
        exceptions=exceptions,
        truncated=doc.get("truncated") is True,
        redacted=doc.get("redacted") is True,
        span_count=len(ordered),
    )
