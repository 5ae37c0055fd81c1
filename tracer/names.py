"""Naming what the recorder saw: code objects and C functions to `module.Qualified.name`."""

from __future__ import annotations

import os
import sys
from typing import Any

from tracer.passthrough import PASS_THROUGH_CODES

_TRACER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
VISIBLE, PASS_THROUGH, OPAQUE, COLLAPSED = 0, 1, 2, 3

# Library internals shown as one span each, their insides hidden: an import runs a whole
# module, a regex compile hundreds of parser calls; neither says anything about WSGI.
COLLAPSED_CODE = {
    ("<frozen importlib._bootstrap>", "_find_and_load"),
    ("<frozen importlib._bootstrap>", "_handle_fromlist"),
    ("re/__init__.py", "_compile"),
}


class NameTable:
    """Caches (name, file, line) per code object or C function; bounded by distinct code."""

    def __init__(self) -> None:
        self._code: dict[Any, tuple[str, str | None, int | None]] = {}
        self._c: dict[tuple[Any, str], str] = {}
        self._modules_by_file: dict[str, str] = {}
        self._transparent: dict[Any, bool] = {}

    def visibility(self, code: Any) -> int:
        """VISIBLE, PASS_THROUGH (hidden, children kept) or OPAQUE (hidden with its subtree)."""
        hit = self._transparent.get(code)
        if hit is None:
            filename = getattr(code, "co_filename", "")
            if not filename.startswith(_TRACER_DIR):
                hit = COLLAPSED if _collapsed(filename, code.co_name) else VISIBLE
            elif code in PASS_THROUGH_CODES:
                hit = PASS_THROUGH
            else:
                hit = OPAQUE
            self._transparent[code] = hit
        return hit

    def is_transparent(self, code: Any) -> bool:
        return self.visibility(code) != VISIBLE

    def code(self, code: Any) -> tuple[str, str | None, int | None]:
        hit = self._code.get(code)
        if hit is None:
            filename = code.co_filename
            module = self._module_for(filename)
            qualname = getattr(code, "co_qualname", code.co_name)
            hit = self._code[code] = (f"{module}.{qualname}", filename, code.co_firstlineno)
        return hit

    def c_function(self, func: Any) -> str:
        owner = getattr(func, "__self__", None)
        fname = getattr(func, "__name__", None) or type(func).__name__
        key = (owner if type(owner).__name__ == "module" else type(owner), fname)
        try:
            hit = self._c.get(key)
        except TypeError:
            hit = None
        if hit is None:
            if owner is None:
                module = getattr(func, "__module__", None) or "builtins"
                hit = f"{module}.{getattr(func, '__qualname__', fname)}"
            elif type(owner).__name__ == "module":
                hit = f"{owner.__name__}.{fname}"
            else:
                owner_type = owner if isinstance(owner, type) else type(owner)
                hit = f"{owner_type.__module__}.{owner_type.__qualname__}.{fname}"
            try:
                self._c[key] = hit
            except TypeError:
                pass
        return hit

    def _module_for(self, filename: str) -> str:
        module = self._modules_by_file.get(filename)
        if module is None:
            self._refresh_modules()
            module = self._modules_by_file.get(filename)
        if module is None:
            module = self._modules_by_file[filename] = _guess_module(filename)
        return module

    def _refresh_modules(self) -> None:
        for name, mod in list(sys.modules.items()):
            path = getattr(mod, "__file__", None)
            if path:
                self._modules_by_file.setdefault(path, name)
                if path.endswith((".pyc", ".pyo")):
                    self._modules_by_file.setdefault(path[:-1], name)


def _collapsed(filename: str, name: str) -> bool:
    for suffix, code_name in COLLAPSED_CODE:
        if name == code_name and filename.endswith(suffix):
            return True
    return False


def _guess_module(filename: str) -> str:
    if filename.startswith("<"):
        return filename.strip("<>").replace(" ", "_") or "unknown"
    base = os.path.basename(filename)
    return base[:-3] if base.endswith(".py") else base
