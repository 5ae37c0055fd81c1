"""Hand-built `pylon-trace/1` documents for the report tests.

    .venv/bin/python tests/data/make_fixtures.py      # rewrites tests/data/<name>.json

They follow docs/trace-format.md and the real request path of the sample app on
`egg:Paste#http` (seeds, "Anatomy of a request"): the accept thread hands the socket to
a worker through the thread pool's queue, the worker parses the request, builds the
environ and calls the middleware onion down to PylonsApp and the controller, then the
layers unwind, the body is written and the worker goes back to its queue.

These are stand-ins until the real tracer records the sample app: replace the JSON
files with scrubbed recordings of the same names (page2, stream, notfound, error,
startup) and regenerate the golden files; the report tests read whatever is in
tests/data/. `hostile()` is never written to disk: the escaping tests build it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11"
APP = "/srv/pylon-trace"

# (name, file, line) of the functions the fixtures call, so that repeated calls of one
# function always carry the same definition site, as they do in a real recording.
FUNCS: dict[str, tuple[str | None, int | None]] = {
    "socketserver.BaseServer.serve_forever": (f"{STDLIB}/socketserver.py", 215),
    "socketserver.BaseServer.handle_request": (f"{STDLIB}/socketserver.py", 274),
    "socketserver.BaseServer._handle_request_noblock": (f"{STDLIB}/socketserver.py", 304),
    "paste.httpserver.WSGIServerBase.get_request": (f"{SITE}/paste/httpserver.py", 363),
    "socket.socket.accept": (f"{STDLIB}/socket.py", 286),
    "_socket.socket._accept": (None, None),
    "socketserver.BaseServer.verify_request": (f"{STDLIB}/socketserver.py", 328),
    "paste.httpserver.ThreadPoolMixIn.process_request": (f"{SITE}/paste/httpserver.py", 1066),
    "paste.httpserver.ThreadPool.add_task": (f"{SITE}/paste/httpserver.py", 598),
    "queue.Queue.put": (f"{STDLIB}/queue.py", 122),
    "threading.Condition.notify": (f"{STDLIB}/threading.py", 366),
    "paste.httpserver.ThreadPool.worker_thread_callback": (f"{SITE}/paste/httpserver.py", 870),
    "paste.httpserver.ThreadPoolMixIn.process_request.<locals>.<lambda>": (
        f"{SITE}/paste/httpserver.py", 1072),
    "paste.httpserver.ThreadPoolMixIn.process_request_in_thread": (
        f"{SITE}/paste/httpserver.py", 1085),
    "socketserver.BaseServer.finish_request": (f"{STDLIB}/socketserver.py", 360),
    "socketserver.BaseRequestHandler.__init__": (f"{STDLIB}/socketserver.py", 742),
    "socketserver.StreamRequestHandler.setup": (f"{STDLIB}/socketserver.py", 808),
    "socket.socket.makefile": (f"{STDLIB}/socket.py", 303),
    "_socket.socket.settimeout": (None, None),
    "paste.httpserver.WSGIHandler.handle": (f"{SITE}/paste/httpserver.py", 1284),
    "http.server.BaseHTTPRequestHandler.handle": (f"{STDLIB}/http/server.py", 427),
    "paste.httpserver.WSGIHandler.handle_one_request": (f"{SITE}/paste/httpserver.py", 1297),
    "_io.BufferedReader.readline": (None, None),
    "http.server.BaseHTTPRequestHandler.parse_request": (f"{STDLIB}/http/server.py", 267),
    "http.client.parse_headers": (f"{STDLIB}/http/client.py", 224),
    "http.client._read_headers": (f"{STDLIB}/http/client.py", 206),
    "email.parser.Parser.parsestr": (f"{STDLIB}/email/parser.py", 59),
    "email.feedparser.FeedParser.feed": (f"{STDLIB}/email/feedparser.py", 171),
    "email.feedparser.FeedParser._parsegen": (f"{STDLIB}/email/feedparser.py", 218),
    "email.message.Message.get": (f"{STDLIB}/email/message.py", 462),
    "paste.httpserver.WSGIHandlerMixin.wsgi_execute": (f"{SITE}/paste/httpserver.py", 294),
    "paste.httpserver.WSGIHandlerMixin.wsgi_setup": (f"{SITE}/paste/httpserver.py", 177),
    "urllib.parse.urlsplit": (f"{STDLIB}/urllib/parse.py", 452),
    "urllib.parse.unquote": (f"{STDLIB}/urllib/parse.py", 659),
    "email.message.Message.items": (f"{STDLIB}/email/message.py", 452),
    "paste.cascade.Cascade.__call__": (f"{SITE}/paste/cascade.py", 105),
    "paste.urlparser.StaticURLParser.__call__": (f"{SITE}/paste/urlparser.py", 478),
    "posixpath.join": (f"{STDLIB}/posixpath.py", 71),
    "posixpath.normpath": (f"{STDLIB}/posixpath.py", 340),
    "genericpath.isfile": (f"{STDLIB}/genericpath.py", 27),
    "posix.stat": (None, None),
    "paste.urlparser.StaticURLParser.not_found": (f"{SITE}/paste/urlparser.py", 568),
    "paste.httpexceptions.HTTPException.wsgi_application": (
        f"{SITE}/paste/httpexceptions.py", 280),
    "paste.cascade.Cascade.__call__.<locals>.repl_start_response": (
        f"{SITE}/paste/cascade.py", 125),
    "paste.registry.RegistryManager.__call__": (f"{SITE}/paste/registry.py", 396),
    "paste.registry.Registry.prepare": (f"{SITE}/paste/registry.py", 325),
    "paste.registry.Registry.register": (f"{SITE}/paste/registry.py", 300),
    "paste.registry.StackedObjectProxy._push_object": (f"{SITE}/paste/registry.py", 225),
    "paste.registry.Registry.cleanup": (f"{SITE}/paste/registry.py", 358),
    "paste.registry.StackedObjectProxy._pop_object": (f"{SITE}/paste/registry.py", 241),
    "framework.middleware.StatusCodeRedirect.__call__": (f"{APP}/framework/middleware.py", 118),
    "framework.middleware.StatusCodeRedirect.__call__.<locals>.change_response": (
        f"{APP}/framework/middleware.py", 126),
    "framework.middleware.StatusCodeRedirect._subrequest": (
        f"{APP}/framework/middleware.py", 150),
    "framework.middleware.ErrorHandler.__call__": (f"{APP}/framework/middleware.py", 62),
    "framework.middleware.ErrorHandler.error_response": (f"{APP}/framework/middleware.py", 88),
    "traceback.format_exception": (f"{STDLIB}/traceback.py", 124),
    "traceback.StackSummary.format": (f"{STDLIB}/traceback.py", 505),
    "beaker.middleware.SessionMiddleware.__call__": (f"{SITE}/beaker/middleware.py", 144),
    "beaker.session.SessionObject.__init__": (f"{SITE}/beaker/session.py", 752),
    "beaker.middleware.SessionMiddleware.__call__.<locals>.session_start_response": (
        f"{SITE}/beaker/middleware.py", 152),
    "beaker.session.SessionObject.persist": (f"{SITE}/beaker/session.py", 836),
    "beaker.session.Session.save": (f"{SITE}/beaker/session.py", 534),
    "beaker.session.Session._create_cookie_out": (f"{SITE}/beaker/session.py", 282),
    "routes.middleware.RoutesMiddleware.__call__": (f"{SITE}/routes/middleware.py", 47),
    "routes.mapper.Mapper.routematch": (f"{SITE}/routes/mapper.py", 714),
    "routes.mapper.Mapper._match": (f"{SITE}/routes/mapper.py", 642),
    "routes.route.Route.match": (f"{SITE}/routes/route.py", 630),
    "re.Pattern.match": (None, None),
    "framework.wsgiapp.PylonsApp.__call__": (f"{APP}/framework/wsgiapp.py", 96),
    "framework.wsgiapp.PylonsApp.setup_app_env": (f"{APP}/framework/wsgiapp.py", 120),
    "framework.wsgiapp.PylonsApp.register_globals": (f"{APP}/framework/wsgiapp.py", 160),
    "webob.request.BaseRequest.__init__": (f"{SITE}/webob/request.py", 99),
    "webob.response.Response.__init__": (f"{SITE}/webob/response.py", 174),
    "framework.wsgiapp.PylonsApp.resolve": (f"{APP}/framework/wsgiapp.py", 185),
    "framework.wsgiapp.PylonsApp.find_controller": (f"{APP}/framework/wsgiapp.py", 205),
    "importlib.import_module": (f"{STDLIB}/importlib/__init__.py", 108),
    "framework.wsgiapp.PylonsApp.dispatch": (f"{APP}/framework/wsgiapp.py", 226),
    "framework.controllers.core.WSGIController.__call__": (
        f"{APP}/framework/controllers/core.py", 190),
    "framework.controllers.core.WSGIController._inspect_call": (
        f"{APP}/framework/controllers/core.py", 104),
    "framework.controllers.core.WSGIController._get_method_args": (
        f"{APP}/framework/controllers/core.py", 140),
    "inspect.getfullargspec": (f"{STDLIB}/inspect.py", 1318),
    "framework.controllers.core.WSGIController._perform_call": (
        f"{APP}/framework/controllers/core.py", 86),
    "sample_app.controllers.main.MainController.__before__": (
        f"{APP}/sample_app/controllers/main.py", 14),
    "sample_app.controllers.main.MainController.page2": (
        f"{APP}/sample_app/controllers/main.py", 22),
    "sample_app.controllers.main.MainController.stream": (
        f"{APP}/sample_app/controllers/main.py", 40),
    "sample_app.controllers.main.MainController.stream.<locals>.chunks": (
        f"{APP}/sample_app/controllers/main.py", 43),
    "sample_app.controllers.main.MainController.fail": (
        f"{APP}/sample_app/controllers/main.py", 31),
    "sample_app.controllers.template.TemplateController.view": (
        f"{APP}/sample_app/controllers/template.py", 12),
    "sample_app.controllers.error.ErrorController.document": (
        f"{APP}/sample_app/controllers/error.py", 18),
    "framework.controllers.util.abort": (f"{APP}/framework/controllers/util.py", 40),
    "webob.exc.WSGIHTTPException.__init__": (f"{SITE}/webob/exc.py", 262),
    "webob.exc.WSGIHTTPException.__call__": (f"{SITE}/webob/exc.py", 355),
    "time.sleep": (None, None),
    "beaker.session.SessionObject.__getitem__": (f"{SITE}/beaker/session.py", 801),
    "beaker.session.SessionObject._session": (f"{SITE}/beaker/session.py", 776),
    "beaker.session.Session.__init__": (f"{SITE}/beaker/session.py", 110),
    "beaker.session.SessionObject.__setitem__": (f"{SITE}/beaker/session.py", 805),
    "framework.templating.render_mako": (f"{APP}/framework/templating.py", 55),
    "mako.lookup.TemplateLookup.get_template": (f"{SITE}/mako/lookup.py", 240),
    "mako.lookup.TemplateLookup._check": (f"{SITE}/mako/lookup.py", 307),
    "mako.template.Template.render": (f"{SITE}/mako/template.py", 426),
    "mako.runtime._render": (f"{SITE}/mako/runtime.py", 858),
    "mako.runtime._render_context": (f"{SITE}/mako/runtime.py", 898),
    "mako.runtime._exec_template": (f"{SITE}/mako/runtime.py", 919),
    "_page2_mako.render_body": (f"{APP}/data/templates/page2.mako.py", 19),
    "mako.runtime.Context.__getitem__": (f"{SITE}/mako/runtime.py", 83),
    "markupsafe.escape": (None, None),
    "_io.StringIO.write": (None, None),
    "framework.controllers.core.WSGIController.__after__": (
        f"{APP}/framework/controllers/core.py", 60),
    "framework.controllers.core.WSGIController._wsgi_response": (
        f"{APP}/framework/controllers/core.py", 230),
    "webob.response.Response.__call__": (f"{SITE}/webob/response.py", 1307),
    "webob.response.Response._abs_headerlist": (f"{SITE}/webob/response.py", 1271),
    "paste.httpserver.WSGIHandlerMixin.wsgi_start_response": (
        f"{SITE}/paste/httpserver.py", 148),
    "paste.httpserver.WSGIHandlerMixin.wsgi_write_chunk": (f"{SITE}/paste/httpserver.py", 80),
    "http.server.BaseHTTPRequestHandler.send_response": (f"{STDLIB}/http/server.py", 495),
    "http.server.BaseHTTPRequestHandler.send_header": (f"{STDLIB}/http/server.py", 521),
    "http.server.BaseHTTPRequestHandler.end_headers": (f"{STDLIB}/http/server.py", 541),
    "_io.BufferedWriter.write": (None, None),
    "_io.BufferedWriter.flush": (None, None),
    "socket.socket.sendall": (None, None),
    "generator.close": (None, None),
    "socketserver.StreamRequestHandler.finish": (f"{STDLIB}/socketserver.py", 827),
    "socketserver.BaseServer.shutdown_request": (f"{STDLIB}/socketserver.py", 511),
    "socket.socket.shutdown": (None, None),
    "socketserver.BaseServer.close_request": (f"{STDLIB}/socketserver.py", 515),
    "socket.socket.close": (f"{STDLIB}/socket.py", 499),
    "_socket.socket.close": (None, None),
    "paste.httpserver.ThreadPool.kill_hung_threads": (f"{SITE}/paste/httpserver.py", 700),
    "time.time": (None, None),
    "queue.Queue.get": (f"{STDLIB}/queue.py", 154),
    # startup
    "pylon_trace.serve_command.run": (f"{APP}/pylon_trace/serve_command.py", 60),
    "argparse.ArgumentParser.parse_args": (f"{STDLIB}/argparse.py", 1866),
    "paste.deploy.loadwsgi.loadserver": (f"{SITE}/paste/deploy/loadwsgi.py", 250),
    "paste.deploy.loadwsgi.loadapp": (f"{SITE}/paste/deploy/loadwsgi.py", 246),
    "paste.deploy.loadwsgi.ConfigLoader.get_context": (f"{SITE}/paste/deploy/loadwsgi.py", 470),
    "importlib.metadata.entry_points": (f"{STDLIB}/importlib/metadata/__init__.py", 1015),
    "sample_app.config.middleware.make_app": (f"{APP}/sample_app/config/middleware.py", 20),
    "sample_app.config.environment.load_environment": (
        f"{APP}/sample_app/config/environment.py", 15),
    "framework.configuration.PylonsConfig.init_app": (f"{APP}/framework/configuration.py", 80),
    "sample_app.config.routing.make_map": (f"{APP}/sample_app/config/routing.py", 10),
    "routes.mapper.Mapper.connect": (f"{SITE}/routes/mapper.py", 487),
    "mako.lookup.TemplateLookup.__init__": (f"{SITE}/mako/lookup.py", 167),
    "framework.wsgiapp.PylonsApp.__init__": (f"{APP}/framework/wsgiapp.py", 60),
    "routes.middleware.RoutesMiddleware.__init__": (f"{SITE}/routes/middleware.py", 20),
    "beaker.middleware.SessionMiddleware.__init__": (f"{SITE}/beaker/middleware.py", 80),
    "framework.middleware.ErrorHandler.__init__": (f"{APP}/framework/middleware.py", 50),
    "framework.middleware.StatusCodeRedirect.__init__": (f"{APP}/framework/middleware.py", 105),
    "paste.registry.RegistryManager.__init__": (f"{SITE}/paste/registry.py", 385),
    "paste.urlparser.StaticURLParser.__init__": (f"{SITE}/paste/urlparser.py", 460),
    "paste.cascade.Cascade.__init__": (f"{SITE}/paste/cascade.py", 80),
    "paste.httpserver.serve": (f"{SITE}/paste/httpserver.py", 1340),
    "paste.httpserver.WSGIServer.__init__": (f"{SITE}/paste/httpserver.py", 1150),
    "_socket.socket.bind": (None, None),
    "_socket.socket.listen": (None, None),
    "paste.httpserver.ThreadPool.__init__": (f"{SITE}/paste/httpserver.py", 520),
    "threading.Thread.start": (f"{STDLIB}/threading.py", 938),
}


class DocBuilder:
    """Builds one document on a fake nanosecond clock, the way a recorder sees calls."""

    def __init__(self, trace_id: str, kind: str = "request") -> None:
        self.trace_id = trace_id
        self.kind = kind
        self.now = 0
        self.spans: list[dict[str, Any]] = []
        self.stacks: dict[str, list[dict[str, Any]]] = {}
        self.threads: list[dict[str, str]] = []
        self.stages: list[dict[str, Any]] = []
        self.layers: list[dict[str, Any]] = []
        self.exceptions: list[dict[str, Any]] = []
        self.current_layer: list[dict[str, Any]] = []

    # -- clock, threads and stages -------------------------------------------------
    def tick(self, us: float) -> None:
        self.now += round(us * 1000)

    def thread(self, tid: str, name: str, role: str) -> None:
        self.threads.append({"id": tid, "name": name, "role": role})
        self.stacks[tid] = []

    def stage(self, name: str, thread: str) -> None:
        if self.stages and self.stages[-1]["name"] == name:
            return
        if self.stages:
            self.stages[-1]["end_ns"] = self.now
        self.stages.append({"name": name, "start_ns": self.now, "end_ns": None, "thread": thread})

    @property
    def stage_name(self) -> str:
        return self.stages[-1]["name"]

    # -- spans -------------------------------------------------------------------
    def enter(self, thread: str, name: str, kind: str = "call", **extra: Any) -> dict[str, Any]:
        file, line = FUNCS.get(name, (None, None)) if kind != "stage" else (None, None)
        stack = self.stacks[thread]
        span = {
            "id": len(self.spans) + 1,
            "parent": stack[-1]["id"] if stack else None,
            "thread": thread,
            "name": name,
            "file": file,
            "line": line,
            "start_ns": self.now,
            "end_ns": None,
            "kind": kind,
            "stage": self.stage_name,
        }
        span.update(extra)
        self.spans.append(span)
        stack.append(span)
        return span

    def leave(self, thread: str) -> dict[str, Any]:
        span = self.stacks[thread].pop()
        span["end_ns"] = self.now
        return span

    @contextmanager
    def call(self, thread: str, name: str, before: float = 2.0, after: float = 1.0,
             kind: str = "call", **extra: Any) -> Iterator[dict[str, Any]]:
        span = self.enter(thread, name, kind, **extra)
        self.tick(before)
        yield span
        self.tick(after)
        self.leave(thread)

    def leaf(self, thread: str, name: str, us: float, kind: str | None = None,
             calls: int | None = None) -> dict[str, Any]:
        if kind is None:
            kind = "c_call" if FUNCS.get(name, (None, None))[0] is None else "call"
        extra = {"calls": calls} if calls and calls > 1 else {}
        self.enter(thread, name, kind, **extra)
        self.tick(us)
        return self.leave(thread)

    # -- WSGI layers ---------------------------------------------------------------
    @contextmanager
    def layer(self, thread: str, name: str, type_: str, environ: dict[str, Any] | None = None,
              status: str | None = None, status_before: str | None = None,
              headers: dict[str, list[list[str]]] | None = None, innermost: bool = False,
              visit: int = 0, exception: int | None = None,
              before: float = 4.0, after: float = 3.0) -> Iterator[dict[str, Any]]:
        if innermost:
            self.stage("app", thread)
        elif self.stage_name != "middleware":
            self.stage("middleware", thread)
        parent = self.current_layer[-1] if self.current_layer else None
        index = len(self.layers)
        entry: dict[str, Any] = {
            "index": index, "name": name, "type": type_,
            "depth": parent["depth"] + 1 if parent else 0,
            "visit": visit, "parent": parent["index"] if parent else None,
            "span": None, "enter_ns": self.now, "inner_enter_ns": None,
            "inner_exit_ns": None, "exit_ns": None,
            "environ": environ or {"added": {}, "changed": {}, "removed": []},
            "response": None, "exception": exception,
        }
        if parent is not None and parent["inner_enter_ns"] is None:
            parent["inner_enter_ns"] = self.now
        self.layers.append(entry)
        span = self.enter(thread, FUNCS_TYPE_CALL[type_], "layer", layer=index)
        if exception is not None:
            span["exception"] = exception
        entry["span"] = span["id"]
        self.current_layer.append(entry)
        self.tick(before)
        yield entry
        self.tick(after)
        self.current_layer.pop()
        self.leave(thread)
        entry["exit_ns"] = self.now
        heads = headers or {}
        entry["response"] = {
            "status": status, "status_before": status_before,
            "headers_added": heads.get("added", []),
            "headers_removed": heads.get("removed", []),
            "headers_changed": heads.get("changed", []),
        }
        if parent is not None:
            # The first inner call is the one the onion shows; a later one (the 404's
            # subrequest) is its own set of visits.
            if parent["inner_exit_ns"] is None or visit == 0:
                parent["inner_exit_ns"] = self.now
        if innermost or self.stage_name in ("app", "controller", "response"):
            self.stage("unwind", thread)

    # -- the document ----------------------------------------------------------------
    def finish(self, **top: Any) -> dict[str, Any]:
        self.stages[-1]["end_ns"] = self.now
        for stack in self.stacks.values():
            while stack:
                span = stack.pop()
                span["end_ns"] = self.now
        depth: dict[int, int] = {}
        for span in self.spans:
            depth[span["id"]] = depth[span["parent"]] + 1 if span["parent"] else 0
        # The format orders spans by start then depth; ids stay as they were assigned.
        self.spans.sort(key=lambda s: (s["start_ns"], depth[s["id"]]))
        python = sum(s.get("calls", 1) for s in self.spans if s["kind"] in ("call", "layer"))
        c_calls = sum(s.get("calls", 1) for s in self.spans if s["kind"] == "c_call")
        doc: dict[str, Any] = {
            "schema": "pylon-trace/1",
            "trace_id": self.trace_id,
            "kind": self.kind,
            "source": "server",
            "recorder": "py",
            "started_at": "2024-05-01T12:00:00.000000Z",
            "duration_ns": self.now,
            "request": None,
            "response": None,
            "connection": None,
            "threads": self.threads,
            "spans": self.spans,
            "stages": self.stages,
            "layers": self.layers,
            "exceptions": self.exceptions,
            "truncated": False,
            "redacted": False,
            "stats": {"events": 2 * (python + c_calls), "python_calls": python,
                      "c_calls": c_calls, "spans": len(self.spans)},
        }
        doc.update(top)
        return doc


FUNCS_TYPE_CALL = {
    "paste.cascade.Cascade": "paste.cascade.Cascade.__call__",
    "paste.urlparser.StaticURLParser": "paste.urlparser.StaticURLParser.__call__",
    "paste.registry.RegistryManager": "paste.registry.RegistryManager.__call__",
    "framework.middleware.StatusCodeRedirect": "framework.middleware.StatusCodeRedirect.__call__",
    "framework.middleware.ErrorHandler": "framework.middleware.ErrorHandler.__call__",
    "beaker.middleware.SessionMiddleware": "beaker.middleware.SessionMiddleware.__call__",
    "routes.middleware.RoutesMiddleware": "routes.middleware.RoutesMiddleware.__call__",
    "framework.wsgiapp.PylonsApp": "framework.wsgiapp.PylonsApp.__call__",
}

NO_CHANGE: dict[str, Any] = {"added": {}, "changed": {}, "removed": []}
T1, T2 = "T1", "T2"


def _added(**values: str) -> dict[str, Any]:
    return {"added": {k.replace("__", "."): v for k, v in values.items()},
            "changed": {}, "removed": []}


class Scenario:
    """What differs between requests: the route, the action and the statuses."""

    def __init__(self, trace_id: str, path: str, status: str, *, body: int,
                 action: Callable[[DocBuilder], None],
                 routing: str, write: Callable[[DocBuilder], None] | None = None,
                 session_cookie: bool = False, cookie_in: bool = False,
                 content_type: str = "text/html; charset=utf-8",
                 chunked: bool = False) -> None:
        self.trace_id = trace_id
        self.path = path
        self.status = status
        self.body = body
        self.action = action
        self.routing = routing
        self.write = write
        self.session_cookie = session_cookie
        self.cookie_in = cookie_in
        self.content_type = content_type
        self.chunked = chunked
        self.error: dict[str, Any] | None = None  # set by the failing action
        self.subrequest: Callable[[DocBuilder], None] | None = None


def accept_side(d: DocBuilder) -> None:
    """T1 from handle_request to add_task: the accept and queue stages."""
    with d.call(T1, "socketserver.BaseServer.handle_request", 3, 2):
        with d.call(T1, "socketserver.BaseServer._handle_request_noblock", 2, 2):
            with d.call(T1, "paste.httpserver.WSGIServerBase.get_request", 2, 3):
                with d.call(T1, "socket.socket.accept", 2, 6):
                    d.leaf(T1, "_socket.socket._accept", 38)
            d.leaf(T1, "socketserver.BaseServer.verify_request", 1)
            d.stage("queue", T1)
            with d.call(T1, "paste.httpserver.ThreadPoolMixIn.process_request", 3, 2):
                with d.call(T1, "paste.httpserver.ThreadPool.add_task", 4, 2):
                    with d.call(T1, "queue.Queue.put", 3, 2):
                        d.leaf(T1, "threading.Condition.notify", 5)


def wsgi_setup(d: DocBuilder) -> None:
    with d.call(T2, "paste.httpserver.WSGIHandlerMixin.wsgi_setup", 12, 6):
        d.leaf(T2, "urllib.parse.urlsplit", 9)
        d.leaf(T2, "urllib.parse.unquote", 3)
        d.leaf(T2, "email.message.Message.items", 4)


def parse_side(d: DocBuilder) -> None:
    d.leaf(T2, "_io.BufferedReader.readline", 22)
    with d.call(T2, "http.server.BaseHTTPRequestHandler.parse_request", 14, 4):
        with d.call(T2, "http.client.parse_headers", 3, 2):
            d.leaf(T2, "http.client._read_headers", 18)
            with d.call(T2, "email.parser.Parser.parsestr", 4, 2):
                with d.call(T2, "email.feedparser.FeedParser.feed", 3, 1):
                    d.leaf(T2, "email.feedparser.FeedParser._parsegen", 21)
        d.leaf(T2, "email.message.Message.get", 1, calls=3)


def static_miss(d: DocBuilder) -> None:
    """Cascade tries StaticURLParser first; the miss is a 404 Cascade swallows."""
    with d.layer(T2, "StaticURLParser", "paste.urlparser.StaticURLParser", NO_CHANGE,
                 status="404 Not Found", status_before=None, innermost=False, before=3,
                 after=2):
        d.leaf(T2, "posixpath.join", 2)
        d.leaf(T2, "posixpath.normpath", 3)
        with d.call(T2, "genericpath.isfile", 1, 1):
            d.leaf(T2, "posix.stat", 11)
        with d.call(T2, "paste.urlparser.StaticURLParser.not_found", 2, 1):
            with d.call(T2, "paste.httpexceptions.HTTPException.wsgi_application", 6, 2):
                d.leaf(T2, "paste.cascade.Cascade.__call__.<locals>.repl_start_response", 2)
    # Cascade's own bookkeeping before it tries the next application.
    d.stage("middleware", T2)


def registry_prepare(d: DocBuilder) -> None:
    with d.call(T2, "paste.registry.Registry.prepare", 2, 1):
        pass


def pylons_app(d: DocBuilder, visit: int, controller: Callable[[DocBuilder], None],
               status: str | None, exception: int | None = None) -> None:
    with d.layer(T2, "PylonsApp", "framework.wsgiapp.PylonsApp", _added(
            pylons__pylons="<framework.util.PylonsContext object at 0x7f00000a1c10>",
            pylons__controller="<sample_app.controllers.main.MainController object>",
            pylons__environ_config="{'session': 'beaker.session', 'cache': 'beaker.cache'}"),
            status=status, status_before=None, innermost=True, visit=visit, exception=exception,
            before=6, after=3):
        with d.call(T2, "framework.wsgiapp.PylonsApp.setup_app_env", 5, 3):
            with d.call(T2, "framework.wsgiapp.PylonsApp.register_globals", 4, 2):
                for _ in range(6):
                    d.leaf(T2, "paste.registry.Registry.register", 2)
                    d.leaf(T2, "paste.registry.StackedObjectProxy._push_object", 1)
            d.leaf(T2, "webob.request.BaseRequest.__init__", 6)
            d.leaf(T2, "webob.response.Response.__init__", 14)
        with d.call(T2, "framework.wsgiapp.PylonsApp.resolve", 3, 2):
            with d.call(T2, "framework.wsgiapp.PylonsApp.find_controller", 4, 2):
                d.leaf(T2, "importlib.import_module", 7)
        with d.call(T2, "framework.wsgiapp.PylonsApp.dispatch", 4, 2):
            d.stage("controller", T2)
            controller(d)


def wsgi_controller(
    action_name: str, action: Callable[[DocBuilder], None], raises: int | None = None,
    http_exception: bool = False,
) -> Callable[[DocBuilder], None]:
    """WSGIController.__call__: __before__, the action, __after__, then the response."""

    def run(d: DocBuilder) -> None:
        extra = {"exception": raises} if raises is not None else {}
        with d.call(T2, "framework.controllers.core.WSGIController.__call__", 5, 2, **extra):
            with d.call(T2, "framework.controllers.core.WSGIController._inspect_call", 3, 1,
                        **extra):
                with d.call(T2, "framework.controllers.core.WSGIController._get_method_args",
                            2, 1):
                    d.leaf(T2, "inspect.getfullargspec", 16)
                with d.call(T2, "framework.controllers.core.WSGIController._perform_call", 2, 1,
                            **extra):
                    d.leaf(T2, "sample_app.controllers.main.MainController.__before__", 3)
                    with d.call(T2, action_name, 4, 3, **extra):
                        action(d)
                if raises is not None:
                    return
                if http_exception:
                    d.stage("response", T2)
                    d.leaf(T2, "webob.exc.WSGIHTTPException.__call__", 38)
                d.leaf(T2, "framework.controllers.core.WSGIController.__after__", 1)
            d.stage("response", T2)
            with d.call(T2, "framework.controllers.core.WSGIController._wsgi_response", 4, 2):
                with d.call(T2, "webob.response.Response.__call__", 5, 3):
                    d.leaf(T2, "webob.response.Response._abs_headerlist", 8)
                    start_response_chain(d)

    return run


def start_response_chain(d: DocBuilder) -> None:
    """The start_response wrappers of the layers, down to the server's."""
    with d.call(T2, "beaker.middleware.SessionMiddleware.__call__.<locals>.session_start_response",
                3, 1):
        with d.call(T2, "framework.middleware.StatusCodeRedirect.__call__.<locals>"
                    ".change_response", 2, 1):
            d.leaf(T2, "paste.httpserver.WSGIHandlerMixin.wsgi_start_response", 4)


