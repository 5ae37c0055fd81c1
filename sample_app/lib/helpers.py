"""Helper functions, available to templates as ``h``."""

from __future__ import annotations

from markupsafe import Markup, escape


def link_to(text: str, url: str) -> Markup:
    """An ``<a>`` element; ``text`` and ``url`` are escaped, the tag itself is not."""
    return Markup('<a href="{}">{}</a>').format(url, text)


def greeting(name: str) -> str:
    """The hello page's headline, as plain text (the template escapes it)."""
    return f"Hello, {name}!"


__all__ = ["escape", "greeting", "link_to"]
