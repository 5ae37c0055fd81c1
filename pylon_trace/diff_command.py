"""`pylon-trace diff A.json B.json`: two requests side by side.

Stages and layer visits are aligned in order, so what one request went through and the
other did not stands out (a 404's subrequest through StatusCodeRedirect, a controller
never reached); then the calls where they went different ways and the largest time
differences.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pylon_trace.errors import CliError
from reports.console import render_text
from reports.diff import CallRow, TraceDiff, diff
from reports.fmt import ms, safe
from reports.model import Layer, Trace, build_trace
from reports.names import short_name
from tracer.trace_format import load_trace
from walkthrough.paths import PathStyle

DEFAULT_WIDTH = 110


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _width(text: str) -> int:
    value = _positive(text)
    if not 60 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 60 and 1000")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A.json", help="the first request's trace")
    parser.add_argument("b", metavar="B.json", help="the second request's trace")
    parser.add_argument("--top", type=_positive, default=15, metavar="N",
                        help="calls listed per table (default 15)")
    parser.add_argument("--width", type=_width, metavar="W",
                        help="console width (default: terminal, or 110)")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")


def load_request(path: str) -> Trace:
    doc = load_trace(path)
    if doc.get("kind") != "request":
        raise CliError(f"{path}: a {doc.get('kind')} trace; diff compares two request traces")
    return build_trace(doc)


def run(args: argparse.Namespace) -> int:
    a, b = load_request(args.a), load_request(args.b)
    result = diff(a, b, top=args.top)
    interactive = sys.stdout.isatty()
    width = args.width or (shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
                           if interactive else DEFAULT_WIDTH)
    color = interactive and not args.no_color and "NO_COLOR" not in os.environ
    sys.stdout.write(render_text(renderables(result, PathStyle(os.getcwd())), width, color))
    sys.stdout.flush()
    return 0


def _ms(ns: int | None) -> str:
    return "—" if ns is None else ms(ns)


def _delta(a: int | None, b: int | None) -> Text:
    if a is None or b is None:
        return Text("only in " + ("B" if a is None else "A"), style="bold yellow")
    change = b - a
    sign = "+" if change >= 0 else "−"
    return Text(f"{sign}{ms(abs(change))}", style="red" if change > 0 else "green")


def _title(label: str, trace: Trace) -> Text:
    text = Text(f"{label}  ", style="bold")
    text.append(safe(trace.title, 120))
    text.append(f"  {ms(trace.duration)} ms  ", style="bold")
    text.append(f"{trace.trace_id}", style="dim")
    return text


def summary(result: TraceDiff) -> list[str]:
    """The differences worth a sentence, before the tables."""
    lines = []
    a, b = result.a, result.b
    status_a = a.response.status if a.response else "?"
    status_b = b.response.status if b.response else "?"
    if status_a != status_b:
        lines.append(f"Status: A answered {status_a}, B answered {status_b}.")
    for sub in result.subrequests:
        other = "B" if sub.side == "A" else "A"
        sender = f"{sub.sender}'s subrequest" if sub.sender else "a subrequest"
        lines.append(f"{sub.side} went down the stack again through {sender}: "
                     f"{', '.join(sub.visits)}; {other} did not.")
    stages_a = [row.name for row in result.stages if row.a_ns is not None]
    stages_b = [row.name for row in result.stages if row.b_ns is not None]
    if stages_a != stages_b:
        lines.append(f"Stages: A went through {len(stages_a)}, B through {len(stages_b)} "
                     "(rows marked 'only in' below).")
    change = b.duration - a.duration
    lines.append(f"Total: B took {ms(abs(change))} ms {'more' if change >= 0 else 'less'} "
                 f"than A ({ms(a.duration)} → {ms(b.duration)} ms).")
    return lines


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, expand=False, min_width=len(title))
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 or column == "where" else "right",
                         overflow="fold")
    return table


def _layer_cell(layer: Layer | None) -> tuple[str, str]:
    if layer is None:
        return "—", ""
    return ms(layer.exit - layer.enter), layer.status or ""


def renderables(result: TraceDiff, style: PathStyle) -> list[RenderableType]:
    out: list[RenderableType] = [_title("A", result.a), _title("B", result.b), Text()]
    out += [Text(line) for line in summary(result)]
    out.append(Text())

    stages = _table("Stages, in order", "stage", "A ms", "B ms", "Δ ms")
    for row in result.stages:
        stages.add_row(row.name, _ms(row.a_ns), _ms(row.b_ns), _delta(row.a_ns, row.b_ns))
    out += [stages, Text()]

    layers = _table("Layer visits, in order", "layer", "A ms", "A status", "B ms", "B status",
                    "Δ ms")
    for row in result.layers:
        a_ms, a_status = _layer_cell(row.a)
        b_ms, b_status = _layer_cell(row.b)
        layers.add_row(safe(row.label, 60), a_ms, a_status, b_ms, b_status,
                       _delta(_span_ns(row.a), _span_ns(row.b)))
    out += [layers, Text()]

    for side, rows, more in (("A", result.only_a, result.more_only_a),
                             ("B", result.only_b, result.more_only_b)):
        table = _table(f"Calls only in {side}: where the requests went different ways "
                       "(each call's caller ran in both)", "function", "where", "calls", "ms")
        for row in rows:
            table.add_row(_name(row), style.where(row.file, row.line),
                          str(row.a_calls or row.b_calls), _ms(row.a_ns or row.b_ns))
        if not rows:
            table.add_row("none", "", "", "")
        elif more:
            table.add_row(Text(f"… and {more} more calls below or beyond these", style="dim"),
                          "", "", "")
        out += [table, Text()]

    changed = _table("Largest time differences (functions both ran)", "function", "A calls",
                     "A ms", "B calls", "B ms", "Δ ms")
    for row in result.changed:
        changed.add_row(_name(row), str(row.a_calls), _ms(row.a_ns), str(row.b_calls),
                        _ms(row.b_ns), _delta(row.a_ns, row.b_ns))
    out.append(changed)
    return out


def _name(row: CallRow) -> str:
    return safe(short_name(row.name, row.file), 70)


def _span_ns(layer: Layer | None) -> int | None:
    return None if layer is None else layer.exit - layer.enter