def render_template(d: DocBuilder, rows: int) -> None:
    with d.call(T2, "framework.templating.render_mako", 6, 3):
        with d.call(T2, "mako.lookup.TemplateLookup.get_template", 4, 2):
            d.leaf(T2, "mako.lookup.TemplateLookup._check", 9)
        with d.call(T2, "mako.template.Template.render", 5, 2):
            with d.call(T2, "mako.runtime._render", 12, 3):
                with d.call(T2, "mako.runtime._render_context", 4, 2):
                    with d.call(T2, "mako.runtime._exec_template", 3, 2):
                        with d.call(T2, "_page2_mako.render_body", 18, 9):
                            for _ in range(rows):
                                d.leaf(T2, "mako.runtime.Context.__getitem__", 1.5)
                                d.leaf(T2, "markupsafe.escape", 0.6)
                                d.leaf(T2, "_io.StringIO.write", 0.4, calls=2)


def session_access(d: DocBuilder) -> None:
    with d.call(T2, "beaker.session.SessionObject.__getitem__", 2, 1):
        with d.call(T2, "beaker.session.SessionObject._session", 3, 2):
            d.leaf(T2, "beaker.session.Session.__init__", 41)
    d.leaf(T2, "beaker.session.SessionObject.__setitem__", 4)


