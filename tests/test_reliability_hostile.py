"""Hostile HTTP input: the server answers, a trace is written, reports render it safely."""

from __future__ import annotations

import json
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import PYLON_TRACE

HOSTILE = {
    "malformed request line": (b"GARBAGE\r\n\r\n", 400),
    "unknown HTTP version": (b"GET / HTTP/9.9\r\n\r\n", 505),
    "unknown method": (b"BREW /page2 HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
    "header over 64 KB": (b"GET /page2 HTTP/1.1\r\nX-Long: " + b"a" * 70_000
                          + b"\r\nConnection: close\r\n\r\n", 431),
    "invalid percent-encoding": (b"GET /%zz%%41 HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
    "non-UTF-8 path": (b"GET /\xff\xfe\xc3 HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
    "script in path": (b"GET /<script>alert(1)</script> HTTP/1.1\r\n"
                       b"Connection: close\r\n\r\n", 404),
    "DOT breaker in path": (b'GET /"];evil[ HTTP/1.1\r\nConnection: close\r\n\r\n', 404),
}


def send_raw(host: str, port: int, raw: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=20) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


@pytest.fixture(scope="module")
def hostile_traces(tmp_path_factory):
    from tests.conftest import SAMPLE_INI, start_serve

    trace_dir = tmp_path_factory.mktemp("hostile")
    server = start_serve(SAMPLE_INI, trace_dir)
    try:
        answers = {name: send_raw(server.host, server.port, raw)
                   for name, (raw, _status) in HOSTILE.items()}
        status, _, _ = server.request("/page2")  # still serving afterwards
        assert status == 200
    finally:
        assert server.stop() == 0
    traces = [json.loads(p.read_text()) for p in trace_dir.glob("2*.json")]
    return answers, traces, trace_dir


def test_every_hostile_request_is_answered_and_traced(hostile_traces) -> None:
    answers, traces, _ = hostile_traces
    for name, data in answers.items():
        assert data, f"no answer to {name}"
    assert len(traces) == len(HOSTILE) + 1
    statuses = sorted((t["response"] or {}).get("status_code", 0) for t in traces)
    assert statuses == sorted([status for _, status in HOSTILE.values()] + [200])
    paths = {t["request"]["path"] for t in traces}
    assert "/<script>alert(1)</script>" in paths and '/"];evil[' in paths


@pytest.mark.parametrize("fmt", ["dot", "svg", "sequence", "timeline", "tree", "layers"])
def test_reports_render_hostile_traces_safely(hostile_traces, fmt, tmp_path) -> None:
    _, _, trace_dir = hostile_traces
    for path in trace_dir.glob("2*.json"):
        out = tmp_path / f"{path.stem}.{fmt}"
        result = subprocess.run([str(PYLON_TRACE), "report", str(path), "--format", fmt,
                                 "-o", str(out), "--no-color"], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        if fmt in ("dot", "sequence"):
            rendered = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True,
                                      text=True, timeout=60)
            assert rendered.returncode == 0, rendered.stderr
            ET.fromstring(rendered.stdout)
            assert "evil[" not in text.replace('\\"];evil[', "")
        if fmt == "svg":
            root = ET.fromstring(text)
            assert "<script>" not in ET.tostring(root, encoding="unicode")
