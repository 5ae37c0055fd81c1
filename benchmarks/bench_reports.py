"""How long `pylon-trace report` takes on a big trace.

    .venv/bin/python benchmarks/bench_reports.py              # 100,000 spans
    .venv/bin/python benchmarks/bench_reports.py --spans 2000

Builds a synthetic `pylon-trace/1` request of N spans with the shape of a real one (an
accept thread handing over to a worker, the Paste/Pylons stack thirty calls deep, then
a controller whose template rendering is deep and wide and calls the same few hundred
functions over and over), writes it to a temporary file and times each format from
file to text: load and validate, build the tree, filter, render. timeline, tree and
dot have a budget of 2 s each on the project's 2-core machine; the script prints the
times and does not fail on them (timings are not tests).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.model import build_trace  # noqa: E402
from reports.options import RenderOptions  # noqa: E402
from tracer.trace_format import load_trace  # noqa: E402

BUDGET_S = 2.0
BUDGETED = ("timeline", "tree", "dot")
FORMATS = ("timeline", "tree", "dot", "stages", "layers", "sequence", "chrome", "speedscope",
           "json")
SITE = "/venv/lib/python3.11/site-packages"

PREFIX = [  # the worker's path from the pool down to the controller, outermost first
    ("paste.httpserver.ThreadPool.worker_thread_callback", "paste/httpserver.py", None),
    ("paste.httpserver.ThreadPoolMixIn.process_request.<locals>.<lambda>",
     "paste/httpserver.py", None),
    ("paste.httpserver.ThreadPoolMixIn.process_request_in_thread", "paste/httpserver.py", None),
    ("socketserver.BaseServer.finish_request", "socketserver.py", None),
    ("socketserver.BaseRequestHandler.__init__", "socketserver.py", None),
    ("paste.httpserver.WSGIHandler.handle", "paste/httpserver.py", None),
    ("http.server.BaseHTTPRequestHandler.handle", "http/server.py", None),
    ("paste.httpserver.WSGIHandler.handle_one_request", "paste/httpserver.py", None),
    ("paste.httpserver.WSGIHandlerMixin.wsgi_execute", "paste/httpserver.py", None),
    ("paste.cascade.Cascade.__call__", "paste/cascade.py", "Cascade"),
    ("paste.registry.RegistryManager.__call__", "paste/registry.py", "RegistryManager"),
    ("framework.middleware.StatusCodeRedirect.__call__", "framework/middleware.py",
     "StatusCodeRedirect"),
    ("framework.middleware.ErrorHandler.__call__", "framework/middleware.py", "ErrorHandler"),
    ("beaker.middleware.SessionMiddleware.__call__", "beaker/middleware.py",
     "SessionMiddleware"),
    ("routes.middleware.RoutesMiddleware.__call__", "routes/middleware.py", "RoutesMiddleware"),
    ("framework.wsgiapp.PylonsApp.__call__", "framework/wsgiapp.py", "PylonsApp"),
    ("framework.wsgiapp.PylonsApp.dispatch", "framework/wsgiapp.py", None),
    ("framework.controllers.core.WSGIController.__call__", "framework/controllers/core.py",
     None),
    ("sample_app.controllers.main.MainController.page2", "sample_app/controllers/main.py",
     None),
]


def _function_pool(size: int) -> list[tuple[str, str | None, int | None]]:
    modules = ["mako.runtime", "mako.template", "markupsafe", "webhelpers.html", "sqlalchemy.orm",
               "sample_app.lib.helpers", "framework.templating", "json.encoder", "re"]
    pool = []
    for i in range(size):
        module = modules[i % len(modules)]
        if i % 7 == 0:  # a C function: no file
            pool.append((f"{module.split('.')[0]}.builtin_{i}", None, None))
        else:
            cls = f"Thing{i % 23}"
            pool.append((f"{module}.{cls}.method_{i}", f"{SITE}/{module.replace('.', '/')}.py",
                         10 + i))
    return pool


def synthetic_trace(spans: int, seed: int = 1) -> dict[str, Any]:
    """A request trace of about `spans` spans (at least the fixed skeleton's 30)."""
    rng = random.Random(seed)
    pool = _function_pool(400)
    # Zipf-like popularity: a few functions take most calls, as in template rendering.
    weights = [1.0 / (rank + 1) for rank in range(len(pool))]
    out: list[dict[str, Any]] = []
    clock = 0

    def new(thread: str, name: str, file: str | None, line: int | None, parent: int | None,
            kind: str = "call", **extra: Any) -> dict[str, Any]:
        span = {"id": len(out) + 1, "parent": parent, "thread": thread, "name": name,
                "file": file, "line": line, "start_ns": clock, "end_ns": clock, "kind": kind,
                "stage": None}
        span.update(extra)
        out.append(span)
        return span

    # The accept thread: a short chain, then it hands the socket over.
    t1 = [new("T1", "socketserver.BaseServer.serve_forever", "socketserver.py", 215, None,
              clipped=True)]
    for name in ("socketserver.BaseServer.handle_request",
                 "paste.httpserver.WSGIServerBase.get_request", "socket.socket.accept"):
        clock += 3000
        t1.append(new("T1", name, "x.py", 1, t1[-1]["id"]))
    clock += 40000
    for span in reversed(t1[1:]):
        clock += 2000
        span["end_ns"] = clock
    queue_start = clock
    clock += 30000

    # The worker: the fixed stack, with its layers, then the random controller work.
    stack: list[dict[str, Any]] = []
    layers: list[dict[str, Any]] = []
    for position, (name, file, layer_name) in enumerate(PREFIX):
        parent = stack[-1]["id"] if stack else None
        extra: dict[str, Any] = {}
        if layer_name:
            extra["layer"] = len(layers)
            layers.append({"index": len(layers), "name": layer_name, "type": name.rsplit(".", 1)[0],
                           "depth": len(layers), "visit": 0,
                           "parent": len(layers) - 1 if layers else None})
        span = new("T2", name, f"{SITE}/{file}", 10 + position, parent,
                   "layer" if layer_name else "call", **extra)
        if position == 0:
            span["start_ns"], span["clipped"] = 0, True
        stack.append(span)
        clock += 5000
    fixed_depth = len(stack)
    prefix = list(stack)
    controller_start = clock
    target = max(spans - len(out) - 10, 0)
    made = 0
    while made < target:
        depth = len(stack) - fixed_depth
        # Deep and wide: go down eagerly near the top, less so deeper down.
        go_down = depth == 0 or (depth < 45 and rng.random() < 0.62 - depth * 0.008)
        if go_down:
            name, file, line = rng.choices(pool, weights)[0]
            kind = "c_call" if file is None else "call"
            stack.append(new("T2", name, file, line, stack[-1]["id"], kind))
            made += 1
            clock += rng.randint(200, 2500)
        else:
            clock += rng.randint(100, 1500)
            stack.pop()["end_ns"] = clock
    while len(stack) > fixed_depth:
        clock += 500
        stack.pop()["end_ns"] = clock
    controller_end = clock
    write_start = None
    for span in reversed(stack[1:]):
        clock += 4000
        span["end_ns"] = clock
        if span["name"].endswith("Cascade.__call__"):
            write_start = clock
            # wsgi_execute writes the body after the application returned
            chunk = new("T2", "paste.httpserver.WSGIHandlerMixin.wsgi_write_chunk",
                        f"{SITE}/paste/httpserver.py", 80, prefix[8]["id"])
            clock += 20000
            chunk["end_ns"] = clock
    clock += 3000
    stack[0]["end_ns"] = clock
    t1[0]["end_ns"] = clock
    duration = clock

    by_id = {span["id"]: span for span in out}
    layer_spans = {s["layer"]: s for s in prefix if "layer" in s}
    for layer in layers:
        span = layer_spans[layer["index"]]
        inner = layer_spans.get(layer["index"] + 1)
        layer.update({
            "span": span["id"], "enter_ns": span["start_ns"], "exit_ns": span["end_ns"],
            "inner_enter_ns": inner["start_ns"] if inner else None,
            "inner_exit_ns": inner["end_ns"] if inner else None,
            "environ": {"added": {f"key.{layer['index']}": "'value'"}, "changed": {},
                        "removed": []},
            "response": {"status": "200 OK", "status_before": "200 OK" if inner else None,
                         "headers_added": [], "headers_removed": [], "headers_changed": []},
            "exception": None,
        })
    middleware_start = by_id[layers[0]["span"]]["start_ns"]
    app_start = by_id[layers[-1]["span"]]["start_ns"]
    unwind_start = by_id[layers[-1]["span"]]["end_ns"]
    assert write_start is not None
    bounds = [("accept", 0), ("queue", queue_start), ("handler", queue_start + 30000),
              ("parse", prefix[7]["start_ns"]), ("environ", prefix[8]["start_ns"]),
              ("middleware", middleware_start), ("app", app_start),
              ("controller", controller_start), ("response", controller_end),
              ("unwind", unwind_start), ("write", write_start), ("close", write_start + 20000),
              ("return", duration - 3000)]
    starts = sorted(bounds, key=lambda b: b[1])
    stages = [{"name": name, "start_ns": start, "end_ns": nxt, "thread": "T1" if name in (
        "accept", "queue") else "T2"} for (name, start), (_, nxt) in
        zip(starts, [*starts[1:], ("", duration)], strict=True)]
    times = [stage["start_ns"] for stage in stages]
    for span in out:
        span["stage"] = stages[max(bisect.bisect_right(times, span["start_ns"]) - 1, 0)]["name"]
    depth: dict[int, int] = {}
    for span in out:
        depth[span["id"]] = depth[span["parent"]] + 1 if span["parent"] else 0
    out.sort(key=lambda s: (s["start_ns"], depth[s["id"]]))
    return {
        "schema": "pylon-trace/1", "trace_id": f"bench-{spans}", "kind": "request",
        "source": "server", "recorder": "c", "started_at": "2024-05-01T12:00:00.000000Z",
        "duration_ns": duration,
        "request": {"method": "GET", "path": "/page2", "query": "", "http_version": "HTTP/1.1",
                    "client": "127.0.0.1:50000", "headers": [["Host", "127.0.0.1:5000"]]},
        "response": {"status": "200 OK", "status_code": 200, "headers": [], "body_bytes": 1},
        "connection": None,
        "threads": [{"id": "T1", "name": "MainThread", "role": "accept"},
                    {"id": "T2", "name": "worker 1", "role": "worker"}],
        "spans": out, "stages": stages, "layers": layers, "exceptions": [],
        "truncated": False, "redacted": False,
        "stats": {"events": 2 * len(out), "python_calls": len(out), "c_calls": 0,
                  "spans": len(out)},
    }


def time_formats(path: str, formats: tuple[str, ...] = FORMATS, repeat: int = 1,
                 width: int = 100) -> dict[str, float]:
    """Best wall time of each format from the file on disk to its output text."""
    import importlib

    from reports.report_command import FORMATS as REGISTRY

    results: dict[str, float] = {}
    for fmt in formats:
        renderer = importlib.import_module(REGISTRY[fmt].module)
        best = float("inf")
        for _ in range(repeat):
            # As `pylon-trace report` does (one trace per process, no cyclic collector
            # rescanning it); the previous run's tree is collected outside the clock.
            gc.collect()
            gc.disable()
            try:
                began = time.perf_counter()
                trace = build_trace(load_trace(path))
                output = renderer.render(trace, RenderOptions(width=width))
                best = min(best, time.perf_counter() - began)
            finally:
                gc.enable()
            del trace
            if not output:
                raise RuntimeError(f"{fmt} rendered nothing")
        results[fmt] = best
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per format; best is kept")
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args(argv)

    began = time.perf_counter()
    doc = synthetic_trace(args.spans)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(doc, handle)
        path = handle.name
    try:
        size = os.path.getsize(path)
        print(f"synthetic trace: {len(doc['spans']):,} spans, {size / 1e6:.1f} MB "
              f"(made in {time.perf_counter() - began:.2f} s)")
        began = time.perf_counter()
        trace = build_trace(load_trace(path))
        load_s = time.perf_counter() - began
        depth = max((s.depth for s in trace.walk()), default=0)
        print(f"load + validate + build: {load_s:.2f} s (deepest span at depth {depth})")
        formats = tuple(f for f in args.formats.split(",") if f)
        for fmt, seconds in time_formats(path, formats, args.repeat).items():
            note = ""
            if fmt in BUDGETED:
                note = "ok" if seconds < BUDGET_S else f"OVER the {BUDGET_S:.0f} s budget"
            print(f"  {fmt:<11} {seconds:6.2f} s  {note}")
    finally:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