def request_doc(sc: Scenario) -> dict[str, Any]:
    d = DocBuilder(sc.trace_id)
    d.thread(T1, "MainThread", "accept")
    d.thread(T2, "worker 1", "worker")
    d.stage("accept", T1)
    # Both threads were already running when the window opened: their roots are clipped.
    d.enter(T1, "socketserver.BaseServer.serve_forever", clipped=True)
    d.enter(T2, "paste.httpserver.ThreadPool.worker_thread_callback", clipped=True)
    d.tick(1)
    accept_side(d)
    # The accept thread goes back to serve_forever; the task waits for a worker.
    d.enter(T2, "waiting in the thread pool queue", "stage")
    d.tick(47)
    d.leave(T2)
    d.stage("handler", T2)
    with d.call(T2, "paste.httpserver.ThreadPoolMixIn.process_request.<locals>.<lambda>", 3, 2):
        with d.call(T2, "paste.httpserver.ThreadPoolMixIn.process_request_in_thread", 4, 1):
            with d.call(T2, "socketserver.BaseServer.finish_request", 2, 1):
                with d.call(T2, "socketserver.BaseRequestHandler.__init__", 3, 1):
                    with d.call(T2, "socketserver.StreamRequestHandler.setup", 3, 2):
                        d.leaf(T2, "_socket.socket.settimeout", 1)
                        d.leaf(T2, "socket.socket.makefile", 9)
                        d.leaf(T2, "socket.socket.makefile", 7)
                    with d.call(T2, "paste.httpserver.WSGIHandler.handle", 2, 1):
                        with d.call(T2, "http.server.BaseHTTPRequestHandler.handle", 2, 1):
                            d.stage("parse", T2)
                            with d.call(T2, "paste.httpserver.WSGIHandler.handle_one_request",
                                        4, 2):
                                parse_side(d)
                                d.stage("environ", T2)
                                with d.call(T2, "paste.httpserver.WSGIHandlerMixin.wsgi_execute",
                                            5, 3):
                                    wsgi_setup(d)
                                    onion(d, sc)
                                    write_side(d, sc)
                            d.stage("close", T2)
                    with d.call(T2, "socketserver.StreamRequestHandler.finish", 2, 1):
                        d.leaf(T2, "_io.BufferedWriter.flush", 6)
            with d.call(T2, "socketserver.BaseServer.shutdown_request", 2, 1):
                d.leaf(T2, "socket.socket.shutdown", 14)
                with d.call(T2, "socketserver.BaseServer.close_request", 1, 1):
                    with d.call(T2, "socket.socket.close", 2, 1):
                        d.leaf(T2, "_socket.socket.close", 9)
    d.stage("return", T2)
    d.leaf(T2, "paste.httpserver.ThreadPool.kill_hung_threads", 3)
    d.leaf(T2, "time.time", 0.4)
    d.tick(2)
    request_headers = [
        ["Host", "127.0.0.1:5000"],
        ["User-Agent", "curl/8.5.0"],
        ["Accept", "*/*"],
    ]
    if sc.cookie_in:
        request_headers.append(["Cookie", "[redacted]"])
    response_headers = [
        ["Server", "PasteWSGIServer/0.5 Python/3.11.7"],
        ["Date", "Wed, 01 May 2024 12:00:00 GMT"],
        ["Content-Type", sc.content_type],
    ]
    if not sc.chunked:
        response_headers.append(["Content-Length", str(sc.body)])
    if sc.session_cookie:
        response_headers.append(["Set-Cookie", "[redacted]"])
    status_code = int(sc.status.split()[0])
    return d.finish(
        request={"method": "GET", "path": sc.path, "query": "", "http_version": "HTTP/1.1",
                 "client": "127.0.0.1:50412", "headers": request_headers},
        response={"status": sc.status, "status_code": status_code,
                  "headers": response_headers, "body_bytes": sc.body},
        connection={"id": 1, "index": 0, "first": True, "last": True,
                    "client": "127.0.0.1:50412"},
        redacted=sc.cookie_in or sc.session_cookie,
    )


