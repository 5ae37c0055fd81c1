"""`pylon-trace walkthrough`: the generated execution analysis, from a live run."""

from __future__ import annotations

import difflib
import gc
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylon_trace.cli import main
from tests.conftest import REPO, SAMPLE_INI
from tracer.trace_format import REQUEST_STAGES
from walkthrough.document import cell, code, fence
from walkthrough.scrub import scrub

COMMITTED = REPO / "docs" / "walkthrough.md"
# The same arguments as `make walkthrough`, the command that writes the committed copy.
COMMITTED_ARGS = ["walkthrough", "sample_app/development.ini", "--path", "/page2",
                  "--no-diagrams"]

# The seeds' chain of functions, from the accept to the worker's return, in order.
SEED_CHAIN = [
    "get_request", "socket.accept", "process_request", "add_task",
    "process_request_in_thread", "finish_request", "WSGIHandler.handle",
    "handle_one_request", "parse_request", "wsgi_execute", "wsgi_setup", "Cascade",
    "StaticURLParser", "RegistryManager", "StatusCodeRedirect", "ErrorHandler",
    "SessionMiddleware", "RoutesMiddleware", "PylonsApp.__call__", "setup_app_env",
    "resolve", "dispatch", "WSGIController.__call__", "MainController.page2",
    "wsgi_write_chunk",
]


@pytest.fixture(scope="module", autouse=True)
def no_gc_callbacks() -> Iterator[None]:
    """Other tests leave garbage-collector callbacks behind (Hypothesis times its GC
    pauses): they run inside whatever traced code triggers a collection, and would show
    up in the document as code that ran. A command-line run has none."""
    saved = gc.callbacks[:]
    gc.callbacks.clear()
    try:
        yield
    finally:
        gc.callbacks.extend(saved)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("walkthrough")
    status = main(["walkthrough", str(SAMPLE_INI), "--path", "/page2", "-o", str(out),
                   "--format", "html", "--trace-dir", str(out / "traces")])
    assert status == 0
    return out


@pytest.fixture(scope="module")
def document(generated: Path) -> str:
    return (generated / "walkthrough.md").read_text(encoding="utf-8")


def _sequence_section(text: str) -> str:
    """The numbered steps of the /page2 request, up to its timeline."""
    anatomy = text[text.index("### Anatomy of a request: `GET /page2`"):]
    return anatomy[anatomy.index("#### The processing sequence"):anatomy.index("#### Timeline")]


def _step_stages(section: str) -> list[str]:
    return re.findall(r"^\*\*\d+\. ([a-z-]+)\*\*", section, flags=re.M)


def _code_span(name: str) -> re.Pattern[str]:
    """`name` as the end of a code span: `Qual.name` or, for a layer, `Layer.__call__`."""
    return re.compile(r"`(?:[\w.<>]+\.)?" + re.escape(name) + r"(?:\.__call__)?`")


def test_follows_the_seeds_structure(document: str) -> None:
    headings = re.findall(r"^#+ .*$", document, flags=re.M)
    expected = [
        "## The sample application", "### Routes", "### Controllers", "## Dependencies",
        "## The analysis", "### Startup",
        "### Loading the server and the application (PasteDeploy)", "#### Server loading",
        "#### Application loading", "### Instantiating the application", "#### make_app",
        "#### load_environment and the config", "#### PylonsApp", "#### Middleware",
        "### Anatomy of a request: `GET /page2`", "#### The request and the response",
        "#### The server", "#### The processing sequence", "#### Timeline", "#### Diagrams",
        "## How this document was made",
    ]
    positions = [headings.index(h) for h in expected]
    assert positions == sorted(positions)


def test_every_stage_in_order(document: str) -> None:
    stages = _step_stages(_sequence_section(document))
    first_seen = list(dict.fromkeys(stages))
    assert first_seen == list(REQUEST_STAGES)


def test_names_the_seeds_chain_of_functions_in_order(document: str) -> None:
    section = _sequence_section(document)
    positions = []
    for name in SEED_CHAIN:
        found = _code_span(name).search(section)
        assert found, f"{name} is not named in the processing sequence"
        positions.append(found.start())
    out_of_order = [(SEED_CHAIN[i], SEED_CHAIN[i + 1]) for i in range(len(positions) - 1)
                    if positions[i + 1] < positions[i]]
    assert not out_of_order
    # The worker goes back to its pool's loop in the last step.
    steps = re.split(r"^\*\*\d+\. ", section, flags=re.M)
    assert steps[-1].startswith("return**"), steps[-1]
    assert _code_span("worker_thread_callback").search(steps[-1])


