"""How much does tracing cost? Side by side, in one run, round by round.

In-process (GET /page2 through the sample app's whole WSGI stack, called directly):

  untraced    the application alone
  nullhook    the application under a C profile hook that records nothing: the floor that
              any sys.setprofile-style tracer pays in the interpreter (frame objects, bound
              methods for C method calls, the calls into the hook)
  py-core     the application alone under the pure-Python recorder, attached per request
  c-core      the same with the compiled recorder: recording cores side by side with the
              peers below, which also record the bare application (events are drained and
              dropped after each slot: no trace is built)
  stages      tracing middleware + layer probes, no profile hook (TraceSession(calls=False))
  py          full call tracing, pure-Python recorder
  c           full call tracing, compiled recorder
  cprofile    cProfile around the requests (reference)
  viztracer   VizTracer around the requests (reference peer; its C core, C calls included)

The traced modes run as tracer/middleware.py's make_trace_filter sets them up: a
standalone TracingMiddleware that probes the layers and attaches the hook per request,
with the session's assembler and writer threads building and saving one trace per request
in the background. Each round runs every mode once (in a rotating order), so slow and
fast phases of a shared machine hit all modes alike; the figures are medians over rounds.

Over loopback HTTP (paste.httpserver through pylon_trace.server_runtime.start_server,
HTTP/1.1 keep-alive clients in a separate process so they do not take the server's GIL):
untraced, stages, py, c and viztracer (cProfile only profiles the thread that enables it).

Columns:
  per req      mean time per request while the background threads run (a round's total
               request time / requests): what a client waits, GIL contention included
  p50          median single request
  +assembly    per request including the time the assembler and writer then need to
               finish that round's traces: the whole CPU cost of a trace
  events/req   profile events per request (for untraced/cprofile/viztracer: the app's own
               events, counted once with the compiled recorder)
  ns/event     (per req - untraced per req) / events per request

Usage: python -m benchmarks.bench [--quick] [--rounds N] [--requests N] [--json PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common  # noqa: E402

IN_PROCESS_MODES = ["untraced", "nullhook", "py-core", "c-core", "stages", "py", "c", "cprofile",
                    "viztracer"]
CORES = {"py-core": "py", "c-core": "c"}
HTTP_MODES = ["untraced", "stages", "py", "c", "viztracer"]
TRACED = ("stages", "py", "c")
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")


# -- in-process ----------------------------------------------------------------------------
@dataclass
class InProcessMode:
    name: str
    app: Any
    session: Any = None
    trace_dir: str | None = None
    slots: list[dict[str, float]] = field(default_factory=list)
    recorder: Any = None


def compiled_available() -> bool:
    from tracer.recorder import compiled_core_available

    return compiled_core_available()


def setup_in_process(name: str) -> InProcessMode:
    app = common.load_sample_app()
    if name in CORES:
        from tracer.recorder import make_recorder

        return InProcessMode(name, app, recorder=make_recorder(CORES[name]))
    if name not in TRACED:
        return InProcessMode(name, app)
    from tracer.middleware import TracingMiddleware
    from tracer.session import TraceSession

    trace_dir = common.temp_dir(f"pylon-bench-{name}-")
    session = TraceSession(trace_dir=trace_dir, calls=name != "stages",
                           core=None if name == "stages" else name, source="middleware")
    session.start(install_hooks=False)  # as shared_session() does for a filter
    return InProcessMode(name, TracingMiddleware(app, session, standalone=True), session,
                         trace_dir)


def run_in_process_slot(mode: InProcessMode, requests: int, make_environ: Any) -> dict:
    session = mode.session
    recorder = session.recorder if session is not None else mode.recorder
    events_before = recorder.stats()["events"] if recorder is not None else 0
    built_before = session.assembler.built if session is not None else 0
    profiler: Any = None
    if mode.name == "cprofile":
        profiler = cProfile.Profile()
        profiler.enable()
    elif mode.name == "viztracer":
        profiler = _viztracer()
        profiler.start()
    times = []
    clock = time.perf_counter_ns
    run = common.run_request
    app = mode.app
    if mode.name == "nullhook":
        from tracer import _crecorder

        # Attached per request, as the tracing middleware attaches the recorder.
        def run(app: Any, environ: dict, _run: Any = common.run_request) -> None:
            _crecorder.attach_null_hook()
            try:
                _run(app, environ)
            finally:
                sys.setprofile(None)

    elif mode.recorder is not None:
        core = mode.recorder

        # Attached per request, as the tracing middleware attaches it.
        def run(app: Any, environ: dict, _run: Any = common.run_request) -> None:
            core.attach_current_thread()
            try:
                _run(app, environ)
            finally:
                core.detach_current_thread()

    for _ in range(requests):
        environ = make_environ()
        t0 = clock()
        run(app, environ)
        times.append(clock() - t0)
    settle = 0
    if mode.name == "cprofile":
        profiler.disable()
    elif mode.name == "viztracer":
        profiler.stop()
        profiler.clear()
    elif session is not None:
        t0 = clock()
        if not common.wait_until_traced(session, built_before, requests):
            print(f"warning: {mode.name}: traces not all built in time", file=sys.stderr)
        settle = clock() - t0
        common.clear_directory(mode.trace_dir or "")
    events = recorder.stats()["events"] - events_before if recorder is not None else 0
    if mode.recorder is not None:
        mode.recorder.drain()  # no traces from the bare cores: their events are dropped
    slot = {
        "mean_ns": sum(times) / requests,
        "p50_ns": statistics.median(times),
        "with_assembly_ns": (sum(times) + settle) / requests,
        "events": events / requests if recorder is not None else None,
    }
    mode.slots.append(slot)
    return slot


_VIZ: Any = None


def _viztracer() -> Any:
    global _VIZ
    if _VIZ is None:
        from viztracer import VizTracer

        # Ring buffer large enough for a slot; register_global=False: no atexit saving.
        _VIZ = VizTracer(verbose=0, register_global=False, tracer_entries=2_000_000)
        # Creating the tracer installs its hook on this thread and, through
        # threading.setprofile, on every thread started later, collecting or not: that
        # would tax the other modes. Each VizTracer slot installs what it needs.
        threading.setprofile(None)
        sys.setprofile(None)
    return _VIZ


def viztracer_available() -> bool:
    try:
        import viztracer  # noqa: F401
    except ImportError:
        return False
    return True


def app_events_per_request(make_environ: Any) -> float | None:
    """Profile events of one bare-application request, to put peers on a per-event scale."""
    try:
        from tracer.recorder import make_recorder

        recorder = make_recorder("auto")
    except Exception:
        return None
    app = common.load_sample_app()
    for _ in range(3):
        common.run_request(app, make_environ())
    counts = []
    for _ in range(5):
        environ = make_environ()
        recorder.attach_current_thread()
        common.run_request(app, environ)
        recorder.detach_current_thread()
        counts.append(sum(len(events) for _ident, events in recorder.drain()))
    return statistics.median(counts)


def bench_in_process(modes: list[str], rounds: int, requests: int, warmup: int) -> dict:
    make_environ = common.environ_factory()
    states = [setup_in_process(name) for name in modes]
    for state in states:
        for _ in range(warmup):
            status = common.run_request(state.app, make_environ())
            if not status.startswith("200"):
                raise SystemExit(f"{state.name}: GET {common.PATH} answered {status!r}")
        if state.session is not None:
            common.wait_until_traced(state.session, 0, warmup)
    app_events = app_events_per_request(make_environ)
    for r in range(rounds):
        shift = r % len(states)
        for state in states[shift:] + states[:shift]:
            gc.collect()
            run_in_process_slot(state, requests, make_environ)
        _progress(f"in-process round {r + 1}/{rounds}")
    for state in states:
        if state.session is not None:
            state.session.stop()
            common.clear_directory(state.trace_dir or "")
    return summarise_in_process(states, app_events)


def summarise_in_process(states: list[InProcessMode], app_events: float | None) -> dict:
    table: dict[str, dict[str, Any]] = {}
    for state in states:
        row: dict[str, Any] = {}
        for key in ("mean_ns", "p50_ns", "with_assembly_ns"):
            row[key] = common.median([slot[key] for slot in state.slots])
        events = [slot["events"] for slot in state.slots if slot["events"] is not None]
        row["events_per_request"] = common.median(events) if events else app_events
        row["events_counted"] = bool(events)
        row["slots"] = state.slots
        table[state.name] = row
    base = table.get("untraced")
    for row in table.values():
        if base:
            row["ratio"] = row["mean_ns"] / base["mean_ns"]
            row["p50_ratio"] = row["p50_ns"] / base["p50_ns"]
            row["with_assembly_ratio"] = row["with_assembly_ns"] / base["mean_ns"]
            events = row["events_per_request"]
            extra = row["mean_ns"] - base["mean_ns"]
            row["ns_per_event"] = extra / events if events else None
    return {"modes": table, "app_events_per_request": app_events}


# -- where a trace's cost goes ---------------------------------------------------------------
class _TimedRecorder:
    """Times drain() and hands everything else to the recorder."""

    def __init__(self, recorder: Any, timings: dict[str, int]) -> None:
        self._recorder = recorder
        self._timings = timings
        if hasattr(recorder, "drain_blocks"):  # the compiled recorder's span path
            self.drain_blocks = self._drain_blocks

    def drain(self) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return self._recorder.drain()
        finally:
            self._timings["drain"] += time.perf_counter_ns() - t0

    def _drain_blocks(self) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return self._recorder.drain_blocks()
        finally:
            self._timings["drain"] += time.perf_counter_ns() - t0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)


def _timed(owner: Any, name: str, key: str, timings: dict[str, int]) -> Any:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return original(*args, **kwargs)
        finally:
            timings[key] += time.perf_counter_ns() - t0

    setattr(owner, name, wrapper)
    return original


def assembly_breakdown(core: str, requests: int) -> dict[str, Any]:
    """Per request: recording it, then each step of turning its events into a saved
    trace, run one after the other on this thread (no background threads, no GIL
    contention), so that each step's own cost shows."""
    from tracer.cspans import CThreadStream
    from tracer.document import DocumentBuilder
    from tracer.middleware import TracingMiddleware
    from tracer.session import TraceSession
    from tracer.thread_stream import ThreadStream
    from tracer.writer import TraceWriter

    make_environ = common.environ_factory()
    trace_dir = common.temp_dir(f"pylon-bench-steps-{core}-")
    session = TraceSession(trace_dir=trace_dir, calls=core != "stages",
                           core=None if core == "stages" else core, source="middleware")
    session.active = True  # started without its threads: every step runs here
    app = TracingMiddleware(common.load_sample_app(), session, standalone=True)
    timings = {"request": 0, "drain": 0, "cut": 0, "build": 0, "write": 0}
    originals = [
        (ThreadStream, "feed", _timed(ThreadStream, "feed", "cut", timings)),
        (CThreadStream, "feed", _timed(CThreadStream, "feed", "cut", timings)),
        (DocumentBuilder, "request", _timed(DocumentBuilder, "request", "build", timings)),
        (TraceWriter, "write_now", _timed(TraceWriter, "write_now", "write", timings)),
    ]
    session.recorder = _TimedRecorder(session.recorder, timings)  # type: ignore[assignment]
    queue = session.writer._queue
    # Batches the writer's queue can hold: with no writer thread, a full queue would
    # block the builder (it waits for room rather than drop traces).
    batch = max(1, min(16, (queue.maxsize or 32) // 2))
    try:
        for rounds, measured in ((5, False), (requests, True)):
            if measured:
                for key in timings:
                    timings[key] = 0
            done = 0
            while done < rounds:
                for _ in range(min(batch, rounds - done)):
                    environ = make_environ()
                    t0 = time.perf_counter_ns()
                    common.run_request(app, environ)
                    timings["request"] += time.perf_counter_ns() - t0
                    done += 1
                session.assembler.process()
                while not queue.empty():
                    item = queue.get_nowait()
                    if isinstance(item, tuple):
                        session.writer.write_now(*item)
        built = session.assembler.built
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        common.clear_directory(trace_dir)
    per_request = {key: value / requests for key, value in timings.items()}
    per_request["traces"] = built
    return per_request


def format_breakdown(rows: dict[str, dict[str, Any]], untraced_ns: float | None) -> str:
    lines = ["Where a traced request's cost goes (per request, us; each step alone on one "
             "thread)",
             f"{'mode':<8} {'request':>8} {'ratio':>6} {'drain':>7} {'cut':>7} {'build':>7} "
             f"{'write':>7} {'trace total':>11} {'x request':>9}"]
    for name, row in rows.items():
        trace = row["drain"] + row["cut"] + row["build"] + row["write"]
        ratio = row["request"] / untraced_ns if untraced_ns else None
        lines.append(f"{name:<8} {row['request'] / 1000:8.1f} {_x(ratio)} "
                     f"{row['drain'] / 1000:7.1f} "
                     f"{row['cut'] / 1000:7.1f} {row['build'] / 1000:7.1f} "
                     f"{row['write'] / 1000:7.1f} {trace / 1000:11.1f} "
                     f"{trace / row['request']:8.1f}x")
    lines.append("request: the request alone, no background threads running (ratio: to the "
                 "untraced per-request time above);\n"
                 "drain: recorder.drain(); cut: ThreadStream.feed (events to spans); build: "
                 "DocumentBuilder.request;\nwrite: JSON and the file. The assembler and writer "
                 "threads do all but the request, off the request's thread\nbut under the "
                 "same GIL.")
    return "\n".join(lines)


# -- over HTTP -------------------------------------------------------------------------------
class Client:
    """The load generator process (benchmarks/http_client.py)."""

    def __init__(self) -> None:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_client.py")
        self.process = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the HTTP client process died")
        result = json.loads(line)
        if "error" in result:
            raise RuntimeError(f"HTTP client: {result['error']}")
        return result

    def close(self) -> None:
        try:
            self.run_quit()
        finally:
            self.process.wait(10)

    def run_quit(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write(json.dumps({"quit": True}) + "\n")
            self.process.stdin.close()


def run_http_slot(name: str, ini: str, client: Client, requests: int, connections: int,
                  warmup: int) -> dict:
    from pylon_trace.server_runtime import start_server
    from tracer.session import TraceSession

    session = None
    viz = None
    trace_dir = None
    if name in TRACED:
        trace_dir = common.temp_dir(f"pylon-bench-http-{name}-")
        session = TraceSession(trace_dir=trace_dir, calls=name != "stages",
                               core=None if name == "stages" else name)
        session.start()  # hooks first: the server's threads are started traced
    elif name == "viztracer":
        viz = _viztracer()
        threading.setprofile(viz.threadtracefunc)  # the server's threads, as it does itself
        viz.start()
    running = start_server(ini, session=session, host="127.0.0.1", port=0,
                           argv=["benchmarks/bench.py"])
    running.start_thread()
    try:
        gc.collect()
        events_before = session.recorder.stats()["events"] if session is not None else 0
        built_before = session.assembler.built if session is not None else 0
        skipped_before = _calls_not_recorded(session)
        result = client.run(port=running.port, path=common.PATH, connections=connections,
                            requests=requests, warmup=warmup)
        settle = 0.0
        if session is not None:
            t0 = time.perf_counter()
            # Warm-up requests are traced too: wait for every trace of this slot.
            expected = requests + warmup * connections
            if not common.wait_until_traced(session, built_before, expected):
                print(f"warning: http {name}: traces not all built in time", file=sys.stderr)
            settle = time.perf_counter() - t0
        events = None
        with_calls = None
        if session is not None and name != "stages":
            served = requests + warmup * connections
            events = (session.recorder.stats()["events"] - events_before) / served
            # Requests the session served without recording calls, because the builder was
            # behind (TraceSession.MAX_BACKLOG_EVENTS): their traces have stages only.
            with_calls = 1 - (_calls_not_recorded(session) - skipped_before) / served
    finally:
        running.stop()
        if viz is not None:
            viz.stop()
            threading.setprofile(None)
            viz.clear()
        if trace_dir is not None:
            common.clear_directory(trace_dir)
    if result["errors"] or result["bad"]:
        raise SystemExit(f"http {name}: {result['errors']} errors, bad statuses {result['bad']}")
    latencies = result["latencies_ns"]
    return {
        "rps": result["requests"] / result["elapsed"],
        "sustained_rps": result["requests"] / (result["elapsed"] + settle),
        "p50_ns": statistics.median(latencies),
        "events": events,
        "with_calls": with_calls,
        "reconnects": result["reconnects"],
    }


def _calls_not_recorded(session: Any) -> int:
    if session is None:
        return 0
    return int(session.stats().get("calls_not_recorded", 0))


def bench_http(modes: list[str], rounds: int, requests: int, connections: int,
               warmup: int) -> dict:
    work = common.temp_dir("pylon-bench-ini-")
    ini = common.http11_ini(work)
    client = Client()
    slots: dict[str, list[dict]] = {name: [] for name in modes}
    try:
        for r in range(rounds):
            shift = r % len(modes)
            for name in modes[shift:] + modes[:shift]:
                slots[name].append(run_http_slot(name, ini, client, requests, connections,
                                                 warmup))
            _progress(f"http round {r + 1}/{rounds}")
    finally:
        client.close()
        common.clear_directory(work)
    table: dict[str, dict[str, Any]] = {}
    for name in modes:
        row: dict[str, Any] = {
            "rps": common.median([s["rps"] for s in slots[name]]),
            "sustained_rps": common.median([s["sustained_rps"] for s in slots[name]]),
            "p50_ns": common.median([s["p50_ns"] for s in slots[name]]),
            "slots": slots[name],
        }
        events = [s["events"] for s in slots[name] if s["events"] is not None]
        row["events_per_request"] = common.median(events) if events else None
        with_calls = [s["with_calls"] for s in slots[name] if s["with_calls"] is not None]
        row["with_calls"] = common.median(with_calls) if with_calls else None
        table[name] = row
    base = table.get("untraced")
    for row in table.values():
        if base:
            row["throughput_fraction"] = row["rps"] / base["rps"]
            row["sustained_fraction"] = row["sustained_rps"] / base["rps"]
            row["p50_ratio"] = row["p50_ns"] / base["p50_ns"]
    return {"modes": table, "connections": connections, "requests_per_slot": requests}


# -- memory ------------------------------------------------------------------------------------
def bench_memory(quick: bool) -> dict:
    """benchmarks/memory.py in fresh processes, so that RSS means something."""
    args = [sys.executable, "-m", "benchmarks.memory", "--json", "-"]
    if quick:
        args.append("--quick")
    done = subprocess.run(args, cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout)


# -- report --------------------------------------------------------------------------------------
def _us(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1000:8.1f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:5.2f}x"


def format_in_process(result: dict, rounds: int, requests: int) -> str:
    lines = [f"In-process GET {common.PATH}: {rounds} rounds x {requests} requests per mode "
             "(medians over rounds; times in us)",
             f"{'mode':<10} {'per req':>8} {'ratio':>6}  {'p50':>8} {'ratio':>6}  "
             f"{'+assembly':>9} {'ratio':>7}  {'events/req':>10} {'ns/event':>8}"]
    for name, row in result["modes"].items():
        events = row["events_per_request"]
        events_text = "-" if events is None else f"{events:.0f}" + ("" if row["events_counted"]
                                                                   else "*")
        per_event = row.get("ns_per_event")
        lines.append(
            f"{name:<10} {_us(row['mean_ns'])} {_x(row.get('ratio'))}  {_us(row['p50_ns'])} "
            f"{_x(row.get('p50_ratio'))}  {_us(row['with_assembly_ns']):>9} "
            f"{_x(row.get('with_assembly_ratio')):>7}  {events_text:>10} "
            f"{'-' if per_event is None or name == 'untraced' else f'{per_event:.0f}':>8}")
    lines.append("* the application's own events (no tracer code), counted once")
    return "\n".join(lines)


def format_http(result: dict, rounds: int) -> str:
    lines = [f"Over HTTP (loopback, {result['connections']} keep-alive connections, "
             f"{result['requests_per_slot']} requests per slot, {rounds} rounds; medians)",
             f"{'mode':<10} {'req/s':>8} {'of untraced':>11}  {'p50 us':>8} {'ratio':>6}  "
             f"{'req/s incl. assembly':>20} {'of untraced':>11}  {'events/req':>10} "
             f"{'with calls':>10}"]
    for name, row in result["modes"].items():
        events = row["events_per_request"]
        with_calls = row.get("with_calls")
        lines.append(
            f"{name:<10} {row['rps']:8.0f} {row.get('throughput_fraction', 0) * 100:10.0f}%  "
            f"{_us(row['p50_ns'])} {_x(row.get('p50_ratio'))}  {row['sustained_rps']:20.0f} "
            f"{row.get('sustained_fraction', 0) * 100:10.0f}%  "
            f"{'-' if events is None else f'{events:.0f}':>10} "
            f"{'-' if with_calls is None else f'{with_calls * 100:.0f}%':>10}")
    lines.append("with calls: requests whose calls were recorded; the others arrived while the "
                 "trace builder was behind\n(TraceSession.MAX_BACKLOG_EVENTS) and were traced "
                 "with stages and layers only")
    return "\n".join(lines)


def format_memory(result: dict) -> str:
    if "error" in result:
        return f"Memory: benchmark failed: {result['error']}"
    lines = ["Memory"]
    for name, row in result.get("per_event", {}).items():
        lines.append(
            f"  {name} recorder: {row['events']} events buffered from {row['requests']} "
            f"requests: {row['tracemalloc_bytes_per_event']:.1f} B/event (tracemalloc, "
            f"all memory the buffered events keep alive), "
            f"{row['rss_bytes_per_event']:.1f} B/event (RSS)"
            + (f", event storage {row['storage_bytes_per_event']:.1f} B/event"
               if row.get("storage_bytes_per_event") else ""))
    server = result.get("server")
    if server:
        points = ", ".join(f"after {p['requests']}: {p['rss'] / 2**20:.1f} MiB"
                           for p in server["checkpoints"])
        lines.append(f"  server RSS with full call tracing ({server['core']} recorder, "
                     f"{server['connections']} keep-alive connections): "
                     f"{points}; growth {server['growth_bytes'] / 2**20:+.1f} MiB "
                     f"({server['growth_fraction'] * 100:+.1f}%)")
        last = server["checkpoints"][-1]
        skipped = last.get("session", {}).get("calls_not_recorded")
        if skipped is not None:
            lines.append(f"  of those {last['requests']} requests, {skipped} were traced "
                         "without calls (the builder was behind)")
    return "\n".join(lines)


def _progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: proves it works")
    parser.add_argument("--rounds", type=int, help="in-process rounds (default 7)")
    parser.add_argument("--requests", type=int, help="in-process requests per slot (200)")
    parser.add_argument("--http-rounds", type=int, help="HTTP rounds (default 3)")
    parser.add_argument("--http-requests", type=int, help="HTTP requests per slot (1200)")
    parser.add_argument("--connections", type=int, default=4,
                        help="keep-alive client connections (default 4)")
    parser.add_argument("--no-http", dest="http", action="store_false")
    parser.add_argument("--no-memory", dest="memory", action="store_false")
    parser.add_argument("--json", default=RESULTS, metavar="PATH",
                        help="where to write the results (default benchmarks/results.json)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 7)
    requests = args.requests or (20 if args.quick else 200)
    http_rounds = args.http_rounds or (1 if args.quick else 3)
    http_requests = args.http_requests or (60 if args.quick else 1200)
    warmup = 5 if args.quick else 30

    unavailable = []
    modes = list(IN_PROCESS_MODES)
    if not compiled_available():
        unavailable.append("c (compiled recorder not built)")
        unavailable.append("nullhook (needs the compiled module)")
    if not viztracer_available():
        unavailable.append("viztracer (pip install -e '.[bench]')")
    skip = {text.split()[0] for text in unavailable}
    if "c" in skip:
        skip.add("c-core")
    modes = [m for m in modes if m not in skip]
    http_modes = [m for m in HTTP_MODES if m not in skip]

    started = time.perf_counter()
    report: dict[str, Any] = {
        "python": sys.version.split()[0], "platform": platform.platform(),
        "cpus": os.cpu_count(), "quick": args.quick, "unavailable": unavailable,
    }
    if compiled_available():
        from tracer import _crecorder

        report["compiled_clock"] = _crecorder.CLOCK
    report["in_process"] = bench_in_process(modes, rounds, requests, warmup)
    texts = [format_in_process(report["in_process"], rounds, requests)]
    print(texts[-1], "\n", flush=True)
    steps = [m for m in ("stages", "py", "c") if m in modes]
    report["breakdown"] = {m: assembly_breakdown(m, 10 if args.quick else 100) for m in steps}
    untraced = report["in_process"]["modes"].get("untraced", {}).get("mean_ns")
    texts.append(format_breakdown(report["breakdown"], untraced))
    print(texts[-1], "\n", flush=True)
    if args.http:
        report["http"] = bench_http(http_modes, http_rounds, http_requests, args.connections,
                                    warmup)
        texts.append(format_http(report["http"], http_rounds))
        print(texts[-1], "\n", flush=True)
    if args.memory:
        report["memory"] = bench_memory(args.quick)
        texts.append(format_memory(report["memory"]))
        print(texts[-1], "\n", flush=True)
    if unavailable:
        print("not measured: " + "; ".join(unavailable))
    report["seconds"] = time.perf_counter() - started
    report["text"] = "\n\n".join(texts)
    if args.json:
        if args.json == "-":
            json.dump(report, sys.stdout, indent=1)
        else:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=1)
            print(f"results written to {os.path.relpath(args.json)} "
                  f"({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
