"""The compiled span path: events → spans → the spans' JSON, in C (tracer/_crecorder_spans.c).

With the compiled recorder, the assembler drains each thread's events as an EventBlock
and feeds it to a CThreadStream, whose SpanCore keeps the shadow stack in C; markers still
come back to ThreadStream._on_mark, so windows are cut by the same Python code as with the
pure-Python recorder. A cut window's spans stay in C (a SpanBlock) until
DocumentBuilder renders them straight to JSON text (RawSpans), which the writer splices
into the document. tracer/thread_stream.py and tracer/document.py remain the reference:
tests feed the same events to both paths and compare the traces.
"""

from __future__ import annotations

import json
from typing import Any

from tracer.names import COLLAPSED, VISIBLE, NameTable
from tracer.stages import named_stage
from tracer.thread_stream import Part, ThreadStream

try:
    from tracer._crecorder import Naming, SpanBlock, SpanCore
except ImportError:  # no compiler when installed: the Python path does everything
    Naming = SpanBlock = SpanCore = None


def available() -> bool:
    return SpanCore is not None


class RawSpans:
    """A trace's spans array, already JSON: what a document holds in place of a list."""

    __slots__ = ("text", "count")

    def __init__(self, text: str, count: int) -> None:
        self.text = text
        self.count = count

    def __len__(self) -> int:
        return self.count

    def decode(self) -> list[dict[str, Any]]:
        return json.loads(self.text)


def make_naming(names: NameTable) -> Any:
    """The C side's view of a NameTable: asked once per code object or C function."""

    def classify(code: Any) -> tuple[int, str | None]:
        seen = names.visibility(code)
        stage = named_stage(names.code(code)[0]) if seen in (VISIBLE, COLLAPSED) else None
        return seen, stage

    def describe(obj: Any, is_c: int) -> tuple[str, str]:
        if is_c:
            name, file, line = names.c_function(obj), None, None
        else:
            name, file, line = names.code(obj)
        fragment = json.dumps({"name": name, "file": file, "line": line}, ensure_ascii=False,
                              separators=(",", ":"))
        return fragment[1:-1], name

    return Naming(classify, describe)


class CThreadStream(ThreadStream):
    """ThreadStream whose event loop and span store are a SpanCore."""

    def __init__(self, ident: int, names: NameTable, max_events: int, naming: Any) -> None:
        self.ident = ident
        self.names = names
        self.max_events = max_events
        self.core = SpanCore(naming, max_events)
        self.marks: list[tuple[int, str, Any]] = []
        self.request_open = False

    @property
    def window_start(self) -> int | None:  # type: ignore[override]
        return self.core.window_start

    @property
    def pending_layer(self) -> Any:  # type: ignore[override]
        return self.core.pending_layer

    @pending_layer.setter
    def pending_layer(self, value: Any) -> None:
        self.core.pending_layer = value

    @property
    def depth(self) -> int:
        return self.core.depth

    def feed(self, events: Any, out: list[Part]) -> None:
        """``events``: an EventBlock from the recorder's drain_blocks()."""
        self.core.feed(events, lambda t, name, payload: self._on_mark(t, name, payload, out))

    def _clear_stack(self) -> None:
        self.core.clear_stack()

    def _open(self, t: int) -> None:
        self.core.open(t)
        self.marks = []

    def _close_window(self) -> None:
        self.core.close_window()
        self.marks = []

    def _cut(self, kind: str, t: int) -> Part:
        block, start, truncated, events, python_calls, c_calls = self.core.cut(t)
        part = Part(kind, self.ident, start, t, block, self.marks, truncated, events,
                    python_calls, c_calls)
        self.marks = []
        return part


def is_block(spans: Any) -> bool:
    return SpanBlock is not None and isinstance(spans, SpanBlock)
