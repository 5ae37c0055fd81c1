"""The saved trace document (`pylon-trace/1`): constants, loading and validation.

Reports read traces only through :func:`load_trace`, which either returns a document
whose every field a renderer relies on has the right type, or raises
:class:`TraceFormatError` with one line naming the problem. See docs/trace-format.md.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pylon_trace.errors import CliError

SCHEMA = "pylon-trace/1"
SCHEMA_PREFIX = "pylon-trace/"

REQUEST_STAGES = (
    "accept", "queue", "handler", "parse", "environ", "middleware", "app",
    "controller", "response", "unwind", "write", "close", "return",
)
STARTUP_STAGES = (
    "command", "load-server", "load-app", "environment", "middleware-stack", "server-start",
)
ALL_STAGES = REQUEST_STAGES + STARTUP_STAGES
SPAN_KINDS = ("call", "c_call", "layer", "stage")

# A trace is refused above this size rather than read into memory whole.
MAX_TRACE_BYTES = 512 * 1024 * 1024
_MAX_NS = 2**63 - 1


class TraceFormatError(CliError):
    """The file is not a readable pylon-trace document."""


def load_trace(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a trace file; raise TraceFormatError on any problem."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        if size > MAX_TRACE_BYTES:
            raise TraceFormatError(f"{name}: {size} bytes is larger than a trace can be")
        with open(name, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise TraceFormatError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{name}: is a directory, not a trace file") from None
    except PermissionError:
        raise TraceFormatError(f"{name}: permission denied") from None
    except OSError as exc:
        raise TraceFormatError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return parse_trace(raw, name)


def parse_trace(raw: bytes | str, name: str = "<trace>") -> dict[str, Any]:
    """Decode and validate a trace held in memory."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TraceFormatError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    else:
        text = raw
    if not text.strip():
        raise TraceFormatError(f"{name}: empty file, not a trace")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise TraceFormatError(f"{name}: truncated JSON (ends at line {exc.lineno})") from None
        raise TraceFormatError(
            f"{name}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise TraceFormatError(f"{name}: JSON nested too deeply to be a trace") from None
    except ValueError as exc:
        raise TraceFormatError(f"{name}: not JSON ({exc})") from None
    validate(doc, name)
    return doc


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in a trace")


def validate(doc: Any, name: str = "<trace>") -> None:
    """Check the structure a renderer relies on; raise TraceFormatError naming the field."""
    if not isinstance(doc, dict):
        raise TraceFormatError(f"{name}: not a pylon-trace document (top level is not an object)")
    schema = doc.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        raise TraceFormatError(f"{name}: not a pylon-trace document (no \"schema\": {SCHEMA!r})")
    if schema != SCHEMA:
        raise TraceFormatError(
            f"{name}: unsupported schema version {schema[:40]!r} (this pylon-trace reads {SCHEMA})"
        )
    check = _Checker(name)
    check.string(doc, "trace_id")
    check.choice(doc, "kind", ("request", "startup"))
    check.integer(doc, "duration_ns")
    check.boolean(doc, "truncated")
    threads = check.list_of_objects(doc, "threads")
    thread_ids = set()
    for i, thread in enumerate(threads):
        check.string(thread, "id", f"threads[{i}]")
        thread_ids.add(thread["id"])
    for part in ("request", "response"):
        value = doc.get(part)
        if value is not None and not isinstance(value, dict):
            raise TraceFormatError(f"{name}: \"{part}\" must be an object or null")
    if isinstance(doc.get("request"), dict):
        request = doc["request"]
        check.string(request, "method", "request")
        check.string(request, "path", "request")
        check.headers(request, "request")
    if isinstance(doc.get("response"), dict):
        response = doc["response"]
        check.string(response, "status", "response")
        check.headers(response, "response")
    _validate_spans(check, check.list_of_objects(doc, "spans"), thread_ids)
    for i, stage in enumerate(check.list_of_objects(doc, "stages")):
        where = f"stages[{i}]"
        check.string(stage, "name", where)
        check.integer(stage, "start_ns", where)
        check.integer(stage, "end_ns", where)
    for i, layer in enumerate(check.list_of_objects(doc, "layers")):
        where = f"layers[{i}]"
        check.string(layer, "name", where)
        check.integer(layer, "depth", where)
        check.integer(layer, "enter_ns", where)
        check.integer(layer, "exit_ns", where)
    for i, exc in enumerate(check.list_of_objects(doc, "exceptions")):
        check.string(exc, "type", f"exceptions[{i}]")
        check.string(exc, "message", f"exceptions[{i}]")


def _validate_spans(check: _Checker, spans: list[dict[str, Any]], thread_ids: set[str]) -> None:
    ids: set[int] = set()
    for i, span in enumerate(spans):
        where = f"spans[{i}]"
        span_id = check.integer(span, "id", where)
        if span_id in ids:
            raise TraceFormatError(f"{check.name}: {where}: duplicate span id {span_id}")
        parent = span.get("parent")
        # Parents precede their children in the list, so a tree can be built in one pass
        # and a cycle is impossible.
        if parent is not None and (type(parent) is not int or parent not in ids):
            raise TraceFormatError(
                f"{check.name}: {where}: parent {str(parent)[:30]!r} is not an earlier span id"
            )
        ids.add(span_id)
        thread = check.string(span, "thread", where)
        if thread_ids and thread not in thread_ids:
            raise TraceFormatError(f"{check.name}: {where}: unknown thread {thread[:30]!r}")
        check.string(span, "name", where)
        start = check.integer(span, "start_ns", where)
        end = check.integer(span, "end_ns", where)
        if end < start:
            raise TraceFormatError(f"{check.name}: {where}: end_ns is before start_ns")
        check.choice(span, "kind", SPAN_KINDS, where)
        stage = span.get("stage")
        if stage is not None and not isinstance(stage, str):
            raise TraceFormatError(f"{check.name}: {where}: \"stage\" must be a string")


class _Checker:
    """Small typed accessors that raise one-line errors naming the field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _fail(self, where: str, key: str, expected: str) -> TraceFormatError:
        prefix = f"{where}." if where else ""
        return TraceFormatError(f"{self.name}: \"{prefix}{key}\" must be {expected}")

    def string(self, obj: dict[str, Any], key: str, where: str = "") -> str:
        value = obj.get(key)
        if not isinstance(value, str):
            raise self._fail(where, key, "a string")
        return value

    def integer(self, obj: dict[str, Any], key: str, where: str = "") -> int:
        value = obj.get(key)
        if type(value) is not int or not 0 <= value <= _MAX_NS:
            raise self._fail(where, key, "a non-negative integer of nanoseconds")
        return value

    def boolean(self, obj: dict[str, Any], key: str, where: str = "") -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(where, key, "true or false")
        return value

    def choice(self, obj: dict[str, Any], key: str, options: tuple[str, ...],
               where: str = "") -> str:
        value = obj.get(key)
        if value not in options:
            raise self._fail(where, key, "one of " + ", ".join(options))
        return value

    def list_of_objects(self, obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            raise self._fail("", key, "a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise TraceFormatError(f"{self.name}: \"{key}[{i}]\" must be an object")
        return value

    def headers(self, obj: dict[str, Any], where: str) -> None:
        headers = obj.get("headers", [])
        if not isinstance(headers, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in headers
        ):
            raise self._fail(where, "headers", "a list of [name, value] string pairs")
