"""Shared fixtures: real `pylon-trace serve` processes on 127.0.0.1, real HTTP clients."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_INI = REPO / "sample_app" / "development.ini"
PYLON_TRACE = Path(sys.executable).parent / "pylon-trace"


@dataclass
class ServeProcess:
    process: subprocess.Popen
    host: str
    port: int
    trace_dir: Path
    output: list[str] = field(default_factory=list)

    def request(self, path: str, method: str = "GET", headers: dict | None = None,
                body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request on its own connection, closed by the client (Connection: close)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            all_headers = {"Connection": "close", **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def trace(self, trace_id: str, timeout: float = 10.0) -> dict:
        """The trace file for ``trace_id``, once the writer has produced it."""
        path = self.trace_dir / f"{trace_id}.json"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"no trace file {path} after {timeout}s")
            time.sleep(0.02)
        return json.loads(path.read_text())

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        rest = self.process.stdout.read() if self.process.stdout else ""
        self.output.append(rest)
        return self.process.returncode


def start_serve(ini: Path | str, trace_dir: Path, *extra: str,
                env: dict | None = None, preexec=None) -> ServeProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    process = subprocess.Popen(
        [str(PYLON_TRACE), "serve", str(ini), "--port", "0", "--trace-dir", str(trace_dir),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
        cwd=str(REPO), preexec_fn=preexec,
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"serving on http://([\d.]+):(\d+)", line)
        if found:
            return ServeProcess(process, found.group(1), int(found.group(2)), trace_dir, lines)
    process.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start `pylon-trace serve` processes; all are stopped at the end of the test."""
    started: list[ServeProcess] = []

    def _start(ini: Path | str = SAMPLE_INI, *extra: str, trace_dir: Path | None = None,
               env: dict | None = None) -> ServeProcess:
        server = start_serve(ini, trace_dir or tmp_path / f"traces{len(started)}", *extra,
                             env=env)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


def span_names(trace: dict) -> list[str]:
    return [span["name"] for span in trace["spans"]]


def stage_names(trace: dict) -> list[str]:
    return [stage["name"] for stage in trace["stages"]]
