"""Strings the request controls must come out literally and never break an output.

The hostile trace (tests/data/make_fixtures.py: hostile) is a 500 whose path, headers,
exception message, span and layer names carry DOT syntax (`"];evil[`, braces, angle
brackets, backslashes), rich markup (`[bold]x[/]`), a terminal escape and a newline.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

from reports.model import build_trace
from reports.options import RenderOptions
from tracer.trace_format import validate

_spec = importlib.util.spec_from_file_location(
    "make_fixtures", Path(__file__).parent / "data" / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)

EVIL: str = make_fixtures.EVIL
# How a console or diagram shows EVIL: the escape and the newline made visible.
SHOWN = EVIL.replace("\x1b", "\\x1b").replace("\n", "\\n")
DOT = shutil.which("dot")


def render(fmt: str, doc: dict[str, Any] | None = None, color: bool = False) -> str:
    module = importlib.import_module(f"reports.render_{fmt}")
    trace = build_trace(doc or make_fixtures.hostile())
    return module.render(trace, RenderOptions(width=140, color=color, max_nodes=1000))


def svg_of(source: str) -> ElementTree.Element:
    assert DOT is not None
    done = subprocess.run([DOT, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return ElementTree.fromstring(done.stdout)


def test_the_hostile_trace_is_a_valid_document() -> None:
    validate(make_fixtures.hostile(), "hostile")


@pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("fmt", ["dot", "sequence"])
def test_diagrams_keep_their_shape_and_show_the_text(fmt: str) -> None:
    source = render(fmt)
    svg = svg_of(source)
    texts = ["".join(el.itertext()) for el in svg.iter() if el.tag.endswith("text")]
    joined = "\n".join(texts)
    # Injected DOT would add nodes: count them against what the renderer meant to draw.
    drawn = [el for el in svg.iter() if el.get("class") == "node"]
    module = importlib.import_module(f"reports.render_{fmt}")
    graph = module.build(build_trace(make_fixtures.hostile()), RenderOptions(max_nodes=1000))
    intended = {line.split()[0] for line in graph.body
                if line.lstrip().startswith(("f", "p")) and "[" in line and "->" not in line}
    assert len(drawn) == len(intended)
    assert not any((el.get("id") or "").startswith("evil") for el in svg.iter())
    if fmt == "sequence":  # the layers' lanes
        assert "Routes[bold]Middleware[/]" + SHOWN[:20] in joined
        assert "<b>Static</b>" in texts
    if fmt == "dot":
        # The node of the renamed action shows the name literally, backslash included.
        assert 'MainController."];evil[ \\ {x} <b>&amp;</b> [bold]x[/]' in joined
        assert "\\x1b[31mred\\nline2" in joined
        assert "/" + SHOWN in joined.replace("\n", "")  # the title, wrapped or not


@pytest.mark.parametrize("fmt", ["timeline", "tree", "stages", "layers"])
def test_console_reports_print_markup_literally(fmt: str) -> None:
    text = render(fmt)
    assert "\x1b" not in text  # the planted terminal escape is shown, not sent
    assert "[bold]x[/]" in text
    assert SHOWN[:40] in text
    if fmt in ("timeline", "layers"):
        assert "Routes[bold]Middleware[/]" in text
    if fmt == "layers":
        assert "Weird[bold]Error" in text


@pytest.mark.parametrize("fmt", ["timeline", "layers"])
def test_colour_output_sends_only_its_own_escapes(fmt: str) -> None:
    text = render(fmt, color=True)
    assert "\x1b[31mred" not in text
    assert "\\x1b[31mred" in text
    assert "\x1b[" in text  # colour is on


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


@pytest.mark.parametrize("fmt", ["chrome", "speedscope", "json"])
def test_json_exports_round_trip_the_strings(fmt: str) -> None:
    document = json.loads(render(fmt))
    assert "sample_app.controllers.main.MainController." + EVIL in strings(document)
    if fmt == "json":
        validate(document, "hostile re-emitted")
        assert document["request"]["path"] == "/" + EVIL
    if fmt == "chrome":
        instants = [e for e in document["traceEvents"] if e["ph"] == "i"]
        assert instants[0]["name"] == "Weird[bold]Error: bad path " + EVIL


@pytest.mark.parametrize("fmt", ["timeline", "tree", "stages", "layers", "dot", "sequence",
                                 "chrome", "speedscope", "json"])
def test_lone_surrogates_and_nul_do_not_break_output(fmt: str) -> None:
    doc = make_fixtures.hostile()
    doc["request"]["path"] = "/\ud800\x00\u202eabc"
    for span in doc["spans"]:
        if span["kind"] == "c_call":
            span["name"] = "weird.\udfff\x00name"
    text = render(fmt, doc)
    # Every output must be writable as UTF-8 (what the command line does).
    data = text.encode("utf-8", "backslashreplace")
    assert data.decode("utf-8")
    if fmt in ("timeline", "tree", "stages", "layers"):
        assert "\\ud800\\x00\\u202eabc" in text
