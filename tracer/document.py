"""Turning the parts of one request (or of startup) into the saved trace document."""

from __future__ import annotations

import json
import time
import traceback
from itertools import islice
from typing import Any

from tracer import cspans
from tracer import markers as M
from tracer.names import NameTable
from tracer.redact import Redactor
from tracer.request_record import RequestRecord
from tracer.stages import (
    BASE_MARKERS,
    NAMED_PRIORITY,
    STARTUP_NAMED_RULES,
    Painter,
    StageLookup,
    named_stage,
    paint_layers,
)
from tracer.thread_stream import CLIPPED, END, KEY, KIND, LAYER, PARENT, SID, START, Part
from tracer.trace_format import SCHEMA

REPR_LIMIT = 200


class DocumentBuilder:
    def __init__(self, names: NameTable, source: str, recorder: str, redact: bool,
                 wall_at_zero: int) -> None:
        self.names = names
        self.source = source
        self.recorder = recorder
        self.redact = redact
        self.wall_at_zero = wall_at_zero
        self.naming = cspans.make_naming(names) if cspans.available() else None

    # -- requests ----------------------------------------------------------------
    def request(self, worker: Part, accept: Part | None) -> dict[str, Any]:
        marks = sorted((accept.marks if accept else []) + worker.marks, key=lambda m: m[0])
        first = {}
        for t, name, payload in marks:
            first.setdefault(name, (t, payload))
        record: RequestRecord | None = first.get(M.APP_CALL, (0, None))[1]
        conn_id, index, trace_id, *rest = first.get(M.REQUEST, (0, (None, 0, None)))[1]
        calls_paused = bool(rest and rest[0])
        if trace_id is None and record is not None:
            trace_id = record.trace_id
        start = accept.start if accept is not None else worker.start
        end = worker.end
        if accept is not None and M.QUEUE in first:
            worker_from = first[M.QUEUE][0]
        else:
            worker_from = worker.start
        threads = _Threads()
        pieces = []
        if accept is not None:
            pieces.append((accept.spans, start, accept.end,
                           threads.id(accept.thread, "accept")))
        pieces.append((worker.spans, worker_from, end,
                       threads.id(worker.thread, "worker" if accept or index else "main")))
        if worker.kind == "standalone":
            threads.roles[threads.id(worker.thread, "worker")] = "worker"
        compiled = cspans.is_block(worker.spans)
        spans = [] if compiled else [s for piece in pieces for s in _clip(*piece)]

        painter = Painter(start, end)
        painter.base_sequence([(t, _base_stage(name)) for t, name, _ in marks
                               if _base_stage(name)])
        visit_times = _visit_times(marks)
        visits = record.visits if record is not None else []
        app_call = first.get(M.APP_CALL, (None,))[0]
        app_return = first.get(M.APP_RETURN, (None,))[0]
        paint_layers(painter, visits, visit_times, app_call, app_return)
        if compiled:
            _paint(painter, self.naming.named(pieces))
        else:
            self._paint_named(painter, spans)
        runs = painter.runs()

        redactor = Redactor(self.redact)
        request_end = first.get(M.REQUEST_END, (0, (None, 0, False, {})))[1]
        wire = request_end[3] if len(request_end) > 3 and request_end[3] else {}
        request, response = self._request_response(record, wire, redactor)
        visit_index = {id(v): i for i, v in enumerate(visits)}
        exceptions = self._exceptions(record, visits)
        synthetic = self.recorder == "none" or calls_paused
        doc_spans: Any
        raised: dict[str, int] | None = None
        if compiled:
            raisers = {} if synthetic else {e["raised_in"]["name"]: i
                                            for i, e in enumerate(exceptions)}
            text, count, span_for_visit, raised = self.naming.render(
                pieces, start, [r[1] for r in runs], [r[0] for r in runs], visit_index,
                raisers)
            synthetic = synthetic or count == 0
            doc_spans = cspans.RawSpans(text, count) if not synthetic else json.loads(text)
        else:
            doc_spans, span_for_visit = self._spans(spans, runs, start, threads, visit_index)
            synthetic = synthetic or not doc_spans
        if synthetic:
            doc_spans += self._synthetic_spans(runs, visits, visit_times, start, threads,
                                               worker.thread, span_for_visit, len(doc_spans))
            raised = None
        layers = self._layers(visits, visit_times, start, span_for_visit, redactor)
        _link_exceptions(exceptions, visits, layers, doc_spans, raised)
        accept_thread = threads.existing(accept.thread) if accept is not None else None
        worker_thread = threads.existing(worker.thread)
        stages = [
            {"name": stage, "start_ns": b - start, "end_ns": e - start,
             "thread": accept_thread if stage in ("accept", "queue") and accept_thread
             else worker_thread}
            for stage, b, e in runs
        ]
        python_calls = worker.python_calls + (accept.python_calls if accept else 0)
        c_calls = worker.c_calls + (accept.c_calls if accept else 0)
        doc = {
            "schema": SCHEMA,
            "trace_id": trace_id or f"unnamed-{start}",
            "kind": "request",
            "source": "middleware" if worker.kind == "standalone" else self.source,
            "recorder": "none" if calls_paused else self.recorder,
            "started_at": _iso(self.wall_at_zero + start),
            "duration_ns": end - start,
            "request": request,
            "response": response,
            "connection": None if conn_id is None else {
                "id": conn_id, "index": index, "first": index == 0,
                "last": not (request_end[2] if len(request_end) > 2 else False),
                "client": (request or {}).get("client", ""),
            },
            "threads": threads.document(),
            "spans": doc_spans,
            "stages": stages,
            "layers": layers,
            "exceptions": exceptions,
            "truncated": worker.truncated or bool(accept and accept.truncated),
            "redacted": self.redact,
            "stats": {"events": worker.events + (accept.events if accept else 0),
                      "python_calls": python_calls, "c_calls": c_calls,
                      "spans": len(doc_spans)},
        }
        # Only request-derived parts can hold a secret; span names and files come from code.
        for key in ("request", "response", "layers", "exceptions"):
            doc[key] = redactor.scrub(doc[key])
        return doc

    # -- startup -------------------------------------------------------------------
    def startup(self, part: Part, facts: dict[str, Any]) -> dict[str, Any]:
        threads = _Threads()
        if cspans.is_block(part.spans):  # once per process: the reference code will do
            part.spans = part.spans.tuples()
        spans = _clip(part.spans, part.start, part.end, threads.id(part.thread, "main"))
        painter = Painter(part.start, part.end)
        painter.paint(part.start, part.end, "command", 0)
        steps = [(t, payload) for t, name, payload in part.marks if name == M.STARTUP_STEP]
        for i, (t, stage) in enumerate(steps):
            until = steps[i + 1][0] if i + 1 < len(steps) else part.end
            if stage != "command":
                painter.paint(t, until, stage, 1)
        factory = facts.get("app_factory")
        for span in spans:
            name = self._name(span[KEY], span[KIND])[0]
            stage = named_stage(name, STARTUP_NAMED_RULES)
            if factory and name == factory:
                stage = "middleware-stack"
            if stage:
                painter.paint(span[START], span[END], stage, NAMED_PRIORITY - 1
                              if stage == "middleware-stack" else NAMED_PRIORITY)
        runs = painter.runs()
        doc_spans, _ = self._spans(spans, runs, part.start, threads, {})
        return {
            "schema": SCHEMA,
            "trace_id": "startup",
            "kind": "startup",
            "source": self.source,
            "recorder": self.recorder,
            "started_at": _iso(self.wall_at_zero + part.start),
            "duration_ns": part.end - part.start,
            "request": None,
            "response": None,
            "connection": None,
            "threads": threads.document(),
            "spans": doc_spans,
            "stages": [{"name": s, "start_ns": b - part.start, "end_ns": e - part.start,
                        "thread": threads.existing(part.thread)} for s, b, e in runs],
            "layers": [],
            "exceptions": [],
            "truncated": part.truncated,
            "redacted": self.redact,
            "stats": {"events": part.events, "python_calls": part.python_calls,
                      "c_calls": part.c_calls, "spans": len(doc_spans)},
            "startup": facts,
        }

    # -- pieces ----------------------------------------------------------------------
    def _name(self, key: Any, kind: str) -> tuple[str, str | None, int | None]:
        if kind == "c_call":
            return self.names.c_function(key), None, None
        return self.names.code(key)

    def _paint_named(self, painter: Painter, spans: list[tuple]) -> None:
        named = []
        for span in spans:
            if span[KIND] == "c_call":
                continue
            stage = named_stage(self._name(span[KEY], span[KIND])[0])
            if stage:
                named.append((span[START], span[END], stage))
        _paint(painter, named)

    def _spans(self, spans: list[tuple], runs: list, start: int, threads: _Threads,
               visit_index: dict[int, int]) -> tuple[list[dict[str, Any]], dict[int, int]]:
        lookup = StageLookup(runs)
        # Span ids were handed out as calls began, so on one thread a parent's id is
        # smaller than its children's: (start, id) puts every parent before its children.
        ordered = sorted(spans, key=lambda s: (s[START], s[SID]))
        new_id: dict[tuple, int] = {}
        span_for_visit: dict[int, int] = {}
        out = []
        for i, span in enumerate(ordered, start=1):
            thread = span[-1]
            new_id[(thread, span[SID])] = i
            name, file, line = self._name(span[KEY], span[KIND])
            parent = new_id.get((thread, span[PARENT])) if span[PARENT] is not None else None
            entry: dict[str, Any] = {
                "id": i, "parent": parent, "thread": thread, "name": name,
                "file": file, "line": line,
                "start_ns": span[START] - start, "end_ns": span[END] - start,
                "kind": span[KIND], "stage": lookup.at(span[START]),
            }
            if span[CLIPPED]:
                entry["clipped"] = True
            visit = span[LAYER]
            if visit is not None and id(visit) in visit_index:
                entry["layer"] = visit_index[id(visit)]
                span_for_visit[id(visit)] = i
            out.append(entry)
        return out, span_for_visit

    def _synthetic_spans(self, runs: list, visits: list, times: dict, start: int,
                         threads: _Threads, worker_thread: int, span_for_visit: dict[int, int],
                         first_id: int) -> list[dict[str, Any]]:
        """Without call hooks: one span per stage outside the app call, and one per layer."""
        thread = threads.existing(worker_thread)
        out: list[dict[str, Any]] = []
        next_id = first_id + 1
        for stage, b, e in runs:
            if stage in ("middleware", "app", "controller", "response", "unwind"):
                continue
            out.append({"id": next_id, "parent": None, "thread": thread, "name": stage,
                        "file": None, "line": None, "start_ns": b - start, "end_ns": e - start,
                        "kind": "stage", "stage": stage})
            next_id += 1
        lookup = StageLookup(runs)
        for i, visit in enumerate(visits):
            if id(visit) not in times or id(visit) in span_for_visit:
                continue
            enter, exit_ = times[id(visit)]
            parent = span_for_visit.get(id(visit.parent)) if visit.parent else None
            out.append({"id": next_id, "parent": parent, "thread": thread,
                        "name": f"{visit.layer.type_name}.__call__", "file": None,
                        "line": None, "start_ns": enter - start, "end_ns": exit_ - start,
                        "kind": "layer", "stage": lookup.at(enter), "layer": i})
            span_for_visit[id(visit)] = next_id
            next_id += 1
        out.sort(key=lambda s: s["start_ns"])
        return out

    def _layers(self, visits: list, times: dict, start: int, span_for_visit: dict[int, int],
                redactor: Redactor) -> list[dict[str, Any]]:
        index = {id(v): i for i, v in enumerate(visits)}
        seen_count: dict[int, int] = {}
        out = []
        for i, visit in enumerate(visits):
            enter, exit_ = times.get(id(visit), (start, start))
            children = [c for c in visit.children if id(c) in times]
            inner_enter = times[id(children[0])][0] - start if children else None
            inner_exit = times[id(children[-1])][1] - start if children else None
            after = children[0].environ_in if children else (visit.environ_after or {})
            count = seen_count.get(id(visit.layer), 0)
            seen_count[id(visit.layer)] = count + 1
            out.append({
                "index": i,
                "name": visit.layer.name,
                "type": visit.layer.type_name,
                "role": visit.layer.role,
                "depth": _visit_depth(visit),
                "visit": count,
                "parent": index.get(id(visit.parent)) if visit.parent else None,
                "span": span_for_visit.get(id(visit)),
                "enter_ns": enter - start,
                "inner_enter_ns": inner_enter,
                "inner_exit_ns": inner_exit,
                "exit_ns": exit_ - start,
                "environ": _environ_diff(visit.environ_in, after, redactor),
                "response": _response_diff(visit, children, redactor),
                "exception": None,  # set by _link_exceptions
            })
        return out

    def _exceptions(self, record: RequestRecord | None, visits: list) -> list[dict[str, Any]]:
        if record is None:
            return []
        found: list[tuple[BaseException, list]] = []
        for visit in visits:
            exc = visit.exception
            if exc is None:
                continue
            for known, through in found:
                if known is exc:
                    through.append(visit)
                    break
            else:
                found.append((exc, [visit]))
        out = []
        for exc, through in found:
            through.sort(key=_visit_depth, reverse=True)
            outermost = through[-1]
            handler = outermost.parent
            handled_by = handler.layer.name if handler is not None else "server"
            if handler is None and record.app_exception is not exc:
                handled_by = "tracing middleware"
            out.append(self._exception(exc, [v.layer.name for v in through], handled_by))
        if record.body_exception is not None:
            out.append(self._exception(record.body_exception, [], "server"))
        if record.app_exception is not None and not any(e is record.app_exception
                                                        for e, _ in found):
            out.append(self._exception(record.app_exception, [], "server"))
        return out

    def _exception(self, exc: BaseException, through: list[str], handled_by: str) -> dict:
        """One exceptions[] entry; ``_object`` is removed once layers and spans are linked."""
        frames = []
        for frame, line in traceback.walk_tb(exc.__traceback__):
            name, file, _ = self.names.code(frame.f_code)
            if not self.names.is_transparent(frame.f_code):
                frames.append({"name": name, "file": file, "line": line})
        raised_in = frames[-1] if frames else {"name": "?", "file": None, "line": None}
        return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}"
                        if type(exc).__module__ != "builtins" else type(exc).__qualname__,
                "message": _cut(str(exc), 1000), "raised_in": raised_in,
                "through": through, "handled_by": handled_by, "traceback": frames[-30:],
                "span": None, "_object": exc}

    def _request_response(self, record: RequestRecord | None, wire: dict,
                          redactor: Redactor) -> tuple[dict, dict | None]:
        environ = record.environ if record is not None and record.environ else {}
        if wire.get("requestline") is not None:
            method = wire.get("command") or ""
            raw_path = wire.get("path") or ""
            path, _, query = raw_path.partition("?")
            request = {
                "method": method, "path": path, "query": redactor.query(query),
                "http_version": wire.get("request_version") or "",
                "client": wire.get("client", ""),
                "headers": redactor.headers(wire.get("headers") or []),
                "requestline": wire.get("requestline") or "",
            }
        else:
            request = {
                "method": environ.get("REQUEST_METHOD", ""),
                "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                "query": redactor.query(environ.get("QUERY_STRING", "")),
                "http_version": environ.get("SERVER_PROTOCOL", ""),
                "client": f"{environ.get('REMOTE_ADDR', '')}:{environ.get('REMOTE_PORT', '')}"
                if environ.get("REMOTE_PORT") else environ.get("REMOTE_ADDR", ""),
                "headers": redactor.headers(_environ_headers(environ)),
            }
        response = None
        if wire.get("response_status"):
            response = {
                "status": wire["response_status"],
                "status_code": _status_code(wire["response_status"]),
                "headers": redactor.headers(wire.get("response_headers") or []),
                "body_bytes": record.body_bytes if record is not None else 0,
            }
        elif record is not None and record.status:
            response = {"status": record.status, "status_code": _status_code(record.status),
                        "headers": redactor.headers(record.headers or []),
                        "body_bytes": record.body_bytes}
        if environ:
            redactor.remember(_session_id(environ.get("beaker.session")))
        return request, response


