"""`pylon-trace serve INI`: serve a PasteDeploy application on Paste's server, tracing
every request into TRACE_DIR/<trace_id>.json and startup into TRACE_DIR/startup.json."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from pylon_trace.server_runtime import start_server
from tracer.session import TraceSession, set_shared_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ini", help="PasteDeploy config file (e.g. development.ini)")
    parser.add_argument("--host", help="interface to bind (overrides [server:main] host)")
    parser.add_argument("--port", type=_port, help="port to bind; 0 picks a free port")
    parser.add_argument("--no-trace", dest="trace", action="store_false",
                        help="serve without tracing")
    parser.add_argument("--trace-dir", default="traces", metavar="DIR",
                        help="where traces are written (default: ./traces)")
    parser.add_argument("--stages-only", action="store_true",
                        help="record stages and layers, not every call (lowest overhead)")
    parser.add_argument("--no-redact", dest="redact", action="store_false",
                        help="keep cookies, authorization headers and session ids in traces")
    parser.add_argument("--no-nodelay", dest="nodelay", action="store_false",
                        help="keep Paste's stock sockets (no TCP_NODELAY): responses on "
                             "keep-alive connections then wait ~40 ms for delayed ACKs")
    parser.add_argument("--max-events", type=int, default=TraceSession.DEFAULT_MAX_EVENTS,
                        metavar="N", help="events kept per request before the trace is "
                                          "marked truncated")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return value


def run(args: argparse.Namespace) -> int:
    session = None
    if args.trace:
        session = TraceSession(trace_dir=args.trace_dir, calls=not args.stages_only,
                               redact=args.redact, max_events=args.max_events)
        set_shared_session(session)
        session.start()
    try:
        running = start_server(args.ini, session=session, host=args.host, port=args.port,
                               nodelay=args.nodelay, argv=["pylon-trace", *sys.argv[1:]])
    except BaseException:
        if session is not None:
            session.stop()
        raise
    print(f"serving on {running.url}", flush=True)
    if session is not None:
        print(f"tracing into {session.trace_dir}", flush=True)
    _stop_on_signals()
    try:
        running.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        running.stop()
        if session is not None:
            stats = session.stats()
            print(f"stopped; {stats['written']} traces written to {session.trace_dir}"
                  + (f", {stats['dropped']} dropped" if stats["dropped"] else ""),
                  file=sys.stderr, flush=True)
    return 0


def _stop_on_signals() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
