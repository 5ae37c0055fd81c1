"""Loading a server and an application from a PasteDeploy config file, the way
PasteScript's ServeCommand did (``config:`` URI, sections [server:main] and [app:main],
``egg:`` entry points), with every failure turned into one readable line."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from paste.deploy import loadapp, loadserver
from paste.deploy.loadwsgi import APP, SERVER, loadcontext

from pylon_trace.errors import CliError


@dataclass
class Loaded:
    """What was found: enough for the startup trace and the walkthrough."""

    section: str
    use: str
    protocol: str
    entry_point: str
    options: dict[str, str] = field(default_factory=dict)
    object_name: str = ""

    def facts(self) -> dict[str, Any]:
        return {"section": self.section, "use": self.use, "protocol": self.protocol,
                "entry_point": self.entry_point, "options": self.options,
                "object": self.object_name}


def config_uri(ini: str) -> tuple[str, str]:
    """The ``config:`` URI and the directory it is relative to; checks the file first."""
    path = os.path.abspath(ini)
    if not os.path.exists(path):
        raise CliError(f"{ini}: no such config file")
    if not os.path.isfile(path):
        raise CliError(f"{ini}: not a file")
    try:
        parser = configparser.RawConfigParser(strict=False)
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CliError(f"{ini}: not a valid config file ({first})") from None
    return "config:" + path, os.path.dirname(path)


def describe(kind: str, uri: str, relative_to: str, name: str = "main") -> Loaded:
    """Resolve a section's ``use =`` to its entry point without creating anything."""
    object_type = SERVER if kind == "server" else APP
    with _friendly_errors(uri, kind, name):
        context = loadcontext(object_type, uri, name=name, relative_to=relative_to)
    obj = context.object
    object_name = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
    entry_point = ""
    if context.distribution is not None and context.entry_point_name:
        dist_name = context.distribution.metadata["Name"]
        for ep in context.distribution.entry_points:
            if ep.group == context.protocol and ep.name == context.entry_point_name:
                entry_point = f"[{ep.group}] {ep.name} = {ep.value} ({dist_name})"
    parser = configparser.RawConfigParser(strict=False)
    parser.read(uri[len("config:"):], encoding="utf-8")
    section = _section_name(parser, kind, name)
    use = parser.get(section, "use", fallback="") if section else ""
    return Loaded(section or f"{kind}:{name}", use, context.protocol or "", entry_point,
                  {k: str(v) for k, v in (context.local_conf or {}).items()}, object_name)


def load_server(uri: str, relative_to: str, name: str = "main") -> Any:
    with _friendly_errors(uri, "server", name):
        return loadserver(uri, name=name, relative_to=relative_to)


def load_app(uri: str, relative_to: str, name: str = "main") -> Any:
    with _friendly_errors(uri, "app", name):
        return loadapp(uri, name=name, relative_to=relative_to)


def server_context(uri: str, relative_to: str, name: str = "main") -> Any:
    with _friendly_errors(uri, "server", name):
        return loadcontext(SERVER, uri, name=name, relative_to=relative_to)


def _section_name(parser: configparser.RawConfigParser, kind: str, name: str) -> str | None:
    prefixes = ("app", "application", "composite", "composit", "pipeline",
                "filter-app") if kind == "app" else ("server",)
    for prefix in prefixes:
        section = f"{prefix}:{name}"
        if parser.has_section(section):
            return section
    if name == "main" and parser.has_section(kind):
        return kind
    return None


class _friendly_errors:
    """Turn PasteDeploy's and importlib's exceptions into one CliError line."""

    def __init__(self, uri: str, kind: str, name: str) -> None:
        self.where = f"{uri[len('config:'):]} [{kind}:{name}]"

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, CliError | KeyboardInterrupt | SystemExit):
            return False
        if isinstance(exc, metadata.PackageNotFoundError):
            raise CliError(f"{self.where}: no installed distribution named {str(exc)!r} "
                           "(unknown egg)") from None
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, LookupError):
            raise CliError(f"{self.where}: {message}") from None
        if isinstance(exc, ImportError):
            raise CliError(f"{self.where}: cannot import: {message}") from None
        if isinstance(exc, OSError):
            raise CliError(f"{self.where}: {exc.strerror or message}") from None
        raise CliError(f"{self.where}: {type(exc).__name__}: {message}") from None