class _Threads:
    def __init__(self) -> None:
        self.ids: dict[int, str] = {}
        self.roles: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def id(self, ident: int, role: str) -> str:
        if ident not in self.ids:
            tid = f"T{len(self.ids) + 1}"
            self.ids[ident] = tid
            self.roles[tid] = role
            self.names[tid] = _thread_name(ident)
        return self.ids[ident]

    def existing(self, ident: int) -> str:
        return self.ids.get(ident) or self.id(ident, "worker")

    def document(self) -> list[dict[str, str]]:
        return [{"id": tid, "name": self.names[tid], "role": self.roles[tid]}
                for tid in self.ids.values()]


def _thread_name(ident: int) -> str:
    import threading

    for thread in threading.enumerate():
        if thread.ident == ident:
            return thread.name
    return f"thread-{ident}"


def _link_exceptions(exceptions: list[dict], visits: list, layers: list[dict],
                     spans: Any, raised: dict[str, int] | None) -> None:
    """Point layers and the raising span at their exceptions[] entry, and back.
    ``raised``: the compiled path's links (raiser's name → span id), already in the spans."""
    index_of = {id(e.pop("_object")): i for i, e in enumerate(exceptions)}
    for visit, layer in zip(visits, layers, strict=True):
        layer["exception"] = index_of.get(id(visit.exception)) if visit.exception else None
    if raised is not None:
        for entry in exceptions:
            entry["span"] = raised.get(entry["raised_in"]["name"])
        return
    for i, entry in enumerate(exceptions):
        name = entry["raised_in"]["name"]
        # the last call of the raising function is the one that raised
        for span in reversed(spans):
            if span["name"] == name and span["kind"] != "stage":
                span["exception"] = i
                entry["span"] = span["id"]
                break


