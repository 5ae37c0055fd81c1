"""The benchmark runs end to end (--quick) and reports every mode. No timing assertions:
the machine is shared and noisy; ratios belong in the benchmark's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tracer.recorder import compiled_core_available


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    if os.environ.get("PYLON_TRACE_CORE", "").strip().lower() == "py":
        # The benchmark measures both recorders whatever the variable says: once is enough.
        pytest.skip("run in the PYLON_TRACE_CORE=c (or unset) pass")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYLON_TRACE_CORE", None)
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--quick", "--json",
                           str(out)], cwd=str(REPO), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(Path(out).read_text()), done.stdout


def test_quick_benchmark_reports_every_mode(quick_run: tuple[dict, str]) -> None:
    report, printed = quick_run
    modes = report["in_process"]["modes"]
    expected = {"untraced", "stages", "py", "py-core", "cprofile"}
    if compiled_core_available():
        expected |= {"c", "c-core", "nullhook"}
    if "viztracer (pip install -e '.[bench]')" not in report["unavailable"]:
        expected.add("viztracer")
    assert expected <= set(modes)
    for name, row in modes.items():
        assert row["mean_ns"] > 0 and row["p50_ns"] > 0, name
        assert row["ratio"] > 0 and row["with_assembly_ns"] >= row["mean_ns"] * 0.999
    assert modes["untraced"]["ratio"] == pytest.approx(1.0)
    for name in ("py", "c", "py-core", "c-core"):
        if name in modes:
            # Full call tracing: the compiled and Python recorders both see the app's calls.
            assert modes[name]["events_counted"] and modes[name]["events_per_request"] > 500
            assert modes[name]["ns_per_event"] is not None
    assert modes["stages"]["events_per_request"] < 100  # markers only
    steps = report["breakdown"]
    assert {"stages", "py"} <= set(steps)
    for name, row in steps.items():
        assert row["request"] > 0 and row["build"] > 0 and row["write"] > 0, name
        assert row["traces"] >= 10, name
    assert "Where a traced request's cost goes" in printed
    assert "In-process GET /page2" in printed and "ns/event" in printed


def test_quick_benchmark_over_http_and_memory(quick_run: tuple[dict, str]) -> None:
    report, printed = quick_run
    http = report["http"]["modes"]
    assert {"untraced", "stages", "py"} <= set(http)
    for name, row in http.items():
        assert row["rps"] > 0 and row["p50_ns"] > 0, name
        assert 0 < row["sustained_rps"] <= row["rps"] * 1.0001
    assert http["untraced"]["throughput_fraction"] == pytest.approx(1.0)
    assert "Over HTTP" in printed

    memory = report["memory"]
    assert "error" not in memory, memory
    per_event = memory["per_event"]
    assert per_event["py"]["events"] > 1000
    if compiled_core_available():
        assert per_event["c"]["storage_bytes_per_event"] <= 32
        assert memory["server"]["core"] == "c"
    checkpoints = memory["server"]["checkpoints"]
    assert [p["requests"] for p in checkpoints] == [50, 200]
    assert all(p["rss"] > 0 for p in checkpoints)
    assert "Memory" in printed
