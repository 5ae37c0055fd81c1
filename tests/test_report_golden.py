"""Golden files for the console reports and the DOT call diagram.

Update them after an intended change (then read the diff before committing):

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_golden.py

Every trace in tests/data/*.json is rendered at width 100 without colour; times are
scrubbed (digits of decimal numbers become #) so a re-recorded trace with the same
shape only changes where the shape changed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reports.model import build_trace
from reports.options import RenderOptions
from tracer.trace_format import load_trace

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
TRACES = sorted(path.stem for path in DATA.glob("*.json"))
FORMATS = {
    "timeline": ("reports.render_timeline", "txt"),
    "tree": ("reports.render_tree", "txt"),
    "stages": ("reports.render_stages", "txt"),
    "layers": ("reports.render_layers", "txt"),
    "dot": ("reports.render_dot", "dot"),
}
_DECIMAL = re.compile(r"\d[\d,]*\.\d+")


def scrub(text: str) -> str:
    """Hide the times but keep the layout: each digit of a decimal number becomes #."""
    return _DECIMAL.sub(lambda m: re.sub(r"\d", "#", m.group()), text)


def render(name: str, fmt: str) -> str:
    import importlib

    module = importlib.import_module(FORMATS[fmt][0])
    trace = build_trace(load_trace(DATA / f"{name}.json"))
    return scrub(module.render(trace, RenderOptions(width=100, color=False)))


def test_there_are_traces_to_compare() -> None:
    # The fixtures make_fixtures.py writes; recorded traces may replace them.
    assert {"page2", "stream", "notfound", "error", "startup"} <= set(TRACES)


def test_scrub_keeps_width_and_integers() -> None:
    assert scrub("  0.058 ms   6.5%  ×12  1,234.5 ms") == "  #.### ms   #.#%  ×12  #,###.# ms"


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("name", TRACES)
def test_golden(name: str, fmt: str) -> None:
    path = GOLDEN / f"{name}.{fmt}.{FORMATS[fmt][1]}"
    actual = render(name, fmt)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} {fmt} differs from {path}; if the change is intended, run "
        f"UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_golden.py and review the diff")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_rendering_is_deterministic(fmt: str) -> None:
    assert render("notfound", fmt) == render("notfound", fmt)