def onion(d: DocBuilder, sc: Scenario) -> None:
    """Cascade → StaticURLParser (miss) → RegistryManager → … → PylonsApp, and back."""
    registry = _added(paste__registry="<paste.registry.Registry object at 0x7f00000b2d50>")
    with d.layer(T2, "Cascade", "paste.cascade.Cascade", NO_CHANGE, status=sc.status,
                 status_before=sc.status, before=5, after=3):
        static_miss(d)
        with d.layer(T2, "RegistryManager", "paste.registry.RegistryManager", registry,
                     status=sc.status, status_before=sc.status, before=3, after=2):
            registry_prepare(d)
            status_codes = _added(pylons__status_code_redirect="True")
            headers = None
            if sc.subrequest:
                headers = {"changed": [["Content-Type", "text/plain; charset=UTF-8",
                                        sc.content_type],
                                       ["Content-Length", "154", str(sc.body)]]}
            with d.layer(T2, "StatusCodeRedirect", "framework.middleware.StatusCodeRedirect",
                         status_codes, status=sc.status, status_before=sc.status,
                         headers=headers, before=3, after=2):
                inner_stack(d, sc, visit=0)
                if sc.subrequest:
                    d.tick(6)
                    with d.call(T2, "framework.middleware.StatusCodeRedirect._subrequest",
                                8, 4):
                        sc.subrequest(d)
            with d.call(T2, "paste.registry.Registry.cleanup", 2, 1):
                for _ in range(6):
                    d.leaf(T2, "paste.registry.StackedObjectProxy._pop_object", 1)


