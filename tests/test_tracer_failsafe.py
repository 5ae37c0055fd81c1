"""A failing hook is logged once and never reaches the application."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from paste.deploy import loadapp
from webtest import TestApp

from tests.conftest import SAMPLE_INI
from tracer.middleware import TracingMiddleware
from tracer.session import TraceSession


class BrokenRecorder:
    """Every marker fails, as a bug in the recorder would."""

    name = "broken"

    def mark(self, name: str, payload: object = None) -> None:
        raise RuntimeError("recorder bug")

    def drain(self) -> list:
        return []

    def pending(self) -> int:
        return 0


@pytest.fixture
def broken_app(tmp_path: Path):
    session = TraceSession(trace_dir=str(tmp_path / "traces"), calls=False,
                           source="middleware")
    session.recorder = BrokenRecorder()
    session.start(install_hooks=False)
    app = loadapp(f"config:{SAMPLE_INI.parent / 'test.ini'}")
    probed, _layers = session.instrument(app)
    yield TestApp(TracingMiddleware(probed, session, standalone=True))
    session.stop()


def test_requests_are_served_when_every_hook_fails(broken_app, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="pylon_trace"):
        for _ in range(3):
            response = broken_app.get("/page2")
            assert response.text == 'Thank you for using the Analysis Demo. <a href="/">Home</a>'
        assert broken_app.get("/stream").text.count("chunk") == 5
        assert broken_app.get("/nope", status=404).status_int == 404
    failures = [r for r in caplog.records if "recording a marker" in r.getMessage()]
    assert len(failures) == 1  # logged once, not once per hook call
