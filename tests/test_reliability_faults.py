"""Faults leave the server serving and no partial trace file behind (issue 7)."""

from __future__ import annotations

import http.client
import json
import resource
import signal
import socket
from pathlib import Path

from tests.conftest import REPO

INI = REPO / "tests" / "apps" / "faults.ini"


def no_partial_files(directory: Path) -> None:
    if directory.exists():
        assert not [p.name for p in directory.iterdir() if p.name.startswith(".tmp")]
        for path in directory.glob("*.json"):
            json.loads(path.read_text())  # every file present is a whole document


def test_body_generator_failing_after_first_chunk(serve) -> None:
    server = serve(INI)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("GET", "/body-fails", headers={"Connection": "close"})
    response = conn.getresponse()
    try:
        response.read()
    except http.client.IncompleteRead:
        pass
    conn.close()
    status, headers, body = server.request("/after")
    assert status == 200 and body == b"ok"
    server.stop()
    no_partial_files(server.trace_dir)
    traces = [json.loads(p.read_text()) for p in server.trace_dir.glob("2*.json")]
    failed = next(t for t in traces if t["request"]["path"] == "/body-fails")
    (exc,) = failed["exceptions"]
    assert exc["message"] == "body failed after the first chunk"
    assert exc["handled_by"] == "server"
    assert "write" in [s["name"] for s in failed["stages"]]


def test_client_disconnecting_mid_response(serve) -> None:
    server = serve(INI)
    with socket.create_connection((server.host, server.port), timeout=10) as conn:
        conn.sendall(b"GET /big HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    status, _, body = server.request("/after")
    assert status == 200 and body == b"ok"
    server.stop()
    no_partial_files(server.trace_dir)
    paths = [json.loads(p.read_text())["request"]["path"]
             for p in server.trace_dir.glob("2*.json")]
    assert sorted(paths) == ["/after", "/big"]


def test_disk_full_while_writing_traces(serve, tmp_path: Path) -> None:
    def small_file_limit() -> None:
        # Writes past 4 KB fail with EFBIG, as a full disk fails them.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    from tests.conftest import start_serve

    server = start_serve(INI, tmp_path / "traces", preexec=small_file_limit)
    try:
        for _ in range(3):
            status, _, body = server.request("/x")
            assert status == 200 and body == b"ok"
    finally:
        assert server.stop() == 0
    no_partial_files(tmp_path / "traces")
    output = "".join(server.output)
    assert output.count("cannot write traces") == 1
    assert "Traceback" not in output