def _paint(painter: Painter, named: list[tuple[int, int, str]]) -> None:
    # A call nested in another starts later, so later starts win: the innermost rules.
    for order, (begin, end, stage) in enumerate(sorted(named)):
        painter.paint(begin, end, stage, NAMED_PRIORITY + order)


def _clip(spans: list[tuple], start: int, end: int, thread: str) -> list[tuple]:
    out = []
    for span in spans:
        if span[END] <= start or span[START] >= end:
            continue
        clipped = span[CLIPPED]
        b, e = span[START], span[END]
        if b < start:
            b, clipped = start, True
        if e > end:
            e, clipped = end, True
        out.append((span[SID], span[PARENT], span[KEY], span[KIND], b, e, span[LAYER], clipped,
                    thread))
    # A child whose parent was dropped (it ended before the window) becomes a root.
    present = {s[SID] for s in out}
    return [s if s[PARENT] is None or s[PARENT] in present else s[:PARENT] + (None,) + s[KEY:]
            for s in out]


def _base_stage(marker: str) -> str | None:
    return BASE_MARKERS.get(marker)


def _visit_times(marks: list[tuple[int, str, Any]]) -> dict[int, tuple[int, int]]:
    enters: dict[int, int] = {}
    times: dict[int, tuple[int, int]] = {}
    for t, name, payload in marks:
        if name == M.LAYER_ENTER:
            enters[id(payload)] = t
        elif name == M.LAYER_EXIT and id(payload) in enters:
            times[id(payload)] = (enters[id(payload)], t)
    return times


