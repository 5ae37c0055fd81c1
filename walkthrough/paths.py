"""Showing source files the way the seeds do: $SP/paste/httpserver.py, $APP/…

Absolute paths differ on every machine; the abbreviations keep the document the same
wherever it is generated, and say at a glance whose code a function is.
"""

from __future__ import annotations

import os
import site
import sysconfig
from dataclasses import dataclass, field

ABBREVIATIONS = (
    ("$SP", "the site-packages directory the dependencies are installed in"),
    ("$STDLIB", "Python's standard library"),
    ("$APP", "the directory holding the application's package (and this repository's "
             "framework/)"),
)


def _site_dirs() -> list[str]:
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some embedded interpreters have no site.getsitepackages
        pass
    return sorted((os.path.realpath(d) for d in dirs), key=len, reverse=True)


@dataclass
class PathStyle:
    """Abbreviates absolute file names against $SP, $STDLIB and $APP."""

    app_root: str
    site_dirs: list[str] = field(default_factory=_site_dirs)
    stdlib: str = field(default_factory=lambda: os.path.realpath(sysconfig.get_paths()["stdlib"]))
    _cache: dict[str, str] = field(default_factory=dict, repr=False)

    def short(self, file: str | None) -> str:
        if not file:
            return "(built-in)"
        if file.startswith("<"):
            return file  # <frozen posixpath>, <string>: there is no file to point at
        known = self._cache.get(file)
        if known is None:
            known = self._cache[file] = self._shorten(file)
        return known

    def _shorten(self, file: str) -> str:
        path = os.path.realpath(file)
        for directory in self.site_dirs:
            if _inside(path, directory):
                return "$SP/" + os.path.relpath(path, directory)
        marker = os.sep + "site-packages" + os.sep
        if marker in path:
            return "$SP/" + path.rsplit(marker, 1)[1]
        if _inside(path, self.stdlib):
            return "$STDLIB/" + os.path.relpath(path, self.stdlib)
        root = os.path.realpath(self.app_root)
        if _inside(path, root):
            return "$APP/" + os.path.relpath(path, root)
        parent, name = os.path.split(path)
        return f"…/{os.path.basename(parent)}/{name}"

    def where(self, file: str | None, line: int | None) -> str:
        short = self.short(file)
        return f"{short}:{line}" if line and file and not file.startswith("<") else short

    def is_app(self, file: str | None) -> bool:
        return self.short(file).startswith("$APP/")

    def is_stdlib(self, file: str | None) -> bool:
        short = self.short(file)
        return short.startswith(("$STDLIB/", "<", "(built-in)"))


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def app_root_for(module_name: str) -> str:
    """The directory that holds the application's top-level package."""
    import importlib

    top = importlib.import_module(module_name.split(".", 1)[0])
    package_file = getattr(top, "__file__", None)
    if package_file is None:  # a namespace package: take its first location
        locations = list(getattr(top, "__path__", []))
        return os.path.dirname(locations[0]) if locations else os.getcwd()
    return os.path.dirname(os.path.dirname(os.path.abspath(package_file)))
