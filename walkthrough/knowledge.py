"""What the seeds know and a trace cannot say: the prose around the facts.

Everything here is explanation — what a middleware layer is for, what a stage means,
which functions the classic analysis names. Whether a layer or a function is mentioned
at all, where it lives, and how long it took always come from the run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerRole:
    service: str
    if_disabled: str


# Keyed by the layer's class name, as layers[].name holds it.
MIDDLEWARE_ROLES: dict[str, LayerRole] = {
    "Cascade": LayerRole(
        "Tries its applications in order and answers with the first one that does not say "
        "404 Not Found; here the static files come first, the application second.",
        "Nothing falls through from one application to the next: only the first is asked.",
    ),
    "StaticURLParser": LayerRole(
        "Serves files from the application's public directory when the URL names one.",
        "Static files are not found; a front-end web server has to serve them instead.",
    ),
    "RegistryManager": LayerRole(
        "Gives every request its own values behind the special globals (request, response, "
        "session, tmpl_context, url, app_globals, cache): proxies backed by a per-request "
        "stack.",
        "The special globals raise instead of answering; code must reach the objects "
        "through the environ.",
    ),
    "StatusCodeRedirect": LayerRole(
        "Watches the status on the way out; for an error status it sends a subrequest "
        "down the stack to fetch a styled error page and returns that body with the "
        "original status.",
        "Errors reach the browser as the plain pages the inner layers produced.",
    ),
    "ErrorHandler": LayerRole(
        "Catches an exception raised by the application and answers 500: with the "
        "traceback when debug is on, a generic page (and a logged traceback) otherwise.",
        "The exception reaches the server, which answers its own bare 500 Internal "
        "Server Error.",
    ),
    "SessionMiddleware": LayerRole(
        "Beaker sessions: puts a lazily loaded session in the environ and sends its "
        "cookie on the way out.",
        "The session global is unusable; nothing is remembered between requests.",
    ),
    "CacheMiddleware": LayerRole(
        "Beaker caches in the environ.",
        "The cache global has nothing behind it.",
    ),
    "RoutesMiddleware": LayerRole(
        "Matches the URL against the Routes map and records the match "
        "(wsgiorg.routing_args, routes.route) and a URL generator (routes.url) in the "
        "environ.",
        "No controller or action is chosen and url() cannot build URLs.",
    ),
    "PylonsApp": LayerRole(
        "The application itself: sets up the request's globals, resolves the controller "
        "and dispatches to it.",
        "There is no application.",
    ),
    "TransLogger": LayerRole(
        "Writes one access-log line per request.",
        "No access log.",
    ),
}

UNKNOWN_ROLE = LayerRole("A layer this walkthrough has no notes about.", "Unknown.")


@dataclass(frozen=True)
class StageNote:
    first: str
    again: str  # the same stage met a second time in one request
    subrequest: str = ""  # layers entered a second time (visit #2)


STAGE_NOTES: dict[str, StageNote] = {
    "accept": StageNote(
        "The accept thread, looping in `serve_forever`, is told a connection is ready; "
        "`get_request` accepts it and hands back a new socket.",
        "Another connection is accepted.",
    ),
    "queue": StageNote(
        "The accept thread wraps the connection in a task and puts it in the thread "
        "pool's queue, then goes back to listening. The stage lasts until a worker "
        "thread takes the task.",
        "The task waits in the queue again.",
    ),
    "handler": StageNote(
        "A worker thread runs the task: the request handler class is instantiated for "
        "the socket and its `handle()` loop starts.",
        "The handler runs again.",
    ),
    "parse": StageNote(
        "The request line and headers are read from the socket and parsed into the "
        "command, path, version and headers.",
        "Another request is parsed on the same connection.",
    ),
    "environ": StageNote(
        "The server builds the WSGI environ dict (PEP 3333) from the parsed request and "
        "is about to call the application with it and its `start_response`.",
        "The environ is built again.",
    ),
    "middleware": StageNote(
        "The application object make_app returned is an onion of middleware; each layer "
        "runs its code on the way in, then calls the next one.",
        "More layer code on the way in.",
        "The layers are entered again: a layer on the way out sent a subrequest back "
        "down the stack, and everything below it runs a second time.",
    ),
    "app": StageNote(
        "The innermost application, itself a WSGI callable: it sets up the request's "
        "globals, resolves the controller from the route and dispatches to it.",
        "Back in the application after the controller returned.",
        "The application is called again, for the subrequest: globals, resolve and "
        "dispatch once more, now for the route the subrequest asked for.",
    ),
    "controller": StageNote(
        "The controller instance is called as a WSGI application: `__before__` if it "
        "exists, the action with its arguments taken from the route, `__after__`, and "
        "template rendering.",
        "Back in the controller's `__call__` once the response was made.",
    ),
    "response": StageNote(
        "The action's return value becomes the response: the body is set on the "
        "response object, `start_response` is called with the status and headers, and "
        "an iterable body is returned.",
        "Another response is made.",
    ),
    "unwind": StageNote(
        "The middleware calls return, innermost first; each layer may change the status "
        "and headers on the way out.",
        "The layers return again.",
    ),
    "write": StageNote(
        "Back in the server: it iterates the body and writes each chunk; the status line "
        "and headers go out with the first one. A lazy body runs only now.",
        "More of the body is written.",
    ),
    "close": StageNote(
        "The body's `close()` is called, `handle()` sees the connection is to be closed and "
        "returns, and the socket is shut down and closed.",
        "The connection is closed again.",
    ),
    "return": StageNote(
        "The task is done: the worker is back in the pool's loop, waiting for the next "
        "task (or the sentinel that tells it to stop).",
        "The worker returns to the pool again.",
    ),
    # Startup
    "command": StageNote(
        "From the start of `start_server` until PasteDeploy is asked for the server: the "
        "config file is checked and both sections are resolved to their entry points, "
        "which imports the modules those name. This is pylon-trace's own work, so its "
        "calls are not listed.",
        "",
    ),
    "load-server": StageNote(
        "PasteDeploy reads `[server:main]` and resolves its `use =` line to the server's "
        "entry point.",
        "",
    ),
    "load-app": StageNote(
        "PasteDeploy reads `[app:main]`, resolves its `use =` line to the application "
        "factory and calls it with the `[DEFAULT]` section and the section's options.",
        "Back in PasteDeploy once the factory returned.",
    ),
    "environment": StageNote(
        "`load_environment` builds the configuration: paths, the routes map, the globals "
        "object, helpers and the template lookup.",
        "",
    ),
    "middleware-stack": StageNote(
        "The factory creates the application and wraps it in its middleware, innermost "
        "first.",
        "The factory wraps the application in its middleware.",
    ),
    "server-start": StageNote(
        "The HTTP server is created: its socket is bound and its worker threads start.",
        "",
    ),
}

# Functions the classic analysis names step by step: whenever one of them ran in a
# stage it is shown, with the calls leading to it. Matched against the end of the
# qualified name.
LANDMARKS: tuple[str, ...] = (
    "get_request", "socket.accept", "process_request", "add_task",
    "process_request_in_thread", "finish_request", "WSGIHandler.handle",
    "BaseHTTPRequestHandler.handle", "handle_one_request", "parse_request",
    "wsgi_execute", "wsgi_setup", "setup_app_env", "resolve", "find_controller",
    "dispatch", "Controller.__call__", "__before__", "__after__", "_inspect_call",
    "_wsgi_response", "_error_subrequest", "wsgi_start_response", "wsgi_write_chunk",
    "StreamRequestHandler.finish", "close_request", "shutdown_request",
    "worker_thread_callback", "render_mako",
    # startup
    "loadserver", "loadapp", "loadcontext", "LoaderContext.create", "invoke",
    "load_environment", "init_app", "make_map", "serve", "server_bind", "server_activate",
)

# Standard-library modules whose calls are plumbing, left out of the outlines unless
# they lead to a landmark or to code outside the standard library.
PLUMBING_MODULES: tuple[str, ...] = (
    "posixpath", "genericpath", "ntpath", "enum", "email", "urllib", "inspect",
    "threading", "queue", "logging", "codecs", "abc", "typing", "collections",
    "functools", "re", "sre_compile", "sre_parse", "string", "copy", "contextlib",
    "warnings", "weakref", "_weakrefset", "types", "operator", "io", "encodings",
    "datetime", "time", "calendar", "locale", "importlib", "zipimport", "tokenize",
    "linecache", "textwrap", "json", "uuid", "random", "hashlib", "base64", "binascii",
)