def inner_stack(d: DocBuilder, sc: Scenario, visit: int,
                controller: Callable[[DocBuilder], None] | None = None,
                status: str | None = None) -> None:
    status = status or sc.status
    failing = sc.error is not None and visit == 0
    handler_headers = None
    if failing:
        handler_headers = {"added": [["Content-Type", "text/html; charset=utf-8"],
                                     ["Content-Length", str(sc.body)]]}
    with d.layer(T2, "ErrorHandler", "framework.middleware.ErrorHandler",
                 _added(paste__expected_exceptions="[<class 'webob.exc.HTTPException'>]"),
                 status=status, status_before=None if failing else status,
                 headers=handler_headers, visit=visit, before=3, after=2):
        exc = 0 if failing else None
        session_headers = None
        if sc.session_cookie and visit == 0:
            session_headers = {"added": [["Set-Cookie", "[redacted]"]]}
        with d.layer(T2, "SessionMiddleware", "beaker.middleware.SessionMiddleware",
                     _added(beaker__session="<beaker.session.SessionObject object>",
                            beaker__get_session="<function SessionMiddleware.__call__."
                                                "<locals>.<lambda> at 0x7f00000c3e20>"),
                     status=None if failing else status,
                     status_before=None if failing else status,
                     headers=session_headers, visit=visit, exception=exc, before=3, after=2):
            d.leaf(T2, "beaker.session.SessionObject.__init__", 5)
            route_added = _added(
                wsgiorg__routing_args=sc.routing if visit == 0 else
                "((), {'controller': 'error', 'action': 'document'})",
                routes__route="<routes.route.Route object at 0x7f00000d4f90>",
                routes__url="<routes.util.URLGenerator object at 0x7f00000d5010>")
            with d.layer(T2, "RoutesMiddleware", "routes.middleware.RoutesMiddleware",
                         route_added, status=None if failing else status,
                         status_before=None if failing else status, visit=visit,
                         exception=exc, before=3, after=2):
                with d.call(T2, "routes.mapper.Mapper.routematch", 3, 1):
                    with d.call(T2, "routes.mapper.Mapper._match", 4, 2):
                        for _ in range(4):
                            with d.call(T2, "routes.route.Route.match", 1.5, 0.5):
                                d.leaf(T2, "re.Pattern.match", 1.2)
                pylons_app(d, visit, controller or sc.action, None if failing else status,
                           exception=exc)
            if sc.session_cookie and visit == 0:
                with d.call(T2, "beaker.session.SessionObject.persist", 2, 1):
                    with d.call(T2, "beaker.session.Session.save", 9, 3):
                        d.leaf(T2, "beaker.session.Session._create_cookie_out", 17)
        if failing:
            with d.call(T2, "framework.middleware.ErrorHandler.error_response", 12, 4):
                with d.call(T2, "traceback.format_exception", 4, 2):
                    d.leaf(T2, "traceback.StackSummary.format", 96)
                d.leaf(T2, "paste.httpserver.WSGIHandlerMixin.wsgi_start_response", 4)


