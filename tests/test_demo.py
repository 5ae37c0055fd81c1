"""`pylon-trace demo`: every lifecycle path of the sample app, traced and reported."""

from __future__ import annotations

import contextlib
import io
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pylon_trace.cli import main
from pylon_trace.demo_command import VISITS
from tests.conftest import SAMPLE_INI
from tests.test_walkthrough import no_gc_callbacks  # noqa: F401  (autouse fixture)
from tracer.trace_format import load_trace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, float]:
    out = tmp_path_factory.mktemp("demo") / "out"
    stdout = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(stdout):
        status = main(["demo", "--out", str(out)])
    assert status == 0
    return out, stdout.getvalue(), time.monotonic() - started


def _check(path: Path) -> None:
    assert path.stat().st_size > 0, path
    if path.suffix == ".svg":
        ET.parse(path)
    elif path.suffix == ".json":
        load_trace(path)
    elif path.suffix == ".html":
        assert "<svg" in path.read_text(encoding="utf-8")
    elif path.suffix in (".md", ".txt"):
        assert path.read_text(encoding="utf-8").strip()


def test_every_file_it_says_it_wrote_exists_and_is_valid(demo: tuple[Path, str, float]) -> None:
    out, output, _seconds = demo
    listed = (out / "files.txt").read_text(encoding="utf-8").split()
    assert len(listed) == 1 + len(VISITS) + 3 * len(VISITS) + 2
    for name in listed:
        _check(out / name)
    # Files named in the output exist too: full paths, the commands it suggests (relative
    # to the working directory) and the trace files in the table.
    named = [Path(p) for p in re.findall(r"(?<!\S)(\S+\.(?:json|md|html|txt))\b", output)
             if p.startswith(str(out)) or "/traces/" in p]
    named += [out / "traces" / n for n in re.findall(r"\b\d{8}T\d{6}-\d{5}-\d{6}\.json\b",
                                                   output)]
    assert len(named) > len(VISITS)
    for path in named:
        _check(path)
    startup = load_trace(out / "traces" / "startup.json")
    assert startup["kind"] == "startup"


def test_covers_every_path_with_the_expected_status(demo: tuple[Path, str, float]) -> None:
    out, output, _seconds = demo
    for visit in VISITS:
        assert re.search(rf"GET {re.escape(visit.path)}\s+→ {visit.expect} ", output), visit
    assert "expected" not in output
    traces = sorted((out / "traces").glob("2*.json"))
    docs = [load_trace(p) for p in traces]
    by_path = [d["request"]["path"] for d in docs]
    assert by_path == [v.path for v in VISITS]
    # The second /counter carried the session cookie the first one set.
    counters = [d for d in docs if d["request"]["path"] == "/counter"]
    assert not any(k.lower() == "cookie" for k, _ in counters[0]["request"]["headers"])
    assert any(k.lower() == "cookie" for k, _ in counters[1]["request"]["headers"])
    # The 404 went through StatusCodeRedirect's subrequest; /fail through ErrorHandler.
    missing = next(d for d in docs if d["response"]["status_code"] == 404)
    assert any(layer["visit"] == 1 for layer in missing["layers"])
    failed = next(d for d in docs if d["response"]["status_code"] == 500)
    assert failed["exceptions"][0]["handled_by"] == "ErrorHandler"


def test_prints_the_page2_timeline_a_table_and_where_things_are(
        demo: tuple[Path, str, float]) -> None:
    out, output, seconds = demo
    assert "Timeline of GET /page2" in output
    assert re.search(r"^GET /page2 → 200 OK", output, flags=re.M)
    for stage in ("accept", "middleware", "controller", "write", "return"):
        assert re.search(rf"^{stage}\s", output, flags=re.M), stage
    assert "All requests" in output and "slowest stage" in output
    assert "Where everything is" in output and str(out) in output
    assert seconds < 60


def test_walkthrough_links_the_demo_diagrams(demo: tuple[Path, str, float]) -> None:
    out, _output, _seconds = demo
    text = (out / "walkthrough.md").read_text(encoding="utf-8")
    assert "(diagrams/page2-calls.svg)" in text
    assert "`MainController.page2`" in text
    assert "| 9 | `GET /no/such/page` | 404 Not Found |" in text


def test_out_must_be_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(SAMPLE_INI)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a directory" in err and "Traceback" not in err