def _visit_depth(visit: Any) -> int:
    depth = 0
    while visit.parent is not None:
        depth += 1
        visit = visit.parent
    return depth


def _environ_diff(before: dict, after: dict, redactor: Redactor) -> dict[str, Any]:
    added, changed, removed = {}, {}, []
    for key, value in after.items():
        if key not in before:
            added[str(key)] = redactor.environ_value(str(key), value, _repr)
        elif not _same(before[key], value):
            changed[str(key)] = [redactor.environ_value(str(key), before[key], _repr),
                                 redactor.environ_value(str(key), value, _repr)]
    for key in before:
        if key not in after:
            removed.append(str(key))
    return {"added": added, "changed": changed, "removed": sorted(removed)}


def _response_diff(visit: Any, children: list, redactor: Redactor) -> dict[str, Any]:
    inner = None
    if children:
        # Cascade: the alternative that answered is the last; a subrequest: the first pass.
        same = all(c.layer is children[0].layer for c in children)
        inner = children[0] if same else children[-1]
    before_headers = list(inner.headers or []) if inner is not None else []
    after_headers = list(visit.headers or [])
    before = {k.lower(): (k, v) for k, v in before_headers}
    after = {k.lower(): (k, v) for k, v in after_headers}
    added = [[k, redactor.header(k, v)] for lk, (k, v) in after.items() if lk not in before]
    removed = [k for lk, (k, _v) in before.items() if lk not in after] if inner else []
    changed = [[k, redactor.header(k, before[lk][1]), redactor.header(k, v)]
               for lk, (k, v) in after.items() if lk in before and before[lk][1] != v]
    return {"status": visit.status,
            "status_before": inner.status if inner is not None else None,
            "headers_added": added if inner is not None else [],
            "headers_removed": removed, "headers_changed": changed,
            "headers": [[k, redactor.header(k, v)] for k, v in after_headers]}


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def _repr(value: Any) -> str:
    return _cut(_plain_repr(value, 0), REPR_LIMIT)


