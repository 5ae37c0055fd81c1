"""`pylon-trace report FILE`: render a saved trace.

The file is read with tracer.trace_format.load_trace, built into a span tree once,
narrowed by the filters (--thread, --stage, --depth, --min-ms) and handed to one
renderer. Text goes to stdout unless -o names a file; png needs -o. svg and png run
Graphviz's `dot`; when it is missing the DOT source is still written next to OUT.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from pylon_trace.errors import CliError, ToolMissingError
from reports.graphviz_run import DotFailed, DotNotFound, run_dot
from reports.model import build_trace
from reports.options import RenderOptions
from reports.processors import FilterError, Filters, apply_filters
from tracer.trace_format import ALL_STAGES, load_trace

MIN_WIDTH, MAX_WIDTH = 60, 1000
DEFAULT_FILE_WIDTH = 100
# Formats the sequence diagram is rendered to when OUT has one of these suffixes.
GRAPHVIZ_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


@dataclass(frozen=True)
class Format:
    module: str
    help: str
    graphviz: str | None = None  # render the DOT source with `dot -T<this>`
    binary: bool = False
    console: bool = False  # drawn with rich: takes --width and colour


FORMATS: dict[str, Format] = {
    "timeline": Format("reports.render_timeline", "waterfall of stages and layers (default)",
                       console=True),
    "tree": Format("reports.render_tree", "call tree with total/self time, hot path marked",
                   console=True),
    "stages": Format("reports.render_stages", "table of stages: time, share, calls",
                     console=True),
    "layers": Format("reports.render_layers", "the middleware onion, in and out, with changes",
                     console=True),
    "dot": Format("reports.render_dot", "Graphviz DOT source of the call diagram"),
    "svg": Format("reports.render_dot", "the call diagram as SVG (runs dot)", graphviz="svg"),
    "png": Format("reports.render_dot", "the call diagram as PNG (runs dot; needs -o)",
                  graphviz="png", binary=True),
    "sequence": Format("reports.render_sequence",
                       "sequence diagram of the request's journey: DOT, or SVG/PNG/PDF when "
                       "OUT ends in .svg/.png/.pdf"),
    "chrome": Format("reports.render_chrome", "Chrome Trace Event JSON (Perfetto)"),
    "speedscope": Format("reports.render_speedscope", "speedscope JSON"),
    "json": Format("reports.render_json", "the filtered trace, same schema"),
}


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number ≥ 0")
    return value


def _width(text: str) -> int:
    value = _non_negative_int(text)
    if not MIN_WIDTH <= value <= MAX_WIDTH:
        raise argparse.ArgumentTypeError(f"must be between {MIN_WIDTH} and {MAX_WIDTH}")
    return value


def _stages(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in ALL_STAGES:
            raise argparse.ArgumentTypeError(
                f"unknown stage {name!r} (stages: {', '.join(ALL_STAGES)})")
    if not names:
        raise argparse.ArgumentTypeError("no stage named")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace", metavar="FILE", help="a trace written by the tracer (.json)")
    parser.add_argument(
        "-f", "--format", default="timeline", choices=list(FORMATS), metavar="FORMAT",
        help="; ".join(f"{name}: {fmt.help}" for name, fmt in FORMATS.items()))
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="write to OUT instead of stdout (required for png)")
    parser.add_argument("--depth", type=_non_negative_int, metavar="N",
                        help="only calls at most N levels below each thread's outermost span")
    parser.add_argument("--min-ms", type=_milliseconds, metavar="X",
                        help="drop calls shorter than X ms (with what they called)")
    parser.add_argument("--stage", type=_stages, action="append", metavar="NAME",
                        help="only these stages (repeat, or NAME,NAME)")
    parser.add_argument("--thread", action="append", metavar="NAME",
                        help="only this thread: id (T2), name or role (worker); repeatable")
    parser.add_argument("--width", type=_width, metavar="W",
                        help="console width for text formats (default: terminal, or 100)")
    parser.add_argument("--max-nodes", type=_positive_int, metavar="N",
                        help="node budget for tree (150) and call diagrams (60)")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")


def _to_stdout(output: str | None) -> bool:
    return output is None or output == "-"


def _write(output: str | None, data: bytes) -> None:
    if _to_stdout(output):
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # a text-only stdout (an embedding program's): decode back
            sys.stdout.write(data.decode("utf-8"))
        else:
            sys.stdout.flush()
            stream.write(data)
        sys.stdout.flush()
        return
    assert output is not None
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None


def _encode(text: str) -> bytes:
    # Lone surrogates from a JSON "\ud800" cannot be UTF-8: show them as escapes.
    return text.encode("utf-8", "backslashreplace")


def _dot_path(output: str | None) -> str | None:
    if _to_stdout(output):
        return None
    assert output is not None
    path = Path(output).with_suffix(".dot")
    if str(path) == output:
        path = Path(output + ".dot")
    return str(path)


def _run_dot(source: str, target: str, output: str | None) -> bytes:
    """`dot -T<target>` on the source; on failure keep the source next to OUT."""
    try:
        return run_dot(source, target)
    except DotNotFound:
        saved = _save_source(source, output)
        raise ToolMissingError(
            "Graphviz's `dot` program was not found on PATH; install it "
            "(Debian/Ubuntu: apt-get install graphviz)" + saved) from None
    except DotFailed as exc:
        saved = _save_source(source, output)
        raise ToolMissingError(str(exc) + saved) from None


def _save_source(source: str, output: str | None) -> str:
    path = _dot_path(output)
    if path is None:
        return "; use --format dot to get the DOT source"
    _write(path, _encode(source))
    return f"; the DOT source was written to {path}"


def run(args: argparse.Namespace) -> int:
    # A report builds one big tree that lives until the process ends: the cyclic
    # collector would only rescan it, at up to a fifth of the run time on 100k spans.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    fmt = FORMATS[args.format]
    output = args.output
    target = fmt.graphviz
    if args.format == "sequence" and not _to_stdout(output):
        target = GRAPHVIZ_SUFFIXES.get(Path(output).suffix.lower())
    if fmt.binary and _to_stdout(output):
        raise CliError(f"{args.format} output is binary: give a file with -o OUT")

    trace = build_trace(load_trace(args.trace))
    filters = Filters(
        stages=tuple(name for group in args.stage or [] for name in group),
        threads=tuple(args.thread or ()),
        max_depth=args.depth,
        min_ns=round(args.min_ms * 1e6) if args.min_ms else None,
    )
    try:
        trace = apply_filters(trace, filters)
    except FilterError as exc:
        raise CliError(f"{args.trace}: {exc}") from None

    interactive = _to_stdout(output) and sys.stdout.isatty()
    width = args.width
    if width is None:
        width = shutil.get_terminal_size((DEFAULT_FILE_WIDTH, 24)).columns if interactive \
            else DEFAULT_FILE_WIDTH
        width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    color = fmt.console and interactive and not args.no_color and "NO_COLOR" not in os.environ
    options = RenderOptions(
        width=width,
        color=color,
        max_nodes=args.max_nodes,
        min_ns=filters.min_ns or 0,
    )
    renderer = importlib.import_module(fmt.module)
    text: str = renderer.render(trace, options)
    if target is not None:
        _write(output, _run_dot(text, target, output))
    else:
        _write(output, _encode(text))
    return 0
