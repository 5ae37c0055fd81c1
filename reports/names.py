"""Splitting a span name into module and qualified name.

Span names are `module.QualifiedName` with nothing marking where the module ends, so
the file the code lives in decides when there is one: `paste/httpserver.py` ends the
module at `.httpserver.`. C functions have no file; for them the first capitalised
component (a type) starts the qualified name, or else the first component is the
(flat, extension) module.
"""

from __future__ import annotations

import functools
import posixpath


@functools.lru_cache(maxsize=65536)
def split_name(name: str, file: str | None = None) -> tuple[str, str]:
    """Return (module, qualname); module is "" when the name has no dot."""
    if "." not in name:
        return "", name
    if file:
        base = posixpath.basename(file.replace("\\", "/"))
        stem = base[:-3] if base.endswith(".py") else base
        if stem == "__init__":
            stem = posixpath.basename(posixpath.dirname(file.replace("\\", "/")))
        if stem:
            if name.startswith(stem + "."):
                return stem, name[len(stem) + 1:]
            marker = "." + stem + "."
            at = name.find(marker)
            if at >= 0:
                return name[: at + len(stem) + 1], name[at + len(marker):]
    parts = name.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part[:1].isupper() or part.startswith("<"):
            return ".".join(parts[:i]), ".".join(parts[i:])
    if file is None:
        # C functions live in flat extension modules: `_socket.socket._accept`.
        return parts[0], ".".join(parts[1:])
    return ".".join(parts[:-1]), parts[-1]


def short_name(name: str, file: str | None = None) -> str:
    """The qualified name, with the module's last part when the name alone is bare.

    `MainController.page2` says enough; `close` or `stat` does not, so C functions and
    module-level functions read `socket.close`, `posix.stat`, `parse.urlsplit`. Nested
    functions drop the `<locals>` step: `ThreadPoolMixIn.process_request.<lambda>`.
    """
    module, qualname = split_name(name, file)
    qualname = qualname.replace("<locals>.", "")
    if "." in qualname or not module:
        return qualname
    return module.rsplit(".", 1)[-1] + "." + qualname


def fit(text: str, width: int) -> str:
    """Cut from the left: the end of a dotted name (the function) matters most."""
    if len(text) <= width:
        return text
    return "…" + text[len(text) - width + 1:] if width > 1 else text[:width]
