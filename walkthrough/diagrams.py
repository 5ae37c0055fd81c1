"""The pictures beside the document, drawn by the report renderers from the same traces:
the console timeline as text, the call diagram and the sequence diagram as SVG."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from pylon_trace.errors import ToolMissingError
from reports import render_dot, render_sequence, render_timeline
from reports.graphviz_run import DotFailed, DotNotFound, run_dot
from reports.model import Trace
from reports.options import RenderOptions

TIMELINE_WIDTH = 100


@dataclass(frozen=True)
class Written:
    kind: str     # "timeline", "calls" or "sequence"
    path: str     # as written
    name: str     # relative to the document


def timeline_text(trace: Trace, width: int = TIMELINE_WIDTH, color: bool = False) -> str:
    return render_timeline.render(trace, RenderOptions(width=width, color=color))


def svg(dot_source: str) -> bytes:
    try:
        return run_dot(dot_source, "svg")
    except DotNotFound:
        raise ToolMissingError(
            "Graphviz's `dot` program was not found on PATH; install it (Debian/Ubuntu: "
            "apt-get install graphviz) or pass --no-diagrams") from None
    except DotFailed as exc:
        raise ToolMissingError(str(exc)) from None


def write_diagrams(trace: Trace, slug: str, directory: str, relative_to: str) -> list[Written]:
    """<slug>-timeline.txt, <slug>-calls.svg and <slug>-sequence.svg in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    options = RenderOptions(width=TIMELINE_WIDTH)
    outputs = [
        ("timeline", f"{slug}-timeline.txt", timeline_text(trace).encode("utf-8")),
        ("calls", f"{slug}-calls.svg", svg(render_dot.render(trace, options))),
        ("sequence", f"{slug}-sequence.svg", svg(render_sequence.render(trace, options))),
    ]
    written = []
    for kind, name, data in outputs:
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        written.append(Written(kind, path, os.path.relpath(path, relative_to).replace(os.sep, "/")))
    return written


def slug_for(path: str, taken: set[str]) -> str:
    """A file-name-safe name for a request path, unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", path.split("?", 1)[0]).strip("-").lower()[:40] or "root"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


_SVG_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)


def inline_svg(data: bytes) -> str:
    """An SVG file's <svg> element, ready to sit inside an HTML page."""
    return _SVG_PROLOGUE.sub("", data.decode("utf-8"), count=1)