def write_side(d: DocBuilder, sc: Scenario) -> None:
    d.stage("write", T2)
    if sc.write is not None:
        sc.write(d)
        return
    write_chunk(d, first=True)


def write_chunk(d: DocBuilder, first: bool) -> None:
    with d.call(T2, "paste.httpserver.WSGIHandlerMixin.wsgi_write_chunk", 4, 2):
        if first:
            d.leaf(T2, "http.server.BaseHTTPRequestHandler.send_response", 9)
            d.leaf(T2, "http.server.BaseHTTPRequestHandler.send_header", 2, calls=5)
            d.leaf(T2, "http.server.BaseHTTPRequestHandler.end_headers", 6)
        d.leaf(T2, "_io.BufferedWriter.write", 3)
        d.leaf(T2, "_io.BufferedWriter.flush", 31)


# -- the scenarios ------------------------------------------------------------------
def page2() -> dict[str, Any]:
    def action(d: DocBuilder) -> None:
        session_access(d)
        render_template(d, rows=12)

    sc = Scenario("page2", "/page2", "200 OK", body=59,
                  action=wsgi_controller("sample_app.controllers.main.MainController.page2",
                                         action),
                  routing="((), {'controller': 'main', 'action': 'page2'})",
                  session_cookie=True)
    return request_doc(sc)


