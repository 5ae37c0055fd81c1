"""Garbage, truncated, deeply nested, huge-number and wrong-typed trace documents: the
report command answers with one line and exit 2 (or renders, when the mutation happens to
leave a valid trace), never a traceback, never a hang (issue 7)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylon_trace.cli import SUBCOMMANDS, main
from tests.conftest import REPO

VALID = json.loads((REPO / "tests" / "data" / "page2.json").read_text())
FORMATS = ["timeline", "tree", "stages", "layers", "dot", "chrome", "speedscope", "json"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def run_cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def check(path: Path, fmt: str, out: Path) -> None:
    commands = [["report", str(path), "--format", fmt, "-o", str(out)]]
    if "diff" in SUBCOMMANDS:
        commands.append(["diff", str(path), str(REPO / "tests" / "data" / "page2.json")])
    for args in commands:
        code, err = run_cli(args)
        assert code in (0, 2), (code, err)
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("pylon-trace: error:"), err
        assert "Traceback" not in err


def mutate(doc: dict, path: list, value: object) -> dict:
    """Replace the value found by following ``path`` (keys/indices, wrapped) in a copy."""
    doc = json.loads(json.dumps(doc))
    node = doc
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[list(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
        else:
            return doc
    if isinstance(node, dict) and node:
        node[list(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return doc


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(value=json_values, fmt=st.sampled_from(FORMATS))
def test_arbitrary_json_documents(tmp_path: Path, value: object, fmt: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(value))
    check(path, fmt, tmp_path / "out")


@SETTINGS
@given(steps=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5),
       value=json_values, fmt=st.sampled_from(FORMATS))
def test_mutated_traces(tmp_path: Path, steps: list[int], value: object, fmt: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(mutate(VALID, steps, value)))
    check(path, fmt, tmp_path / "out")


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(json.dumps(VALID)) - 1),
       fmt=st.sampled_from(FORMATS))
def test_truncated_traces(tmp_path: Path, cut: int, fmt: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(VALID)[:cut])
    check(path, fmt, tmp_path / "out")


def test_deeply_nested_and_huge_numbers(tmp_path: Path) -> None:
    for text in ("[" * 100_000 + "]" * 100_000,
                 json.dumps({**VALID, "duration_ns": 10**400}),
                 json.dumps({**VALID, "spans": [{**VALID["spans"][0], "end_ns": 1e308}]}),
                 "\xff\xfe garbage"):
        path = tmp_path / "doc.json"
        path.write_bytes(text.encode("utf-8", "surrogateescape")
                         if isinstance(text, str) else text)
        check(path, "timeline", tmp_path / "out")
