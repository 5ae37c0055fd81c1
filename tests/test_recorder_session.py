"""Both recorders behind a whole tracing session give the same trace: the assembler, the
names and the stages cannot tell which recorder fed them."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.apps.plain import HeaderLayer, hello_app
from tracer.middleware import TracingMiddleware
from tracer.recorder import compiled_core_available
from tracer.session import TraceSession

pytestmark = pytest.mark.skipif(not compiled_core_available(),
                                reason="compiled recorder not built")


def one_request(app: Any, path: str) -> tuple[str, dict[str, str]]:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    body = app(environ, start_response)
    try:
        b"".join(body)
    finally:
        body.close()
    return seen["status"], seen["headers"]


def traced_doc(core: str, trace_dir: Path) -> dict[str, Any]:
    session = TraceSession(trace_dir=str(trace_dir), core=core, source="middleware")
    session.start(install_hooks=False)  # as a PasteDeploy tracing filter runs it
    try:
        app = TracingMiddleware(HeaderLayer(HeaderLayer(hello_app, "inner"), "outer"), session)
        one_request(app, "/warm")
        status, headers = one_request(app, "/hello")
    finally:
        session.stop()
    assert status == "200 OK"
    trace_id = headers["X-Pylon-Trace-Id"]
    doc = json.loads((trace_dir / f"{trace_id}.json").read_text())
    assert doc["recorder"] == core
    return doc


def test_same_trace_from_either_recorder(tmp_path: Path) -> None:
    py = traced_doc("py", tmp_path / "py")
    c = traced_doc("c", tmp_path / "c")

    def shape(doc: dict[str, Any]) -> list[tuple]:
        by_id = {s["id"]: s for s in doc["spans"]}
        return [(s["name"], s["kind"], s["stage"],
                 by_id[s["parent"]]["name"] if s["parent"] else None) for s in doc["spans"]]

    assert shape(py) == shape(c)
    assert [s["name"] for s in py["stages"]] == [s["name"] for s in c["stages"]]
    assert [layer["name"] for layer in py["layers"]] == [layer["name"] for layer in c["layers"]]
    names = {s["name"] for s in c["spans"]}
    assert "tests.apps.plain.hello_app" in names
    assert "tests.apps.plain.HeaderLayer.__call__" in names
    for doc in (py, c):
        spans = doc["spans"]
        assert all(0 <= s["start_ns"] <= s["end_ns"] <= doc["duration_ns"] for s in spans)
        assert doc["stats"]["python_calls"] == py["stats"]["python_calls"]
        assert doc["stats"]["c_calls"] == py["stats"]["c_calls"]


def test_stages_only_session_records_markers_through_the_compiled_recorder(
        tmp_path: Path) -> None:
    if os.environ.get("PYLON_TRACE_CORE", "").strip().lower() == "py":
        pytest.skip("PYLON_TRACE_CORE=py chooses the Python recorder")
    session = TraceSession(trace_dir=str(tmp_path), calls=False, source="middleware")
    assert session.recorder.name == "c"
    assert session.recorder_name == "none"  # the trace still says: no call recording
    session.start()
    try:
        app = TracingMiddleware(HeaderLayer(hello_app), session)
        status, headers = one_request(app, "/x")
    finally:
        session.stop()
    doc = json.loads((tmp_path / f"{headers['X-Pylon-Trace-Id']}.json").read_text())
    assert doc["recorder"] == "none"
    assert {s["kind"] for s in doc["spans"]} <= {"stage", "layer"}
