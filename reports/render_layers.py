"""`layers`: the middleware onion, down and back up, with what each layer changed.

On the way in, a layer's row shows the environ keys it added (+), changed (~) or
removed (-); on the way out, the status it returned and the headers it added, changed
or removed. A second visit (the 404's subrequest through StatusCodeRedirect) is
marked #2.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from reports.console import render_text
from reports.fmt import ms, safe
from reports.model import Layer, Trace
from reports.options import RenderOptions
from reports.summary import exceptions, header

_VALUE = 80  # environ values are reprs of up to 200 characters; a table cell needs less


def _name(layer: Layer) -> Text:
    text = Text("  " * min(layer.depth, 12))
    text.append(safe(layer.name, 40), style="bold")
    if layer.visit:
        text.append(f" #{layer.visit + 1}", style="dim")
    return text


def _changes(added: list[str], changed: list[str], removed: list[str]) -> Text:
    """One line per change, marked + (added), ~ (changed) or - (removed)."""
    text = Text()
    entries = ([("+ ", "green", line) for line in added]
               + [("~ ", "yellow", line) for line in changed]
               + [("- ", "red", line) for line in removed])
    for i, (sign, style, line) in enumerate(entries):
        text.append("\n" if i else "")
        text.append(sign, style=style)
        text.append(line)
    if not entries:
        text.append("no change", style="dim")
    return text


def _environ(layer: Layer) -> Text:
    return _changes(
        [f"{safe(key, 60)} = {safe(value, _VALUE)}" for key, value in layer.environ_added],
        [f"{safe(key, 60)}: {safe(old, _VALUE)} → {safe(new, _VALUE)}"
         for key, old, new in layer.environ_changed],
        [safe(key, 60) for key in layer.environ_removed],
    )


def _status(layer: Layer) -> Text:
    text = Text()
    if layer.raised is not None:
        text.append("✗ raised " + safe(layer.raised, 40), style="bold red")
        return text
    if layer.status is None:
        return Text("-", style="dim")
    text.append(safe(layer.status, 40))
    if layer.status_before is not None and layer.status_before != layer.status:
        text.append(f" ← {safe(layer.status_before, 40)}", style="yellow")
    elif layer.status_before is None and layer.inner_enter is not None:
        text.append(" (new)", style="dim")  # its inner application gave no status: raised
    return text


def _headers(layer: Layer) -> Text:
    return _changes(
        [f"{safe(name, 40)}: {safe(value, _VALUE)}" for name, value in layer.headers_added],
        [f"{safe(name, 40)}: {safe(old, _VALUE)} → {safe(new, _VALUE)}"
         for name, old, new in layer.headers_changed],
        [f"{safe(name, 40)}: {safe(value, _VALUE)}" for name, value in layer.headers_removed],
    )


def _table(title: str, columns: list[tuple[str, str]], name_width: int) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, header_style="bold", expand=True)
    for name, justify in columns:
        if name == "layer":
            # The indented names draw the onion: never wrapped.
            table.add_column(name, no_wrap=True, overflow="ellipsis", width=name_width)
        elif name == "status":
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=32)
        elif name in ("environ", "headers"):
            table.add_column(name, justify=justify, overflow="fold", ratio=1)
        else:
            table.add_column(name, justify=justify, no_wrap=True)
    return table


def _startup(trace: Trace, width: int) -> list[Text]:
    startup: Any = trace.doc.get("startup")
    lines = [Text("a startup trace: no request went through the layers", style="yellow")]
    if not isinstance(startup, dict):
        return lines
    stack = startup.get("middleware")
    if isinstance(stack, list) and stack:
        lines.append(Text(""))
        lines.append(Text("the stack as built, outermost first:", style="bold"))
        for depth, name in enumerate(stack):
            lines.append(Text("  " * (depth + 1) + "→ " + safe(name, width)))
    for part in ("server", "app"):
        section = startup.get(part)
        if isinstance(section, dict):
            line = Text(f"{part}: ", style="bold")
            line.append(" ".join(safe(section.get(key, ""), 80) for key in
                                 ("section", "use", "entry_point")
                                 if isinstance(section.get(key), str)))
            lines.append(line)
    return lines


def render(trace: Trace, options: RenderOptions) -> str:
    width = options.width
    parts: list[Text | Table] = [*header(trace, width), Text("")]
    if not trace.layers:
        if trace.kind == "startup":
            parts.extend(_startup(trace, width))
        else:
            parts.append(Text("no WSGI layers recorded in this trace", style="yellow"))
    else:
        name_width = min(max(len(_name(layer)) for layer in trace.layers), width // 3)
        down = _table("on the way in ↓", [("layer", "left"), ("at ms", "right"),
                                           ("in ms", "right"), ("environ", "left")], name_width)
        for layer in sorted(trace.layers, key=lambda lay: (lay.enter, lay.depth)):
            down.add_row(_name(layer), ms(layer.enter), ms(layer.time_in), _environ(layer))
        up = _table("on the way out ↑", [("layer", "left"), ("at ms", "right"),
                                          ("out ms", "right"), ("status", "left"),
                                          ("headers", "left")], name_width)
        # Returns happen innermost first: order by the moment each layer got control back.
        returns = sorted(trace.layers, key=lambda lay: (
            lay.inner_exit if lay.inner_exit is not None else lay.exit, -lay.depth))
        for layer in returns:
            back = layer.inner_exit if layer.inner_exit is not None else layer.exit
            up.add_row(_name(layer), ms(back), ms(layer.time_out), _status(layer),
                       _headers(layer))
        parts.extend([down, Text(""), up])
    footer = exceptions(trace, width)
    if footer:
        parts.extend([Text(""), *footer])
    return render_text(parts, width, options.color)
