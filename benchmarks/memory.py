"""Memory: bytes per buffered event, and whether a tracing server's memory stays flat.

1. Per buffered event, for each recorder: run N /page2 requests with the recorder attached
   and nothing draining it, then compare memory with the same N requests run without it.
   Reported two ways: tracemalloc (every byte the buffered events hold: the compiled
   recorder's event chunks and what the events keep alive, such as the bound-method
   objects CPython creates for C method calls) and RSS. The compiled recorder also reports
   its own event storage (chunk bytes / events).
2. A server (pylon_trace.server_runtime.start_server, full call tracing) answering
   keep-alive requests: RSS after the first checkpoint (500 requests) and after the last
   (5,000), each taken once every trace has been built and written.

Each part runs in its own process (python -m benchmarks.memory --part ...), so that one
part's arenas do not hide another's growth.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common  # noqa: E402


def per_event(core: str, requests: int) -> dict[str, Any]:
    from tracer.recorder import make_recorder

    app = common.load_sample_app()
    make_environ = common.environ_factory()
    recorder = make_recorder(core)

    def run(n: int, traced: bool) -> None:
        for _ in range(n):
            environ = make_environ()
            if traced:
                recorder.attach_current_thread()
            common.run_request(app, environ)
            if traced:
                recorder.detach_current_thread()

    # Warm every cache the app and the recorder fill once (routes, templates, names).
    run(30, False)
    run(10, True)
    recorder.drain()

    # RSS first, without tracemalloc (its own bookkeeping would be in RSS).
    gc.collect()
    rss0 = common.rss_bytes()
    run(requests, False)
    gc.collect()
    rss_control = common.rss_bytes() - rss0
    rss1 = common.rss_bytes()
    run(requests, True)
    gc.collect()
    rss_traced = common.rss_bytes() - rss1
    stats = recorder.stats()
    events_rss = stats["pending"]
    storage = stats.get("buffer_bytes")
    recorder.drain()
    gc.collect()

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    run(requests, False)
    gc.collect()
    control = tracemalloc.get_traced_memory()[0] - base
    base = tracemalloc.get_traced_memory()[0]
    run(requests, True)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    events = recorder.stats()["pending"]
    recorder.drain()
    return {
        "requests": requests,
        "events": events,
        "tracemalloc_bytes_per_event": (traced - control) / events,
        "rss_bytes_per_event": (rss_traced - rss_control) / events_rss,
        "storage_bytes_per_event": storage / events_rss if storage else None,
    }


def server_rss(core: str, checkpoints: list[int], connections: int) -> dict[str, Any]:
    from benchmarks.bench import Client
    from pylon_trace.server_runtime import start_server
    from tracer.session import TraceSession

    work = common.temp_dir("pylon-bench-memory-")
    trace_dir = os.path.join(work, "traces")
    ini = common.http11_ini(work)
    session = TraceSession(trace_dir=trace_dir, calls=True, core=core)
    session.start()
    running = start_server(ini, session=session, host="127.0.0.1", port=0,
                           argv=["benchmarks/memory.py"])
    running.start_thread()
    client = Client()
    points = []
    try:
        common.wait_until_traced(session, 0, 1)  # the startup trace
        built_before = session.assembler.built
        done = 0
        t0 = time.perf_counter()
        for checkpoint in checkpoints:
            while done < checkpoint:
                batch = min(500, checkpoint - done)
                result = client.run(port=running.port, path=common.PATH,
                                    connections=connections, requests=batch, warmup=0)
                if result["errors"] or result["bad"]:
                    raise SystemExit(f"memory: errors {result['errors']} {result['bad']}")
                done += batch
                if not common.wait_until_traced(session, built_before, done):
                    raise SystemExit("memory: traces were not built in time")
                common.clear_directory(trace_dir)
            points.append({"requests": done, "rss": common.rss_bytes(),
                           "seconds": time.perf_counter() - t0,
                           "recorder": session.recorder.stats(),
                           "session": session.stats()})
    finally:
        client.close()
        running.stop()
        common.clear_directory(work)
    first, last = points[0]["rss"], points[-1]["rss"]
    return {"core": core, "connections": connections, "checkpoints": points,
            "growth_bytes": last - first, "growth_fraction": (last - first) / first}


def run_part(part: list[str]) -> Any:
    """Run one part in a fresh interpreter and return its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--part", *part],
                          cwd=common.ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"memory part {part} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pylon-trace memory benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="write results as JSON ('-': stdout)")
    parser.add_argument("--part", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.part:
        kind, core, *rest = args.part
        if kind == "per-event":
            answer = per_event(core, int(rest[0]))
        else:
            answer = server_rss(core, [int(x) for x in rest[0].split(",")], int(rest[1]))
        json.dump(answer, sys.stdout)
        return 0

    from tracer.recorder import compiled_core_available

    requests = "20" if args.quick else "200"
    cores = ["py"] + (["c"] if compiled_core_available() else [])
    result: dict[str, Any] = {"per_event": {}}
    for core in cores:
        result["per_event"][core] = run_part(["per-event", core, requests])
    server_core = "c" if "c" in cores else "py"
    # The checkpoints between show whether RSS keeps climbing or levels off.
    checkpoints = "50,200" if args.quick else "500,1000,2500,5000"
    result["server"] = run_part(["server", server_core, checkpoints, "4"])
    if args.json == "-":
        json.dump(result, sys.stdout)
    else:
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(result, handle, indent=1)
        from benchmarks.bench import format_memory

        print(format_memory(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
