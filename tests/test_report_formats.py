"""Every report format on the request traces (/page2, /stream, a 404, a 500) and startup.

Output goes through the real command line (pylon_trace.cli.main) and is checked with
what consumes it: Graphviz's `dot` for DOT, an XML parser for SVG, the Trace Event
rules for Chrome's JSON, speedscope's evented-profile rules, and the trace validator
for the re-emitted JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

from pylon_trace import cli
from tracer.trace_format import load_trace, validate

DATA = Path(__file__).parent / "data"
REQUESTS = ["page2", "stream", "notfound", "error"]
ALL = REQUESTS + ["startup"]
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed")


def report(tmp_path: Path, name: str, *options: str, suffix: str = "out") -> bytes:
    out = tmp_path / f"{name}.{suffix}"
    status = cli.main(["report", str(DATA / f"{name}.json"), "-o", str(out), *options])
    assert status == 0
    return out.read_bytes()


def run_dot(source: bytes) -> bytes:
    assert DOT is not None
    done = subprocess.run([DOT, "-Tsvg"], input=source, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert not done.stderr.strip(), done.stderr.decode()  # no warnings either
    return done.stdout


def svg_texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("text")]


# -- validators ------------------------------------------------------------------------
def check_chrome(document: dict[str, Any]) -> None:
    """Trace Event Format: required fields, and complete events nest on each track."""
    events = document["traceEvents"]
    assert isinstance(events, list) and events
    named_tracks = set()
    by_track: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for event in events:
        for key in ("ph", "ts", "pid", "tid"):
            assert key in event, f"{key} missing in {event}"
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event.get("name"), str)
        if event["ph"] == "M" and event["name"] == "thread_name":
            named_tracks.add((event["pid"], event["tid"]))
        if event["ph"] == "X":
            assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0
            by_track.setdefault((event["pid"], event["tid"]), []).append(event)
        assert event["ph"] in ("M", "X", "i")
    assert set(by_track) <= named_tracks, "every track with events has a name"
    epsilon = 1e-6  # µs: float rounding of nanoseconds
    for track, spans in by_track.items():
        spans.sort(key=lambda e: (e["ts"], -e["dur"]))
        open_ends: list[float] = []
        for event in spans:
            while open_ends and event["ts"] >= open_ends[-1] - epsilon and \
                    event["ts"] + event["dur"] > open_ends[-1] + epsilon:
                open_ends.pop()
            end = event["ts"] + event["dur"]
            if open_ends:
                assert end <= open_ends[-1] + epsilon, f"{event['name']} overlaps on {track}"
            open_ends.append(end)


def check_speedscope(document: dict[str, Any]) -> None:
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = document["shared"]["frames"]
    assert all(isinstance(frame["name"], str) for frame in frames)
    assert all(isinstance(frame.get("file", ""), str) for frame in frames)
    assert all(isinstance(frame.get("line", 0), int) for frame in frames)
    profiles = document["profiles"]
    assert profiles and 0 <= document["activeProfileIndex"] < len(profiles)
    for profile in profiles:
        assert profile["type"] == "evented"
        assert profile["unit"] == "nanoseconds"
        assert profile["startValue"] <= profile["endValue"]
        opened: list[int] = []
        last = profile["startValue"]
        for event in profile["events"]:
            assert event["at"] >= last, "events go back in time"
            assert event["at"] <= profile["endValue"]
            last = event["at"]
            assert 0 <= event["frame"] < len(frames)
            if event["type"] == "O":
                opened.append(event["frame"])
            else:
                assert event["type"] == "C"
                assert opened and opened.pop() == event["frame"], "close of an unopened frame"
        assert not opened, "frames left open"


# -- the tests ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_timeline(tmp_path: Path, name: str) -> None:
    text = report(tmp_path, name, "--width", "100").decode()
    doc = load_trace(DATA / f"{name}.json")
    assert all(len(line) <= 100 for line in text.splitlines())
    for stage in doc["stages"]:
        assert stage["name"] in text
    for thread in doc["threads"]:
        assert thread["name"] in text
    if doc["kind"] == "request":
        # The accept thread hands over to the worker, and every layer shows going down
        # and coming back (an endpoint such as PylonsApp as one ● row).
        table = text[text.index("─"):]
        first, second = (t["name"] for t in doc["threads"][:2])
        assert table.index(first) < table.index("⇢") < table.index(second)
        for layer in doc["layers"]:
            arrows = ("●",) if layer["inner_enter_ns"] is None else ("↓", "↑")
            for arrow in arrows:
                assert f"{arrow} {layer['name']}" in text
        assert doc["request"]["path"] in text


@pytest.mark.parametrize("name", ALL)
def test_tree(tmp_path: Path, name: str) -> None:
    text = report(tmp_path, name, "-f", "tree", "--width", "100").decode()
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "▶" in text  # the hottest path
    assert "self" in text
    if name != "startup":
        assert "more call" in text  # small subtrees are folded, with a count


@pytest.mark.parametrize("name", ALL)
def test_stages_table(tmp_path: Path, name: str) -> None:
    text = report(tmp_path, name, "-f", "stages").decode()
    doc = load_trace(DATA / f"{name}.json")
    table = text[text.index("─"):]
    rows = [line.split() for line in table.splitlines() if line.strip()[:1].isdigit()]
    assert [row[1] for row in rows] == [stage["name"] for stage in doc["stages"]]
    assert "100.0%" in text  # the stages cover the whole window
    python_calls = sum(s.get("calls", 1) for s in doc["spans"] if s["kind"] in ("call", "layer"))
    total_row = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert f"{python_calls:,}" in total_row.split()


@pytest.mark.parametrize("name", ALL)
def test_layers(tmp_path: Path, name: str) -> None:
    text = report(tmp_path, name, "-f", "layers").decode()
    doc = load_trace(DATA / f"{name}.json")
    if name == "startup":
        assert "outermost first" in text
        return
    for layer in doc["layers"]:
        assert layer["name"] + (f" #{layer['visit'] + 1}" if layer["visit"] else "") in text
        environ, response = layer["environ"], layer["response"]
        for key in environ["added"]:
            assert f"+ {key} =" in text
        for key in environ["changed"]:
            assert f"~ {key}:" in text
        for key in environ["removed"]:
            assert f"- {key}" in text
        for header in response["headers_added"] + response["headers_changed"]:
            assert f"{'+' if len(header) == 2 else '~'} {header[0]}:" in text
    raised = [layer for layer in doc["layers"] if layer["exception"] is not None]
    assert text.count("✗ raised") == len(raised)
    if name in ("notfound", "error"):  # what the fixtures are about
        assert "#2" in text if name == "notfound" else raised


@needs_dot
@pytest.mark.parametrize("name", ALL)
def test_dot_is_accepted_by_graphviz(tmp_path: Path, name: str) -> None:
    source = report(tmp_path, name, "-f", "dot")
    texts = " ".join(svg_texts(run_dot(source)))
    doc = load_trace(DATA / f"{name}.json")
    assert any(stage["name"] in texts for stage in doc["stages"])  # stage clusters
    if doc["kind"] == "request":
        assert "PylonsApp.__call__" in texts


@needs_dot
def test_dot_prunes_to_the_node_budget_and_says_so(tmp_path: Path) -> None:
    source = report(tmp_path, "page2", "-f", "dot", "--max-nodes", "12").decode()
    nodes = [line for line in source.splitlines() if line.strip().startswith("f")
             and "[label=" in line and "->" not in line]
    assert len(nodes) == 12
    assert "pruned:" in source and "beyond the 12 costliest" in source
    run_dot(source.encode())


@needs_dot
def test_dot_min_ms_prunes_short_functions(tmp_path: Path) -> None:
    source = report(tmp_path, "stream", "-f", "dot", "--min-ms", "1", "--max-nodes", "999")
    text = source.decode()
    assert "filtered: spans ≥ 1 ms" in text
    doc = load_trace(DATA / "stream.json")
    longest: dict[str, int] = {}
    for span in doc["spans"]:
        longest[span["name"]] = max(longest.get(span["name"], 0),
                                    span["end_ns"] - span["start_ns"])
    labels = "\n".join(svg_texts(run_dot(source)))
    shown = {name for name in longest if name.rsplit(".", 1)[-1] in labels}
    assert {n for n, ns in longest.items() if ns >= 1_000_000} <= shown
    short = {n for n, ns in longest.items() if ns < 1_000_000 and "." in n
             and n.rsplit(".", 1)[-1] not in labels}
    assert short, "some functions were shorter than 1 ms and are gone"


@needs_dot
@pytest.mark.parametrize("name", ALL)
def test_sequence_is_accepted_by_graphviz(tmp_path: Path, name: str) -> None:
    source = report(tmp_path, name, "-f", "sequence")
    texts = svg_texts(run_dot(source))
    joined = " ".join(texts)
    doc = load_trace(DATA / f"{name}.json")
    for thread in doc["threads"]:
        assert thread["name"] in joined  # threads are lanes
    if doc["kind"] == "request":
        for layer in doc["layers"]:
            assert layer["name"] in texts  # a lifeline head per participant
        assert "controller" in texts
        assert doc["response"]["status"] in joined


@needs_dot
def test_sequence_to_svg_by_suffix(tmp_path: Path) -> None:
    svg = report(tmp_path, "notfound", "-f", "sequence", suffix="svg")
    texts = svg_texts(svg)
    assert {layer["name"] for layer in load_trace(DATA / "notfound.json")["layers"]} <= set(texts)


@needs_dot
@pytest.mark.parametrize("name", ["page2", "startup"])
def test_svg_and_png(tmp_path: Path, name: str) -> None:
    svg = report(tmp_path, name, "-f", "svg", suffix="svg")
    assert svg_texts(svg)
    png = report(tmp_path, name, "-f", "png", suffix="png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_svg_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    if DOT is None:
        pytest.skip("Graphviz's dot is not installed")
    assert cli.main(["report", str(DATA / "error.json"), "-f", "svg"]) == 0
    assert svg_texts(capsysbinary.readouterr().out)


@pytest.mark.parametrize("name", ALL)
def test_chrome_trace_events(tmp_path: Path, name: str) -> None:
    document = json.loads(report(tmp_path, name, "-f", "chrome"))
    check_chrome(document)
    doc = load_trace(DATA / f"{name}.json")
    events = document["traceEvents"]
    track_names = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert "stages" in track_names
    assert {f"{t['id']} {t['name']} ({t['role']})" for t in doc["threads"]} <= track_names
    complete = [e for e in events if e["ph"] == "X"]
    assert len(complete) == len(doc["spans"]) + len(doc["stages"]) + len(doc["layers"])
    instants = [e["name"] for e in events if e["ph"] == "i"]
    assert instants == [f"{e['type']}: {e['message']}" for e in doc["exceptions"]]
    if name == "error":
        assert instants


def test_chrome_validator_catches_overlap() -> None:
    bad = {"traceEvents": [
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "ts": 0, "args": {"name": "t"}},
        {"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "X", "name": "b", "pid": 1, "tid": 1, "ts": 5, "dur": 10},
    ]}
    with pytest.raises(AssertionError, match="overlaps"):
        check_chrome(bad)


@pytest.mark.parametrize("name", ALL)
def test_speedscope(tmp_path: Path, name: str) -> None:
    document = json.loads(report(tmp_path, name, "-f", "speedscope"))
    check_speedscope(document)
    doc = load_trace(DATA / f"{name}.json")
    profiles = {profile["name"] for profile in document["profiles"]}
    assert {f"{t['id']} {t['name']} ({t['role']})" for t in doc["threads"]} <= profiles
    opened = sum(1 for p in document["profiles"] if p["name"] != "stages"
                 for e in p["events"] if e["type"] == "O")
    assert opened == len(doc["spans"])
    # Frames are shared: one per distinct function, however often it ran.
    distinct = {(s["name"], s.get("file"), s.get("line")) for s in doc["spans"]}
    assert len(document["shared"]["frames"]) == len(distinct) + len(
        {s["name"] for s in doc["stages"]})


@pytest.mark.parametrize("name", ALL)
def test_json_round_trip(tmp_path: Path, name: str) -> None:
    out = json.loads(report(tmp_path, name, "-f", "json"))
    validate(out, "re-emitted")
    original = load_trace(DATA / f"{name}.json")
    assert out == original  # no filter: the same document


@pytest.mark.parametrize("name", REQUESTS)
def test_json_after_filters_is_still_a_trace(tmp_path: Path, name: str) -> None:
    out = json.loads(report(tmp_path, name, "-f", "json", "--stage", "controller,unwind",
                            "--min-ms", "0.005"))
    validate(out, "filtered")
    assert out["spans"] and all(s["stage"] in ("controller", "unwind") for s in out["spans"])
    assert {s["name"] for s in out["stages"]} == {"controller", "unwind"}
    assert all(s["end_ns"] - s["start_ns"] >= 5000 for s in out["spans"])
    assert out["filtered"]["hidden_spans"] == len(load_trace(DATA / f"{name}.json")["spans"]) \
        - len(out["spans"])
    assert out["stats"]["spans"] == len(out["spans"])
    ids = {s["id"] for s in out["spans"]}
    assert all(layer["span"] is None or layer["span"] in ids for layer in out["layers"])


def test_json_thread_filter_renumbers_layers(tmp_path: Path) -> None:
    out = json.loads(report(tmp_path, "page2", "-f", "json", "--thread", "MainThread"))
    validate(out, "filtered")
    assert {s["thread"] for s in out["spans"]} == {"T1"}
    assert out["layers"] == []  # they all ran on the worker
    assert {s["thread"] for s in out["stages"]} == {"T1"}


@pytest.mark.parametrize("fmt", ["timeline", "tree", "stages", "layers"])
def test_narrow_width(tmp_path: Path, fmt: str) -> None:
    text = report(tmp_path, "notfound", "-f", fmt, "--width", "60").decode()
    assert all(len(line) <= 60 for line in text.splitlines()), text


def test_thread_and_depth_filters(tmp_path: Path) -> None:
    doc = load_trace(DATA / "page2.json")
    out = json.loads(report(tmp_path, "page2", "-f", "json", "--thread", "worker",
                            "--depth", "12"))
    depth: dict[int, int] = {}
    for span in doc["spans"]:
        depth[span["id"]] = depth[span["parent"]] + 1 if span["parent"] is not None else 0
    worker = {t["id"] for t in doc["threads"] if t["role"] == "worker"}
    expected = {s["id"] for s in doc["spans"] if s["thread"] in worker and depth[s["id"]] <= 12}
    assert {s["id"] for s in out["spans"]} == expected
    assert len(expected) < len(doc["spans"])


@pytest.mark.parametrize("fmt", ["timeline", "tree", "stages", "layers", "dot", "sequence",
                                 "chrome"])
def test_every_format_says_it_was_filtered(tmp_path: Path, fmt: str) -> None:
    text = report(tmp_path, "page2", "-f", fmt, "--thread", "worker", "--depth", "12").decode()
    assert "filtered: thread" in text or '"filters":["thread' in text
    assert "depth ≤ 12" in text or "depth \\u2264 12" in text


def test_stage_filter_on_timeline(tmp_path: Path) -> None:
    text = report(tmp_path, "notfound", "--stage", "unwind").decode()
    rows = [line.split()[0] for line in text.splitlines()
            if line[:1].isalpha() and not line.startswith(("GET", "trace", "threads", "filtered",
                                                          "stage"))]
    unwinds = [s for s in load_trace(DATA / "notfound.json")["stages"] if s["name"] == "unwind"]
    assert rows == ["unwind"] * len(unwinds) and len(unwinds) == 2
    assert "↑ StatusCodeRedirect" in text and "↓" not in text
    assert "filtered: stage unwind" in text


def test_colour_only_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    # Not a terminal: never colour, whatever the flags.
    assert cli.main(["report", str(DATA / "page2.json")]) == 0
    assert "\x1b[" not in capsys.readouterr().out

    class Terminal:
        def __init__(self, real: Any) -> None:
            self.real = real
            self.buffer = real.buffer

        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    import sys
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys, "stdout", Terminal(sys.stdout))
    assert cli.main(["report", str(DATA / "page2.json"), "--width", "100"]) == 0
    assert "\x1b[" in capsys.readouterr().out
    assert cli.main(["report", str(DATA / "page2.json"), "--width", "100", "--no-color"]) == 0
    assert "\x1b[" not in capsys.readouterr().out


def test_layer_exception_as_type_name(tmp_path: Path) -> None:
    """The recorder may name the exception type on layers and leave spans unmarked."""
    doc = load_trace(DATA / "error.json")
    for layer in doc["layers"]:
        if layer["exception"] is not None:
            layer["exception"] = "RuntimeError"
    for span in doc["spans"]:
        span.pop("exception", None)
    doc["exceptions"][0].pop("span", None)
    path = tmp_path / "error.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["report", str(path), "-f", "layers", "-o", str(out)]) == 0
    raised = [layer for layer in doc["layers"] if layer["exception"] is not None]
    assert raised
    assert out.read_text(encoding="utf-8").count("✗ raised RuntimeError") == len(raised)
    assert cli.main(["report", str(path), "-f", "chrome", "-o", str(out)]) == 0
    events = json.loads(out.read_text(encoding="utf-8"))["traceEvents"]
    [instant] = [e for e in events if e["ph"] == "i"]
    raised_in = doc["exceptions"][0]["raised_in"]["name"]
    last = [s for s in doc["spans"] if s["name"] == raised_in][-1]
    assert instant["ts"] == last["end_ns"] / 1000
