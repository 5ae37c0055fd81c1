"""Pieces shared by the benchmarks: the sample app, one in-process request, waiting for
the tracer to catch up, reading memory figures."""

from __future__ import annotations

import configparser
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_INI = os.path.join(ROOT, "sample_app", "development.ini")
PATH = "/page2"


def load_sample_app(ini: str = SAMPLE_INI) -> Any:
    """A fresh copy of the sample application's WSGI stack (layer probes change it)."""
    from paste.deploy import loadapp

    return loadapp("config:" + os.path.abspath(ini))


def environ_factory(path: str = PATH) -> Callable[[], dict]:
    """New WSGI environs for GET ``path``; building them is kept out of the timings."""
    import webob

    template = webob.Request.blank(path).environ
    template.pop("wsgi.input", None)

    def make() -> dict:
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["wsgi.errors"] = sys.stderr
        return environ

    return make


def run_request(app: Any, environ: dict) -> str:
    """One request as a WSGI server does it: call, iterate the body, close it."""
    status: list[str] = []

    def start_response(s: str, headers: list, exc_info: Any = None) -> Callable:
        status.append(s)
        return _discard

    body = app(environ, start_response)
    try:
        for _chunk in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0] if status else ""


def _discard(data: bytes) -> None:
    return None


def http11_ini(directory: str, ini: str = SAMPLE_INI) -> str:
    """A copy of ``ini`` whose server answers HTTP/1.1, so clients can keep connections open
    (Paste's handler speaks HTTP/1.0 unless told otherwise). ``%(here)s`` paths (the
    session cache) then point into ``directory``, which keeps the sample app's tree clean."""
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ini, encoding="utf-8")
    parser.set("server:main", "protocol_version", "HTTP/1.1")
    path = os.path.join(directory, os.path.basename(ini))
    with open(path, "w", encoding="utf-8") as handle:
        parser.write(handle)
    return path


def wait_until_traced(session: Any, built_before: int, expected: int,
                      timeout: float = 300.0) -> bool:
    """Wait until the assembler has built ``expected`` more traces and the writer has
    saved (or dropped) everything it was given. False on timeout."""
    deadline = time.monotonic() + timeout
    assembler, writer = session.assembler, session.writer
    while time.monotonic() < deadline:
        assembler.wake()
        built = assembler.built - built_before
        handled = writer.written + writer.dropped + writer.failed
        if built >= expected and handled >= assembler.built and writer._queue.empty():
            return True
        time.sleep(0.002)
    return False


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def clear_directory(path: str) -> None:
    """Delete saved traces between batches: a long run writes gigabytes otherwise."""
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def temp_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix)
