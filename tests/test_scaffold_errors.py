"""`create` and `controller` refusing bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pylon_trace.cli import main
from tests.conftest import PYLON_TRACE


def one_line_error(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """Run the CLI in-process; assert it failed the CliError way and return the message."""
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("pylon-trace: error: ")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project with a `main` controller; the current directory is its root."""
    assert main(["create", "Analysis", "--output-dir", str(tmp_path)]) == 0
    root = tmp_path / "Analysis"
    monkeypatch.chdir(root)
    assert main(["controller", "main"]) == 0
    return root


@pytest.mark.parametrize("name, expected", [
    ("", "empty"),
    ("1st", "start with a letter"),
    ("..", "not a path"),
    (".", "not a path"),
    ("a/b", "not a path"),
    ("../Analysis", "not a path"),
    ("my app", "invalid project name"),
    ("-x", "invalid project name"),
    ("trailing-", "invalid project name"),
    ("Class", "keyword"),
    ("os", "shadow"),
    ("Framework", "shadow"),
])
def test_create_refuses_invalid_names(tmp_path: Path, capsys: pytest.CaptureFixture,
                                      name: str, expected: str) -> None:
    # "--" so that names starting with "-" reach the command rather than argparse.
    message = one_line_error(capsys, ["create", "--output-dir", str(tmp_path), "--", name])
    assert expected in message
    assert list(tmp_path.iterdir()) == []


def test_create_refuses_an_existing_directory(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "Analysis").mkdir()
    (tmp_path / "Analysis" / "keep.txt").write_text("mine")
    message = one_line_error(capsys, ["create", "Analysis", "--output-dir", str(tmp_path)])
    assert "already exists" in message
    assert snapshot(tmp_path) == {"Analysis/keep.txt": b"mine"}
    # An existing *file* of that name is refused the same way.
    (tmp_path / "Other").write_text("")
    assert "already exists" in one_line_error(
        capsys, ["create", "Other", "--output-dir", str(tmp_path)])


def test_create_refuses_a_missing_output_dir(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nowhere"
    message = one_line_error(capsys, ["create", "Analysis", "--output-dir", str(missing)])
    assert "no such directory" in message
    assert not missing.exists()
    (tmp_path / "file").write_text("")
    assert "not a directory" in one_line_error(
        capsys, ["create", "Analysis", "--output-dir", str(tmp_path / "file")])


def test_controller_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    message = one_line_error(capsys, ["controller", "main"])
    assert "not inside a project" in message
    # A pyproject.toml alone does not make a project.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert "not inside a project" in one_line_error(capsys, ["controller", "main"])
    assert snapshot(tmp_path) == {"pyproject.toml": b"[project]\nname = 'x'\n"}


def test_controller_refuses_to_overwrite(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "analysis/controllers/main.py").write_text("# edited by hand\n")
    before = snapshot(project)
    message = one_line_error(capsys, ["controller", "main"])
    assert "main.py: already exists" in message
    # Only the test module left from an earlier run is refused just the same.
    (project / "analysis/controllers/main.py").unlink()
    assert "test_main.py: already exists" in one_line_error(capsys, ["controller", "main"])
    del before["analysis/controllers/main.py"]
    assert snapshot(project) == before


@pytest.mark.parametrize("name", ["", "Main", "1st", "_private", "a/b", "a.b", "class",
                                  "my controller", "-x"])
def test_controller_refuses_invalid_names(project: Path, capsys: pytest.CaptureFixture,
                                          name: str) -> None:
    before = snapshot(project)
    message = one_line_error(capsys, ["controller", "--", name])
    assert "invalid controller name" in message
    assert snapshot(project) == before


def test_errors_through_the_installed_command(tmp_path: Path) -> None:
    # The same refusals from the real executable: no traceback reaches the terminal.
    for argv in (["create", "..", "--output-dir", str(tmp_path)], ["controller", "main"]):
        result = subprocess.run([str(PYLON_TRACE), *argv], capture_output=True, text=True,
                                cwd=tmp_path, timeout=60)
        assert result.returncode == 2
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
