"""`pylon-trace diff`: two request traces side by side."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pylon_trace.cli import main
from reports.diff import align
from tests.conftest import SAMPLE_INI
from walkthrough.live import live_run


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real traces of the home page, a 404 and startup, from one traced server."""
    directory = tmp_path_factory.mktemp("diff-traces")
    with live_run(str(SAMPLE_INI), str(directory), ["pytest"]) as live:
        home = live.fetch("/")
        missing = live.fetch("/no/such/page")
    assert (home.status, missing.status) == (200, 404)
    return {"home": Path(home.trace_path), "missing": Path(missing.trace_path),
            "startup": directory / "startup.json"}


def _diff(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["diff", *args, "--width", "140"]) == 0
    return capsys.readouterr().out


def test_home_against_404_names_the_subrequest(traces: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = _diff(capsys, str(traces["home"]), str(traces["missing"]))
    assert "Status: A answered 200 OK, B answered 404 Not Found." in out
    assert ("B went down the stack again through StatusCodeRedirect's subrequest: "
            "ErrorHandler #2, SessionMiddleware #2, RoutesMiddleware #2, PylonsApp #2; "
            "A did not.") in " ".join(out.split())
    # The second visits are rows only B has, after the first pass's layers.
    rows = [line.split() for line in out.splitlines()]
    extra = [row[0] for row in rows if row[-3:] == ["only", "in", "B"] and len(row) > 1
             and row[1] == "#2"]
    assert extra == ["ErrorHandler", "SessionMiddleware", "RoutesMiddleware", "PylonsApp"]
    # Where they went different ways: the subrequest and the error page's action.
    assert "StatusCodeRedirect._error_subrequest" in out
    assert "ErrorController.document" in out
    assert "MainController.index" in out  # only the home page ran its action


def test_same_trace_has_no_differences(traces: dict[str, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = _diff(capsys, str(traces["home"]), str(traces["home"]))
    assert not [line for line in out.splitlines() if line.rstrip().endswith(("only in A",
                                                                             "only in B"))]
    for side in "AB":
        assert re.search(rf"Calls only in {side}:.*\n\n.*\n.*\n none\n", out), side
    assert "went down the stack again" not in out
    assert "Total: B took 0.000 ms more than A" in out


def test_align_pairs_the_first_pass_and_marks_the_extra() -> None:
    a = ["environ", "middleware", "app", "controller", "unwind", "write"]
    b = ["environ", "middleware", "app", "unwind", "middleware", "app", "controller",
         "unwind", "write"]
    pairs = align(a, b, key=lambda s: s)
    assert pairs == [("environ", "environ"), ("middleware", "middleware"), ("app", "app"),
                     (None, "unwind"), (None, "middleware"), (None, "app"),
                     ("controller", "controller"), ("unwind", "unwind"), ("write", "write")]
    assert align([], ["x"], key=lambda s: s) == [(None, "x")]


def test_bad_input_is_one_line_and_status_2(traces: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    not_json = tmp_path / "notes.txt"
    not_json.write_text("hello\n")
    other_schema = tmp_path / "other.json"
    other_schema.write_text(json.dumps({"schema": "something/1"}))
    cases = [
        ([str(tmp_path / "missing.json"), str(traces["home"])], "no such file"),
        ([str(not_json), str(traces["home"])], "not JSON"),
        ([str(traces["home"]), str(other_schema)], "other.json"),
        ([str(traces["startup"]), str(traces["home"])], "diff compares two request traces"),
        ([str(traces["home"])], "required"),
        ([str(traces["home"]), str(traces["home"]), "--top", "0"], "at least 1"),
    ]
    for args, message in cases:
        assert main(["diff", *args]) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("pylon-trace: error:"), err
        assert message in err and "Traceback" not in err, err
