"""One thread's events → spans, cut into windows at markers.

A ThreadStream consumes a thread's raw events in order, keeping a shadow stack of the
frames open on that thread. Completed spans collect until a marker closes the current
window; the window is then handed out as a Part: the spans that overlap it (ancestors
that began earlier or are still open are clipped to it), and its markers.

Windows by thread role:
- accept thread: opens at ``accept``, cut at ``queued`` (one Part per connection);
- worker thread: open from ``idle`` (the worker waits for a task); cut at
  ``request-end`` when the connection stays open, else at the next ``idle``, so that the
  connection's tear-down and the worker's return belong to its last request; a keep-alive
  request after the first opens at ``request``, dropping the idle wait before it;
- the tracing filter alone: opens at ``app-call``, cut at ``standalone-end``;
- startup: the main thread from installation until ``startup-end``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracer import markers as M
from tracer.names import COLLAPSED, OPAQUE, VISIBLE, NameTable

# Span tuple fields, kept flat because thousands are made per request.
SID, PARENT, KEY, KIND, START, END, LAYER, CLIPPED = range(8)

# Stack entry fields: the id children use as parent, own span id (None when hidden),
# key, start, kind, layer visit, own parent id.
_E_CHILD_PARENT, _E_SID, _E_KEY, _E_START, _E_KIND, _E_LAYER, _E_PARENT = range(7)


@dataclass
class Part:
    """A window of one thread: what a trace is assembled from."""

    kind: str                 # "accept", "worker", "standalone", "startup"
    thread: int
    start: int
    end: int
    # tuples (SID … CLIPPED below), or a tracer._crecorder.SpanBlock (tracer/cspans.py)
    spans: Any = field(default_factory=list)
    marks: list[tuple[int, str, Any]] = field(default_factory=list)
    truncated: bool = False
    events: int = 0
    python_calls: int = 0
    c_calls: int = 0


class ThreadStream:
    def __init__(self, ident: int, names: NameTable, max_events: int) -> None:
        self.ident = ident
        self.names = names
        self.max_events = max_events
        self.stack: list[list[Any]] = []
        self.done: list[tuple] = []
        self.marks: list[tuple[int, str, Any]] = []
        self.next_id = 1
        self.window_start: int | None = None   # None: nothing worth keeping is running
        self.open_on_first_event = True
        self.pending_layer: Any = None
        self.request_open = False               # a worker request awaits its cut
        self.events = 0
        self.python_calls = 0
        self.c_calls = 0
        self.truncated = False
        self.last_time = 0

    # -- feeding -----------------------------------------------------------------
    def feed(self, events: list[tuple[int, str, Any]], out: list[Part]) -> None:
        stack = self.stack
        visibility = self.names.visibility
        for t, event, obj in events:
            if event == "mark":
                self._on_mark(t, obj[0], obj[1], out)
                continue
            if self.window_start is None:
                if self.open_on_first_event:
                    self._open(t)
            keep = self.window_start is not None
            if keep:
                self.events += 1
            if event == "call":
                top = stack[-1] if stack else None
                parent = top[_E_CHILD_PARENT] if top is not None else None
                if top is not None and top[_E_KIND] in _HIDES_CHILDREN:
                    stack.append([parent, None, obj, t, "opaque", None, parent])
                    continue
                seen = visibility(obj)
                if seen == COLLAPSED:
                    sid = self.next_id
                    self.next_id += 1
                    stack.append([sid, sid, obj, t, "collapsed", None, parent])
                    if keep:
                        self.python_calls += 1
                    continue
                if seen != VISIBLE:
                    kind = "opaque" if seen == OPAQUE else "hidden"
                    stack.append([parent, None, obj, t, kind, None, parent])
                    continue
                sid = self.next_id
                self.next_id += 1
                layer = self.pending_layer
                if layer is not None:
                    self.pending_layer = None
                stack.append([sid, sid, obj, t, "layer" if layer is not None else "call", layer,
                              parent])
                if keep:
                    self.python_calls += 1
            elif event == "return":
                self._pop_python(obj, t, keep)
            elif event == "c_call":
                top = stack[-1] if stack else None
                if top is not None and (top[_E_SID] is None and top[_E_KIND] != "c_call"
                                        or top[_E_KIND] == "collapsed"):
                    # A C call made by our own hook code is our overhead, not the app's.
                    stack.append([top[_E_CHILD_PARENT], None, obj, t, "c_call", None, None])
                    continue
                sid = self.next_id
                self.next_id += 1
                parent = top[_E_CHILD_PARENT] if top is not None else None
                stack.append([parent, sid, obj, t, "c_call", None, parent])
                if keep:
                    self.c_calls += 1
            else:  # c_return, c_exception
                if stack and stack[-1][_E_KIND] == "c_call":
                    self._close(stack.pop(), t, keep)
            self.last_time = t

    def _pop_python(self, code: Any, t: int, keep: bool) -> None:
        stack = self.stack
        for depth in range(len(stack) - 1, -1, -1):
            entry = stack[depth]
            if entry[_E_KIND] != "c_call" and entry[_E_KEY] is code:
                while len(stack) > depth:
                    self._close(stack.pop(), t, keep)
                return
        # A return for a frame that began before the hook was installed: nothing to close.

    def _close(self, entry: list[Any], t: int, keep: bool) -> None:
        sid = entry[_E_SID]
        if sid is None or not keep or self.window_start is None:
            return
        if t <= self.window_start:
            return
        if len(self.done) >= self.max_events:
            self.truncated = True
            return
        self.done.append((sid, entry[_E_PARENT], entry[_E_KEY], _span_kind(entry[_E_KIND]),
                          entry[_E_START], t, entry[_E_LAYER], False))

    # -- windows -----------------------------------------------------------------
    def _open(self, t: int) -> None:
        self.window_start = t
        self.done = []
        self.marks = []
        self.events = 0
        self.python_calls = 0
        self.c_calls = 0
        self.truncated = False

    def _close_window(self) -> None:
        self.window_start = None
        self.open_on_first_event = False
        self.done = []
        self.marks = []

    @property
    def depth(self) -> int:
        """Frames open on the shadow stack."""
        return len(self.stack)

    def _clear_stack(self) -> None:
        # In place: feed() holds this list in a local while it runs.
        self.stack.clear()

    def _cut(self, kind: str, t: int) -> Part:
        start = self.window_start if self.window_start is not None else t
        spans = []
        for span in self.done:
            if span[END] <= start:
                continue
            if span[START] < start:
                span = span[:START] + (start,) + span[END:CLIPPED] + (True,)
            spans.append(span)
        for entry in self.stack:
            sid = entry[_E_SID]
            if sid is None:
                continue
            begin = entry[_E_START]
            spans.append((sid, entry[_E_PARENT], entry[_E_KEY], _span_kind(entry[_E_KIND]),
                          max(begin, start), t, entry[_E_LAYER], True))
        part = Part(kind, self.ident, start, t, spans, self.marks, self.truncated,
                    self.events, self.python_calls, self.c_calls)
        self.done = []
        self.marks = []
        self.events = 0
        self.python_calls = 0
        self.c_calls = 0
        self.truncated = False
        return part

    def _on_mark(self, t: int, name: str, payload: Any, out: list[Part]) -> None:
        if name == M.ATTACHED:
            # Frames left from an earlier attachment never report their returns.
            self._clear_stack()
            return
        if name == M.LAYER_ENTER:
            self.pending_layer = payload
        if name == M.ACCEPT or name == M.APP_CALL and _standalone(payload):
            self._open(t)
        elif name == M.REQUEST:
            if payload[1] > 0:
                self._open(t)  # keep-alive: the wait for these bytes is not the request's
            elif self.window_start is None:
                self._open(t)
            self.request_open = True
        elif name == M.IDLE:
            if self.request_open:
                self.marks.append((t, name, payload))
                out.append(self._cut("worker", t))
                self.request_open = False
            self._open(t)
            return
        elif name == M.STARTUP_STEP and self.window_start is None:
            self._open(t)
        if self.window_start is None:
            return
        self.marks.append((t, name, payload))
        if name == M.QUEUED:
            out.append(self._cut("accept", t))
            self._close_window()
        elif name == M.REQUEST_END and payload[2]:
            out.append(self._cut("worker", t))
            self.request_open = False
        elif name == M.STANDALONE_END:
            out.append(self._cut("standalone", t))
            self._close_window()
        elif name == M.STARTUP_END:
            out.append(self._cut("startup", t))
            self._close_window()


_HIDES_CHILDREN = ("opaque", "collapsed")


def _span_kind(entry_kind: str) -> str:
    return "call" if entry_kind == "collapsed" else entry_kind


def _standalone(record: Any) -> bool:
    return bool(getattr(record, "standalone", False))
