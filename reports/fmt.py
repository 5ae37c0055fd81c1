"""Formatting shared by the renderers: times, shares, and untrusted strings."""

from __future__ import annotations

import re

# C0/C1 controls, line and paragraph separators, bidirectional overrides and lone
# surrogates: a request path can carry any of them, and each can rewrite a terminal,
# reorder a line or make the UTF-8 encoder fail.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, limit: int | None = None) -> str:
    """A string that prints as one line: control characters shown as escapes."""
    value = text if isinstance(text, str) else str(text)
    if not value.isprintable():
        value = _UNSAFE.sub(_escape_char, value)
    if limit is not None and len(value) > limit:
        value = value[: max(limit - 1, 0)] + "…"
    return value


def ms(ns: int | float) -> str:
    """Milliseconds with about four significant digits, without the unit."""
    value = ns / 1e6
    if value < 10:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def share(part: int | float, whole: int | float) -> str:
    """`part` as a percentage of `whole`, one decimal."""
    if whole <= 0:
        return "0.0%"
    return f"{100.0 * part / whole:.1f}%"


def count(n: int) -> str:
    return f"{n:,}"
