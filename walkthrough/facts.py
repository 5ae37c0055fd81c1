"""Facts about the code that ran, read from the live objects and the installed packages:
routes from the app's Routes map, source with inspect, versions with importlib.metadata.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from walkthrough.knowledge import MIDDLEWARE_ROLES, UNKNOWN_ROLE
from walkthrough.paths import PathStyle


@dataclass(frozen=True)
class RouteRow:
    name: str
    path: str
    controller: str
    action: str
    extra: str


@dataclass(frozen=True)
class SourceFact:
    name: str        # dotted name as found
    where: str       # $APP/…:line
    source: str


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class ConfigKey:
    key: str
    type: str
    origin: str


@dataclass(frozen=True)
class MiddlewareRow:
    name: str
    type: str
    where: str
    service: str
    if_disabled: str


@dataclass(frozen=True)
class ClassRow:
    name: str
    where: str
    summary: str


def resolve_object(dotted: str) -> Any:
    """Import ``package.module.Qual.name`` by trying the longest importable module."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def source_of(dotted: str, style: PathStyle) -> SourceFact | None:
    obj = resolve_object(dotted)
    if obj is None:
        return None
    try:
        lines, start = inspect.getsourcelines(obj)
        file = inspect.getsourcefile(obj)
    except (OSError, TypeError):
        return None
    return SourceFact(dotted, style.where(file, start or 1), "".join(lines).rstrip())


def routes(mapper: Any) -> list[RouteRow]:
    """The Routes map in matching order, as the application configured it."""
    rows = []
    for route in getattr(mapper, "matchlist", []):
        defaults = dict(getattr(route, "defaults", {}) or {})
        conditions = getattr(route, "conditions", None) or {}
        extra = []
        if conditions.get("method"):
            extra.append("method " + ",".join(conditions["method"]))
        if conditions.get("function"):
            function = conditions["function"]
            extra.append(f"condition {getattr(function, '__name__', function)}()")
        rows.append(RouteRow(
            getattr(route, "name", None) or "",
            getattr(route, "routepath", "?"),
            str(defaults.get("controller") or "{controller}"),
            str(defaults.get("action") or "{action}"),
            "; ".join(extra),
        ))
    return rows


def dependencies(files: Iterable[str], style: PathStyle) -> list[Distribution]:
    """The installed distributions owning the given source files, with their versions.

    Only files in site-packages count: an egg-info left in the working directory by a
    source checkout would otherwise claim the application's own files."""
    wanted = {os.path.realpath(f) for f in files
              if f and not f.startswith("<") and style.short(f).startswith("$SP/")}
    found: dict[str, tuple[str, set[str]]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        entries = [str(entry) for entry in dist.files or () if str(entry).endswith(".py")]
        packages = {e[: -len("/__init__.py")] for e in entries if e.endswith("/__init__.py")}
        for entry in entries:
            path = os.path.realpath(str(dist.locate_file(entry)))
            if path in wanted:
                found.setdefault(name, (dist.version, set()))[1].add(_package_of(entry, packages))
    return [Distribution(name, version, tuple(sorted(mods)))
            for name, (version, mods) in sorted(found.items(), key=lambda kv: kv[0].lower())]


def _package_of(entry: str, packages: set[str]) -> str:
    """The outermost regular package holding a file; namespace packages (paste) are
    shared between distributions, so their modules are named in full."""
    parts = entry[:-3].split("/")
    for cut in range(1, len(parts)):
        if "/".join(parts[:cut]) in packages:
            return ".".join(parts[:cut])
    return ".".join(p for p in parts if p != "__init__")


_CONFIG_ASSIGN = re.compile(r"""config\[\s*["']([^"']+)["']\s*\]\s*=""")


def config_keys(config: Mapping[str, Any], environment_source: str) -> list[ConfigKey]:
    """Every key of the application's config and where it came from.

    Values are left out: they include secrets (the session secret) and local paths.
    """
    app_conf = config.get("app_conf") if isinstance(config.get("app_conf"), Mapping) else {}
    global_conf = config.get("global_conf") \
        if isinstance(config.get("global_conf"), Mapping) else {}
    assigned = set(_CONFIG_ASSIGN.findall(environment_source))
    rows = []
    for key in config:
        if key in assigned:
            origin = "load_environment"
        elif key in app_conf:
            origin = "[app:main]"
        elif key in global_conf:
            origin = "[DEFAULT] and the file's own variables"
        else:
            origin = "init_app"
        rows.append(ConfigKey(str(key), type(config[key]).__name__, origin))
    return rows


def middleware_rows(names: list[str], layer_types: Mapping[str, str],
                    style: PathStyle) -> list[MiddlewareRow]:
    rows = []
    for name in names:
        type_name = layer_types.get(name, "")
        cls = resolve_object(type_name) if type_name else None
        where = ""
        if cls is not None:
            try:
                where = style.short(inspect.getsourcefile(cls))
            except TypeError:
                where = "(built-in)"
        role = MIDDLEWARE_ROLES.get(name, UNKNOWN_ROLE)
        rows.append(MiddlewareRow(name, type_name, where, role.service, role.if_disabled))
    return rows


def class_chain(dotted_names: list[str], style: PathStyle) -> list[ClassRow]:
    """The server's MRO, base first as the seeds list it, each with its docstring's
    first line."""
    rows = []
    for dotted in reversed(dotted_names):
        if dotted == "builtins.object":
            continue
        cls = resolve_object(dotted)
        where, summary = "", ""
        if cls is not None:
            try:
                lines, start = inspect.getsourcelines(cls)
                where = style.where(inspect.getsourcefile(cls), start)
            except (OSError, TypeError):
                where = "(built-in)"
            doc = inspect.getdoc(cls) or ""
            # An inherited docstring describes the parent, not this class.
            if cls.__doc__:
                summary = doc.strip().split("\n\n")[0].replace("\n", " ")
        rows.append(ClassRow(dotted, where, summary))
    return rows


def console_entry_point(script: str = "pylon-trace") -> str:
    for ep in metadata.entry_points(group="console_scripts"):
        if ep.name == script:
            dist = ep.dist.metadata["Name"] if ep.dist is not None else "?"
            return f"[console_scripts] {ep.name} = {ep.value} ({dist})"
    return ""