def stream() -> dict[str, Any]:
    gen = "sample_app.controllers.main.MainController.stream.<locals>.chunks"

    def action(d: DocBuilder) -> None:
        d.tick(3)  # the action only creates the generator: its body runs in `write`

    def write(d: DocBuilder) -> None:
        for i in range(5):
            with d.call(T2, gen, 3, 2):
                d.leaf(T2, "time.sleep", 2000)
            write_chunk(d, first=i == 0)
        d.leaf(T2, gen, 2)  # the final resume raises StopIteration
        d.stage("close", T2)
        d.leaf(T2, "generator.close", 2)

    sc = Scenario("stream", "/stream", "200 OK", body=40,
                  action=wsgi_controller("sample_app.controllers.main.MainController.stream",
                                         action),
                  routing="((), {'controller': 'main', 'action': 'stream'})",
                  content_type="text/plain; charset=utf-8", chunked=True, write=write)
    return request_doc(sc)


def notfound() -> dict[str, Any]:
    def missing(d: DocBuilder) -> None:
        with d.call(T2, "framework.controllers.util.abort", 3, 0):
            d.leaf(T2, "webob.exc.WSGIHTTPException.__init__", 11)

    def document(d: DocBuilder) -> None:
        render_template(d, rows=4)

    sc = Scenario("notfound", "/no/such/page", "404 Not Found", body=1183,
                  action=wsgi_controller("sample_app.controllers.template.TemplateController"
                                         ".view", missing, http_exception=True),
                  routing="((), {'controller': 'template', 'action': 'view', "
                          "'url': 'no/such/page'})")
    error_page = wsgi_controller("sample_app.controllers.error.ErrorController.document",
                                 document)

    def subrequest(d: DocBuilder) -> None:
        inner_stack(d, sc, visit=1, controller=error_page, status="200 OK")

    sc.subrequest = subrequest
    doc = request_doc(sc)
    # The subrequest's visits see the environ StatusCodeRedirect prepared for it.
    for layer in doc["layers"]:
        if layer["visit"] == 1 and layer["name"] == "ErrorHandler":
            layer["environ"]["changed"] = {"PATH_INFO": ["'/no/such/page'", "'/error/document'"]}
            layer["environ"]["added"]["pylons.original_response"] = "<Response at 0x7f00000e 404>"
            layer["environ"]["removed"] = ["HTTP_IF_NONE_MATCH"]
    return doc