_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})
_CONTAINER_ITEMS = 12


def _plain_repr(value: Any, depth: int) -> str:
    """repr() for builtin values; anything else as object.__repr__ shows it. This runs on
    the assembler's thread, long after the request: an application's __repr__ could
    change its state there (Beaker's lazy session creates a session when shown)."""
    kind = type(value)
    if kind is str and depth == 0:
        return value
    if kind in _SCALARS:
        return repr(value[:REPR_LIMIT] if kind in (str, bytes) else value)
    if kind in (tuple, list, dict) and depth < 3:
        # One item past the limit tells whether there are more, without copying them all.
        items = list(islice(value.items() if kind is dict else value, _CONTAINER_ITEMS + 1))
        if kind is dict:
            shown = [f"{_plain_repr(k, depth + 1)}: {_plain_repr(v, depth + 1)}"
                     for k, v in items[:_CONTAINER_ITEMS]]
        else:
            shown = [_plain_repr(item, depth + 1) for item in items[:_CONTAINER_ITEMS]]
        if len(items) > _CONTAINER_ITEMS:
            shown.append("…")
        body = ", ".join(shown)
        if kind is tuple:
            return f"({body},)" if len(items) == 1 else f"({body})"
        return f"[{body}]" if kind is list else f"{{{body}}}"
    return object.__repr__(value)


def _session_id(session: Any) -> str | None:
    state = getattr(session, "__dict__", None) or {}
    if "_sess" in state:
        # Beaker's lazy SessionObject: only a session the application opened has an id,
        # and asking the proxy for one would open a session now.
        session = state["_sess"]
    try:
        value = getattr(session, "id", None) if session is not None else None
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _environ_headers(environ: dict) -> list[tuple[str, str]]:
    out = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            out.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            out.append((key.replace("_", "-").title(), str(value)))
    return out


def _status_code(status: str) -> int:
    try:
        return int(status.split(" ", 1)[0])
    except (ValueError, AttributeError):
        return 0


def _iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1000:06d}Z"
