"""Planted sleeps of known length land in the right stage and span, within 2 ms."""

from __future__ import annotations

import pytest

from tests.apps import planted
from tests.conftest import REPO

TOLERANCE_NS = 2_000_000
INI = REPO / "tests" / "apps" / "planted" / "planted.ini"


def sleeps(trace: dict) -> list[dict]:
    return [s for s in trace["spans"] if s["name"] == "time.sleep"]


def ancestors(trace: dict, span: dict) -> list[str]:
    by_id = {s["id"]: s for s in trace["spans"]}
    names = []
    while span["parent"] is not None:
        span = by_id[span["parent"]]
        names.append(span["name"])
    return names


@pytest.mark.parametrize("attempt", [0])
def test_planted_sleeps_are_attributed_to_their_stage_and_span(serve, attempt: int) -> None:
    server = serve(INI)
    server.request("/sleepy")  # first request compiles the template; measure the second
    status, headers, body = server.request("/sleepy")
    assert status == 200 and body.endswith(b"done\n")
    trace = server.trace(headers["x-pylon-trace-id"])
    found = {}
    for span in sleeps(trace):
        caller = ancestors(trace, span)[0]
        found[caller] = span
    expected = {
        "tests.apps.planted.PlantedMiddleware.__call__": (planted.MIDDLEWARE_SLEEP, "middleware"),
        "tests.apps.planted.controllers.sleepy.SleepyController.__before__":
            (planted.BEFORE_SLEEP, "controller"),
        "tests.apps.planted.controllers.sleepy.SleepyController.index":
            (planted.ACTION_SLEEP, "controller"),
        "tests.apps.planted.controllers.sleepy.SleepyController.index.<locals>.body":
            (planted.BODY_SLEEP, "write"),
    }
    for caller, (seconds, stage) in expected.items():
        assert caller in found, f"no sleep under {caller}; found {sorted(found)}"
        span = found[caller]
        took = span["end_ns"] - span["start_ns"]
        assert abs(took - seconds * 1e9) < TOLERANCE_NS, (caller, took)
        assert span["stage"] == stage, (caller, span["stage"])
    template = [s for c, s in found.items() if "sleepy_mako" in c or "render_body" in c]
    assert template, f"no sleep inside the template; callers: {sorted(found)}"
    span = template[0]
    assert abs(span["end_ns"] - span["start_ns"] - planted.TEMPLATE_SLEEP * 1e9) < TOLERANCE_NS
    assert span["stage"] == "controller"
    assert "framework.templating.render_mako" in ancestors(trace, span)
    stages = {s["name"]: s["end_ns"] - s["start_ns"] for s in trace["stages"]}
    assert stages["write"] >= planted.BODY_SLEEP * 1e9 - TOLERANCE_NS
