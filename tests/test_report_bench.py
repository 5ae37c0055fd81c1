"""The report benchmark runs (at 2,000 spans here; its budgets are for 100,000).

Not a timing test: it proves the synthetic trace is a valid document of the intended
shape and that the script renders every format from it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from reports.model import build_trace
from tracer.trace_format import validate

_spec = importlib.util.spec_from_file_location(
    "bench_reports", Path(__file__).parent.parent / "benchmarks" / "bench_reports.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_synthetic_trace_has_a_realistic_shape() -> None:
    doc = bench.synthetic_trace(2000)
    validate(doc, "synthetic")
    assert 1900 <= len(doc["spans"]) <= 2000
    trace = build_trace(doc)
    assert max(span.depth for span in trace.walk()) >= 30  # deep
    assert max(len(span.children) for span in trace.walk()) >= 10  # and wide
    functions = {span.name for span in trace.walk()}
    assert len(functions) < len(doc["spans"]) / 4  # the same functions, over and over
    assert [t.role for t in trace.threads] == ["accept", "worker"]
    assert len(trace.layers) == 7 and {s.name for s in trace.stages} >= {"controller", "write"}


def test_benchmark_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--spans", "2000"]) == 0
    out = capsys.readouterr().out
    for fmt in bench.FORMATS:
        assert f"  {fmt} " in out
    assert out.count(" ok") + out.count("OVER") == len(bench.BUDGETED)
