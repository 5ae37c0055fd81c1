"""Graphviz helpers shared by the call diagram and the sequence diagram.

Labels are built from untrusted strings (span names, paths, header values). Every
piece goes through `text`, which shows control characters as escapes and doubles
backslashes so DOT reads none of them as its own escapes (`\\N`, `\\l`, `\\"`) and
turns `&` into `&amp;` so none reads as an HTML entity; the graphviz package then
quotes the whole label, escaping the double quotes. `label`
marks the result as a plain string, so a value that looks like `<…>` is never taken
for an HTML-like label.
"""

from __future__ import annotations

import graphviz

from reports.fmt import safe

FONT = "Helvetica"


def text(value: object, limit: int | None = None) -> str:
    """One untrusted value, safe inside a quoted DOT string."""
    # Graphviz also decodes HTML entities (&amp;) inside ordinary quoted labels.
    return safe(value, limit).replace("\\", "\\\\").replace("&", "&amp;")


def label(*lines: str) -> str:
    """Lines already passed through `text`, joined with DOT's centred line break."""
    return graphviz.nohtml("\\n".join(lines))


def left_label(*lines: str) -> str:
    """Lines already passed through `text`, each left-justified (`\\l` ends a line)."""
    return graphviz.nohtml("".join(line + "\\l" for line in lines))
