"""Rendering rich renderables to a string at a fixed width, with or without colour."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console, RenderableType


def render_text(renderables: Iterable[RenderableType], width: int, color: bool) -> str:
    """Print `renderables` on a console of `width` columns and return what it printed.

    Without colour the console writes no escape codes at all and trailing blanks are
    cut, so the text is stable enough for golden files and diffs.
    """
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system="auto" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        # Colour follows the user's terminal (TERM, COLORTERM); plain text must not
        # depend on the environment at all (COLUMNS, NO_COLOR, …).
        _environ=None if color else {},
    )
    for renderable in renderables:
        console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    if not color:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text