def test_facts_come_from_the_run(document: str) -> None:
    # Paths are abbreviated; nothing machine-specific is left.
    assert not re.search(r"/(work|tmp|root|home|usr)/", document)
    assert re.search(r"`\$SP/paste/httpserver\.py:\d+`", document)
    assert re.search(r"`\$APP/sample_app/controllers/main\.py:\d+`", document)
    # Installed versions, routes from the mapper, controller source from inspect.
    from importlib.metadata import version
    for dist in ("Paste", "PasteDeploy", "WebOb", "Routes", "Beaker"):
        assert f"| {dist} | {version(dist)} |" in document
    assert "| page2 | `/page2` | main | page2 |" in document
    assert "def page2(self) -> str:" in document
    # Startup facts: sections, use lines and the entry points they resolved to.
    assert "use = egg:Paste#http" in document
    assert "[paste.server_runner] http = paste.httpserver:server_runner (Paste)" in document
    assert "main = sample_app.config.middleware:make_app" in document
    assert "beaker.session.secret = [redacted]" in document
    # The wire: request and response headers, and the server's real MRO.
    assert "GET /page2 HTTP/1.1\nHost: 127.0.0.1:" in document
    assert "X-Pylon-Trace-Id: " in document
    assert "`paste.httpserver.WSGIThreadPoolServer`" in document
    assert "`socketserver.TCPServer`" in document
    # Environ keys the layers added, with the layer that added them.
    assert re.search(r"\| RoutesMiddleware \|[^\n]*`wsgiorg.routing_args` added", document)
    assert re.search(r"\| SessionMiddleware \|[^\n]*`beaker.session` added", document)


def test_diagrams_beside_it_and_inlined_in_html(generated: Path, document: str) -> None:
    for name in ("page2-timeline.txt", "page2-calls.svg", "page2-sequence.svg"):
        assert (generated / name).stat().st_size > 0
        assert f"({name})" in document
    for name in ("page2-calls.svg", "page2-sequence.svg"):
        ET.parse(generated / name)
    assert "GET /page2 → 200 OK" in (generated / "page2-timeline.txt").read_text()
    html = (generated / "walkthrough.html").read_text(encoding="utf-8")
    assert html.count('<figure class="diagram"><svg') == 2
    assert "<img" not in html
    assert "<h1>Pylons Execution Analysis, from a live run</h1>" in html


def test_committed_document_is_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main([*COMMITTED_ARGS, "-o", str(tmp_path)]) == 0
    fresh = scrub((tmp_path / "walkthrough.md").read_text(encoding="utf-8"))
    committed = scrub(COMMITTED.read_text(encoding="utf-8"))
    if fresh != committed:
        changes = "".join(difflib.unified_diff(committed.splitlines(True),
                                               fresh.splitlines(True), "committed", "fresh",
                                               n=1))
        pytest.fail("docs/walkthrough.md is out of date; run `make walkthrough`:\n"
                    + changes[:6000])


def test_scrub_keeps_structure_and_drops_what_varies() -> None:
    one = ("| 3 | handler | worker 0 (worker) | 0.197 ms | 12.5% |\n"
           "Host: 127.0.0.1:40105\nX-Pylon-Trace-Id: 20261121T090431-07852-000002\n"
           "{'controller': 'main', 'action': 'page2'}\n(69 more calls in this step")
    two = ("| 3 | handler | worker 1 (worker) | 1.004 ms | 9.0% |\n"
           "Host: 127.0.0.1:5000\nX-Pylon-Trace-Id: 20261122T101010-00001-000009\n"
           "{'action': 'page2', 'controller': 'main'}\n(71 more calls in this step")
    assert scrub(one) == scrub(two)
    assert scrub("`$SP/paste/httpserver.py:294`") != scrub("`$SP/paste/httpserver.py:295`")


def test_markdown_helpers_escape_untrusted_text() -> None:
    assert code("a`b") == "``a`b``"
    assert cell("<script>|x") == "&lt;script&gt;\\|x"
    assert fence("```\ncode\n````") == "`````"


@pytest.mark.parametrize("args, message", [
    (["walkthrough", "no/such.ini"], "no such config file"),
    (["walkthrough", str(SAMPLE_INI), "--path", "page2"], "a URL path starts with /"),
    (["walkthrough", str(SAMPLE_INI), "--format", "pdf"], "invalid choice"),
    (["walkthrough", str(SAMPLE_INI), "-o", str(SAMPLE_INI)], "not a directory"),
])
def test_bad_input_is_one_line_and_status_2(args: list[str], message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pylon-trace: error:"), err
    assert message in err and "Traceback" not in err


def test_svg_falls_back_to_newrank_when_dot_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graphviz 2.x fails some clustered call graphs with "trouble in init_rank"."""
    import graphviz

    from walkthrough.diagrams import svg

    def give_up(self: object, **options: object) -> bytes:
        raise graphviz.CalledProcessError(1, ["dot"], output=b"",
                                          stderr=b"Error: trouble in init_rank\n\t%0 2\n")

    monkeypatch.setattr(graphviz.Source, "pipe", give_up)
    ET.fromstring(svg('digraph calls { subgraph cluster_0 { a } a -> b }'))
