"""The trace writer: files appear whole, private, and none is lost to a vanished directory."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from tracer.cspans import RawSpans
from tracer.writer import TraceWriter


def test_writer_makes_the_directory_again_and_loses_no_trace(tmp_path: Path) -> None:
    directory = tmp_path / "traces"
    writer = TraceWriter(str(directory))
    doc = {"schema": "pylon-trace/1", "spans": RawSpans("[]", 0)}
    assert writer.write_now(doc, "one.json")
    shutil.rmtree(directory)  # e.g. someone cleaning up between runs
    assert writer.write_now(doc, "two.json")
    assert writer.failed == 0
    assert sorted(os.listdir(directory)) == ["two.json"]
    assert stat.S_IMODE(os.stat(directory / "two.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert json.loads((directory / "two.json").read_text()) == {"schema": "pylon-trace/1",
                                                                 "spans": []}
