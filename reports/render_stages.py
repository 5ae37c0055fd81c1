"""`stages`: one table row per stage occurrence, with its share of the request and calls."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from reports.console import render_text
from reports.fmt import count, ms, safe, share
from reports.model import Span, Trace
from reports.options import RenderOptions
from reports.processors import stage_of_spans
from reports.style import stage_color
from reports.summary import exceptions, header


def _calls(spans: list[Span]) -> tuple[int, int]:
    python = sum(s.calls for s in spans if s.kind in ("call", "layer"))
    native = sum(s.calls for s in spans if s.kind == "c_call")
    return python, native


def _share_bar(part: int, whole: int, cells: int) -> str:
    if whole <= 0:
        return ""
    eighths = round(cells * 8 * min(part / whole, 1.0))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])


def render(trace: Trace, options: RenderOptions) -> str:
    width = options.width
    window = max(trace.duration, 1)
    groups = stage_of_spans(trace, trace.walk())
    wide = width >= 90
    bar_cells = 10 if wide else 4

    rows: list[dict[str, Text | str]] = []
    total_ns = total_python = total_native = 0
    for position, stage in enumerate(trace.stages):
        python, native = _calls(groups[position])
        total_ns += stage.duration
        total_python += python
        total_native += native
        bar = Text(_share_bar(stage.duration, window, bar_cells).ljust(bar_cells + 1),
                   style=stage_color(stage.name))
        bar.append(share(stage.duration, window).rjust(6))
        rows.append({
            "#": str(position + 1),
            "stage": Text(safe(stage.name, 30), style=f"bold {stage_color(stage.name)}"),
            "thread": Text(safe(trace.thread(stage.thread).name, 24) if stage.thread else "-"),
            "start ms": ms(stage.start),
            "ms": ms(stage.duration),
            "share": bar,
            "calls": count(python),
            "C calls": count(native),
        })
    footers = {"stage": "total", "ms": ms(total_ns), "share": share(total_ns, window),
               "calls": count(total_python), "C calls": count(total_native)}
    # A narrow terminal loses the columns that repeat what the order already says.
    names = ["#", "stage", "thread", "start ms", "ms", "share", "calls", "C calls"]
    if not wide:
        names = [n for n in names if n not in ("#", "start ms")]

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold",
                  show_footer=True, footer_style="bold")
    for name in names:
        table.add_column(name, footer=footers.get(name, ""), no_wrap=True,
                         justify="left" if name in ("stage", "thread", "share") else "right",
                         max_width=20 if name in ("stage", "thread") else None,
                         overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[name] for name in names))

    parts: list[Text | Table] = [*header(trace, width), Text("")]
    parts.append(table if trace.stages else Text("no stages recorded in this trace",
                                                 style="yellow"))
    unstaged = [s for s in trace.walk() if s.stage not in {st.name for st in trace.stages}]
    if unstaged:
        parts.append(Text(f"{count(len(unstaged))} spans have no stage of this list",
                          style="yellow"))
    footer = exceptions(trace, width)
    if footer:
        parts.extend([Text(""), *footer])
    return render_text(parts, width, options.color)