def error() -> dict[str, Any]:
    def action(d: DocBuilder) -> None:
        d.tick(4)

    sc = Scenario("error", "/fail", "500 Internal Server Error", body=1641,
                  action=wsgi_controller("sample_app.controllers.main.MainController.fail",
                                         action, raises=0),
                  routing="((), {'controller': 'main', 'action': 'fail'})")
    sc.error = {"type": "RuntimeError", "message": "planted failure"}
    doc = request_doc(sc)
    raised = next(s for s in doc["spans"]
                  if s["name"] == "sample_app.controllers.main.MainController.fail")
    doc["exceptions"] = [{
        "type": "RuntimeError", "message": "planted failure",
        "raised_in": {"name": raised["name"], "file": raised["file"], "line": 33},
        "through": ["PylonsApp", "RoutesMiddleware", "SessionMiddleware"],
        "handled_by": "ErrorHandler",
        "traceback": [
            {"name": "framework.controllers.core.WSGIController._perform_call",
             "file": f"{APP}/framework/controllers/core.py", "line": 92},
            {"name": raised["name"], "file": raised["file"], "line": 33},
        ],
        "span": raised["id"],
    }]
    return doc


def startup() -> dict[str, Any]:
    d = DocBuilder("startup", kind="startup")
    d.thread(T1, "MainThread", "main")
    d.stage("command", T1)
    with d.call(T1, "pylon_trace.serve_command.run", 40, 5):
        d.leaf(T1, "argparse.ArgumentParser.parse_args", 180)
        d.stage("load-server", T1)
        with d.call(T1, "paste.deploy.loadwsgi.loadserver", 30, 10):
            d.leaf(T1, "paste.deploy.loadwsgi.ConfigLoader.get_context", 850)
            d.leaf(T1, "importlib.metadata.entry_points", 2400)
        d.stage("load-app", T1)
        with d.call(T1, "paste.deploy.loadwsgi.loadapp", 30, 10):
            d.leaf(T1, "paste.deploy.loadwsgi.ConfigLoader.get_context", 610)
            with d.call(T1, "sample_app.config.middleware.make_app", 20, 8):
                d.stage("environment", T1)
                with d.call(T1, "sample_app.config.environment.load_environment", 25, 5):
                    d.leaf(T1, "framework.configuration.PylonsConfig.init_app", 140)
                    with d.call(T1, "sample_app.config.routing.make_map", 10, 3):
                        for _ in range(7):
                            d.leaf(T1, "routes.mapper.Mapper.connect", 35)
                    d.leaf(T1, "mako.lookup.TemplateLookup.__init__", 90)
                d.stage("middleware-stack", T1)
                for name in ("framework.wsgiapp.PylonsApp.__init__",
                             "routes.middleware.RoutesMiddleware.__init__",
                             "beaker.middleware.SessionMiddleware.__init__",
                             "framework.middleware.ErrorHandler.__init__",
                             "framework.middleware.StatusCodeRedirect.__init__",
                             "paste.registry.RegistryManager.__init__",
                             "paste.urlparser.StaticURLParser.__init__",
                             "paste.cascade.Cascade.__init__"):
                    d.leaf(T1, name, 60)
        d.stage("server-start", T1)
        with d.call(T1, "paste.httpserver.serve", 40, 10):
            with d.call(T1, "paste.httpserver.WSGIServer.__init__", 10, 5):
                d.leaf(T1, "_socket.socket.bind", 25)
                d.leaf(T1, "_socket.socket.listen", 12)
            with d.call(T1, "paste.httpserver.ThreadPool.__init__", 10, 5):
                d.leaf(T1, "threading.Thread.start", 95, calls=10)
    section = {"section": "server:main", "use": "egg:Paste#http",
               "entry_point": "paste.httpserver:server_runner", "protocol": "paste.server_runner",
               "options": {"host": "127.0.0.1", "port": "5000", "threadpool_workers": "10"}}
    app = {"section": "app:main", "use": "egg:pylon-trace",
           "entry_point": "sample_app.config.middleware:make_app",
           "protocol": "paste.app_factory", "options": {"full_stack": "true"}}
    return d.finish(startup={
        "command": ["pylon-trace", "serve", "sample_app/development.ini"],
        "config_file": "sample_app/development.ini",
        "server": section, "app": app,
        "middleware": ["Cascade", "StaticURLParser", "RegistryManager", "StatusCodeRedirect",
                       "ErrorHandler", "SessionMiddleware", "RoutesMiddleware", "PylonsApp"],
    })


EVIL = '"];evil[ \\ {x} <b>&amp;</b> [bold]x[/] \x1b[31mred\nline2'


def hostile() -> dict[str, Any]:
    """A 500 whose request-controlled strings try to break every output format."""
    doc = error()
    doc["trace_id"] = "hostile"
    doc["request"]["path"] = "/" + EVIL
    doc["request"]["query"] = "q=" + EVIL
    doc["request"]["headers"].append(["X-Evil", EVIL])
    doc["response"]["headers"].append(["X-Echo", "<" + EVIL + ">"])
    doc["exceptions"][0]["message"] = "bad path " + EVIL
    doc["exceptions"][0]["type"] = "Weird[bold]Error"
    for span in doc["spans"]:
        if span["name"] == "sample_app.controllers.main.MainController.fail":
            span["name"] = "sample_app.controllers.main.MainController." + EVIL
        if span["kind"] == "stage":
            span["name"] = "<" + EVIL + ">"
    for layer in doc["layers"]:
        if layer["name"] == "StaticURLParser":  # a whole label that looks like HTML
            layer["name"] = "<b>Static</b>"
        if layer["name"] == "RoutesMiddleware":
            layer["name"] = "Routes[bold]Middleware[/]" + EVIL
            layer["environ"]["added"]["PATH_INFO"] = repr("/" + EVIL)
    return doc


BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "page2": page2,
    "stream": stream,
    "notfound": notfound,
    "error": error,
    "startup": startup,
}


def write_all(directory: Path = HERE) -> list[Path]:
    written = []
    for name, build in BUILDERS.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written_path)
