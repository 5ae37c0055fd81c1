"""`timeline`: the request as a waterfall, one row per stage and per layer crossing.

Rows are in time order. Under each stage come the WSGI layers it crossed (↓ on the way
in, ↑ on the way out, ● for an application that calls nothing further) and the
functions that cost the most self time in it, with ticks where their calls ran. Bars
share one time axis: the whole trace window.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from rich import box
from rich.table import Table
from rich.text import Text

from reports.console import render_text
from reports.fmt import ms, safe, share
from reports.model import Layer, Stage, Trace
from reports.names import fit, short_name
from reports.options import RenderOptions
from reports.processors import costliest, stage_of_spans
from reports.style import stage_color, thread_color
from reports.summary import exceptions, header

_TIME_W = 9
_SHARE_W = 6


@dataclass(frozen=True)
class _Row:
    label: Text
    thread: str | None
    start: int
    end: int
    shown_ns: int
    bar: str  # "stage", "layer", "ticks" or "" (no bar)
    color: str
    ticks: tuple[tuple[int, int], ...] = ()


def _layer_rows(trace: Trace) -> dict[int, list[tuple[int, int, _Row]]]:
    """Each layer crossing, under the position of the stage occurrence it started in."""
    starts = [stage.start for stage in trace.stages]
    span_threads = {span.id: span.thread for span in trace.walk() if span.kind == "layer"}
    stage_index: dict[int, list[tuple[int, int, _Row]]] = {}

    def place(layer: Layer, arrow: str, start: int, end: int, order: int) -> None:
        at = bisect.bisect_right(starts, start) - 1
        stage = trace.stages[at] if at >= 0 else None
        # A stage's end is the next one's start: a crossing that begins there belongs to
        # the next stage, which a --stage filter may have removed.
        if stage is None or not (start < stage.end or start == stage.start == stage.end):
            return
        thread = span_threads.get(layer.span, stage.thread) if layer.span is not None \
            else stage.thread
        label = Text("  " + " " * min(layer.depth, 10) + arrow + " ")
        label.append(safe(layer.name, 60), style="bold" if arrow == "●" else "")
        if layer.visit:
            label.append(f" #{layer.visit + 1}", style="dim")
        row = _Row(label, thread, start, end, end - start, "layer", stage_color(stage.name))
        stage_index.setdefault(at, []).append((start, order, row))

    for layer in trace.layers:
        if layer.inner_enter is None:
            place(layer, "●", layer.enter, layer.exit, layer.depth)
            continue
        place(layer, "↓", layer.enter, layer.inner_enter, layer.depth)
        if layer.inner_exit is not None:
            place(layer, "↑", layer.inner_exit, layer.exit, -layer.depth)
    return stage_index


def _rows(trace: Trace, options: RenderOptions, label_w: int) -> list[_Row]:
    layer_rows = _layer_rows(trace)
    groups = stage_of_spans(trace, trace.walk())

    rows: list[_Row] = []
    previous_thread: str | None = None
    for position, stage in enumerate(trace.stages):
        if stage.thread != previous_thread and previous_thread is not None:
            thread = trace.thread(stage.thread)
            rows.append(_Row(Text(f"⇢ {safe(thread.label, 40)}", style="italic"),
                             None, stage.start, stage.start, -1, "", ""))
        previous_thread = stage.thread
        rows.append(_stage_row(stage))
        for _, _, row in sorted(layer_rows.get(position, []), key=lambda item: item[:2]):
            rows.append(row)
        for cost in costliest(groups[position], options.top_calls):
            if cost.self_ns <= 0:
                continue
            label = Text("    · ", style="dim")
            times = f" ×{cost.calls}" if cost.calls > 1 else ""
            room = label_w - len(label) - len(times)
            label.append(fit(safe(short_name(cost.name, cost.file)), room))
            label.append(times, style="dim")
            ticks = tuple((s.start, s.end) for s in cost.spans)
            rows.append(_Row(label, cost.spans[0].thread, stage.start, stage.end, cost.self_ns,
                             "ticks", stage_color(stage.name), ticks))
    return rows


def _stage_row(stage: Stage) -> _Row:
    label = Text(safe(stage.name, 40), style=f"bold {stage_color(stage.name)}")
    return _Row(label, stage.thread, stage.start, stage.end, stage.duration, "stage",
                stage_color(stage.name))


def _bar(row: _Row, width: int, window: int, color: bool) -> Text:
    bar = Text(no_wrap=True, overflow="crop")
    if not row.bar or width <= 0:
        return bar
    cells = [" "] * width
    scale = width / window

    def span(start: int, end: int, char: str) -> None:
        first = min(int(start * scale), width - 1)
        last = max(min(math.ceil(end * scale), width), first + 1)
        for i in range(first, last):
            cells[i] = char

    if row.bar == "ticks":
        for start, end in row.ticks:
            span(start, end, "·")
    else:
        span(row.start, row.end, "█" if row.bar == "stage" else "▬")
    bar.append("".join(cells), style=row.color if color else "")
    return bar


def render(trace: Trace, options: RenderOptions) -> str:
    width = options.width
    window = max(trace.duration, max((s.end for s in trace.stages), default=0), 1)
    thread_index = {thread.id: i for i, thread in enumerate(trace.threads)}
    thread_names = {t.id: safe(t.name, 24) for t in trace.threads}
    thread_w = max([len(name) for name in thread_names.values()] + [6])
    thread_w = min(thread_w, 14)
    # Between two columns: right padding, the (blank) divider, left padding.
    gaps = 3 * 4
    label_w = min(max(16, width * 38 // 100), 44)
    bar_w = width - label_w - thread_w - _TIME_W - _SHARE_W - gaps
    if bar_w < 12:
        label_w = max(label_w - (12 - bar_w), 8)
        bar_w = width - label_w - thread_w - _TIME_W - _SHARE_W - gaps
    rows = _rows(trace, options, label_w)

    axis_end = f"{ms(window)} ms"
    axis = Text("0" + " " * max(bar_w - 1 - len(axis_end), 1) + axis_end, no_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  header_style="bold", expand=False)
    table.add_column("stage / layer / costliest calls", width=label_w, no_wrap=True,
                     overflow="ellipsis")
    table.add_column("thread", width=thread_w, no_wrap=True, overflow="ellipsis")
    table.add_column(axis, width=bar_w, no_wrap=True, overflow="crop")
    table.add_column("ms", width=_TIME_W, justify="right", no_wrap=True)
    table.add_column("%", width=_SHARE_W, justify="right", no_wrap=True)
    for row in rows:
        if row.shown_ns < 0:  # a thread change: label only
            table.add_row(row.label)
            continue
        thread = Text("")
        if row.thread is not None and row.bar != "ticks":
            thread = Text(thread_names.get(row.thread, safe(row.thread, 24)),
                          style=thread_color(thread_index.get(row.thread, 0)))
        style = "dim" if row.bar == "ticks" else ""
        table.add_row(row.label, thread, _bar(row, bar_w, window, options.color),
                      Text(ms(row.shown_ns), style=style),
                      Text(share(row.shown_ns, window), style=style))
    parts: list[Text | Table] = [*header(trace, width), Text(""), table]
    if not trace.stages:
        parts.append(Text("no stages recorded in this trace", style="yellow"))
    footer = exceptions(trace, width)
    if footer:
        parts.append(Text(""))
        parts.extend(footer)
    return render_text(parts, width, options.color)
