"""`pylon-trace report` on bad input: one line on stderr naming the problem, exit 2.

Most cases run pylon_trace.cli.main in-process; a few run the installed command in a
subprocess, which is where a stray traceback would really show. A missing Graphviz is
simulated with a PATH that has no `dot`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pylon_trace import cli

DATA = Path(__file__).parent / "data"
PAGE2 = str(DATA / "page2.json")
COMMAND = Path(sys.executable).with_name("pylon-trace")


def fails(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str,
          status: int = 2) -> str:
    assert cli.main(argv) == status
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("pylon-trace: error: ")
    assert expected in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def page2() -> dict:
    return json.loads((DATA / "page2.json").read_text(encoding="utf-8"))


# -- bad files ---------------------------------------------------------------------------
def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", str(tmp_path / "nope.json")], "no such file")


def test_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", str(tmp_path)], "is a directory")


def test_not_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", write(tmp_path, "x.json", "hello, world\n")], "not JSON")


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", write(tmp_path, "x.json", "")], "empty file")


def test_truncated_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (DATA / "page2.json").read_text(encoding="utf-8")
    fails(capsys, ["report", write(tmp_path, "x.json", text[: len(text) // 2])], "truncated")


def test_binary_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", write(tmp_path, "x.json", b"\x89PNG\r\n\x1a\n\xff\xfe")],
          "not UTF-8")


def test_not_a_pylon_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", write(tmp_path, "x.json", '{"traceEvents": []}')],
          "not a pylon-trace document")
    fails(capsys, ["report", write(tmp_path, "y.json", "[1, 2, 3]")],
          "not a pylon-trace document")


def test_unknown_schema_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = page2()
    doc["schema"] = "pylon-trace/2"
    fails(capsys, ["report", write(tmp_path, "x.json", json.dumps(doc))],
          "unsupported schema version 'pylon-trace/2'")


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.update(duration_ns="12 ms"), '"duration_ns" must be'),
    (lambda d: d["spans"][3].update(start_ns="0"), '"spans[3].start_ns" must be'),
    (lambda d: d["spans"][3].update(parent=9999), "is not an earlier span id"),
    (lambda d: d.update(spans={"0": {}}), '"spans" must be a list'),
    (lambda d: d["stages"][0].update(name=None), '"stages[0].name" must be a string'),
    (lambda d: d["layers"][0].pop("enter_ns"), '"layers[0].enter_ns" must be'),
    (lambda d: d.update(request="GET /"), '"request" must be an object or null'),
])
def test_wrong_types(capsys: pytest.CaptureFixture[str], tmp_path: Path, mutate, expected) -> None:
    doc = page2()
    mutate(doc)
    fails(capsys, ["report", write(tmp_path, "x.json", json.dumps(doc))], expected)


# -- bad options -------------------------------------------------------------------------
@pytest.mark.parametrize("argv, expected", [
    (["--format", "pdf"], "invalid choice: 'pdf'"),
    (["--stage", "lunch"], "unknown stage 'lunch'"),
    (["--stage", "middleware,lunch"], "unknown stage 'lunch'"),
    (["--depth", "-1"], "-1 is negative"),
    (["--depth", "two"], "'two' is not a whole number"),
    (["--min-ms", "nan"], "must be a finite number"),
    (["--min-ms", "-0.5"], "must be a finite number"),
    (["--width", "10"], "between 60 and 1000"),
    (["--max-nodes", "0"], "at least 1"),
    (["--thread", "T9"], "no thread 'T9' in this trace (threads: T1 (MainThread), T2"),
])
def test_bad_options(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    fails(capsys, ["report", PAGE2, *argv], expected)


def test_stage_absent_from_this_trace(capsys: pytest.CaptureFixture[str]) -> None:
    fails(capsys, ["report", str(DATA / "startup.json"), "--stage", "write"],
          "stage 'write' does not occur in this trace (it has: command, ")


def test_png_needs_an_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    fails(capsys, ["report", PAGE2, "-f", "png"], "png output is binary: give a file with -o")
    fails(capsys, ["report", PAGE2, "-f", "png", "-o", "-"], "png output is binary")


def test_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fails(capsys, ["report", PAGE2, "-o", str(tmp_path / "no" / "such" / "dir.txt")],
          "cannot write")


def test_output_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", PAGE2, "-f", "stages", "-o", "-"]) == 0
    assert "middleware" in capsys.readouterr().out


# -- Graphviz missing --------------------------------------------------------------------
@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return tmp_path


@pytest.mark.parametrize("fmt, suffix", [("svg", "svg"), ("png", "png"), ("sequence", "svg")])
def test_dot_missing_keeps_the_source(capsys: pytest.CaptureFixture[str], no_dot: Path,
                                      fmt: str, suffix: str) -> None:
    out = no_dot / f"calls.{suffix}"
    line = fails(capsys, ["report", PAGE2, "-f", fmt, "-o", str(out)],
                 "apt-get install graphviz", status=1)
    assert "`dot` program was not found" in line
    saved = no_dot / "calls.dot"
    assert f"written to {saved}" in line
    assert not out.exists()
    source = saved.read_text(encoding="utf-8")
    dot_format = "sequence" if fmt == "sequence" else "dot"
    assert cli.main(["report", PAGE2, "-f", dot_format]) == 0
    assert capsys.readouterr().out == source


def test_dot_missing_without_output(capsys: pytest.CaptureFixture[str], no_dot: Path) -> None:
    line = fails(capsys, ["report", PAGE2, "-f", "svg"], "apt-get install graphviz", status=1)
    assert "--format dot" in line


def test_dot_formats_need_no_graphviz(capsys: pytest.CaptureFixture[str], no_dot: Path) -> None:
    assert cli.main(["report", PAGE2, "-f", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph calls {")


# -- the installed command, in a subprocess ----------------------------------------------
def run_command(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), "report", *argv], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.skipif(not COMMAND.exists(), reason="pylon-trace is not installed in this venv")
def test_installed_command_bad_input(tmp_path: Path) -> None:
    for argv in ([str(tmp_path / "missing.json")],
                 [write(tmp_path, "bad.json", '{"schema": "pylon-trace/1", "spans": 7')],
                 [PAGE2, "--depth", "-3"]):
        done = run_command(*argv)
        assert done.returncode == 2, done
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(not COMMAND.exists(), reason="pylon-trace is not installed in this venv")
def test_installed_command_without_dot_on_path(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty))
    out = tmp_path / "calls.svg"
    done = run_command(PAGE2, "-f", "svg", "-o", str(out), env=env)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "apt-get install graphviz" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "calls.dot").read_text(encoding="utf-8").startswith("digraph calls {")
