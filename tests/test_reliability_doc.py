"""docs/reliability.md states the figures the reliability tests use; keep them equal."""

from __future__ import annotations

import re

from tests import (
    test_reliability_fuzz,
    test_reliability_hostile,
    test_reliability_load,
    test_serve_cli,
)
from tests.conftest import REPO

DOC = (REPO / "docs" / "reliability.md").read_text()


def figure(label: str) -> int:
    found = re.search(r"^\| " + re.escape(label) + r" \| (\d+) \|$", DOC, re.MULTILINE)
    assert found, f"docs/reliability.md has no row {label!r}"
    return int(found.group(1))


def test_load_figures_match_the_load_test() -> None:
    clients = test_reliability_load.CLIENTS
    per_client = test_reliability_load.REQUESTS_PER_CLIENT
    assert figure("concurrent keep-alive clients") == clients
    assert figure("requests per client") == per_client
    assert figure("requests in all") == clients * per_client
    assert figure("traces written") == clients * per_client
    assert figure("traces lost") == 0
    assert figure("traces holding another request's spans") == 0
    source = (REPO / "tests" / "test_reliability_load.py").read_text()
    assert f"assert growth_mb < {figure('memory growth allowed after warm-up, MB')}" in source
    assert f"len(workers) <= {figure('worker threads at most (Paste' + chr(39) + 's pool)')}" \
        in source


def test_input_counts_match_the_tests() -> None:
    assert figure("hostile HTTP requests (malformed line, unknown version and method, 64 KB "
                  "header, bad percent-encoding, non-UTF-8 path, script tag, DOT breaker)") \
        == len(test_reliability_hostile.HOSTILE)
    formats = test_reliability_hostile.test_reports_render_hostile_traces_safely
    marks = [m for m in formats.pytestmark if m.name == "parametrize"]
    assert figure("report formats each hostile trace is rendered in") == len(marks[0].args[1])
    assert figure("generated trace documents per property (arbitrary JSON, mutated, "
                  "truncated)") == test_reliability_fuzz.SETTINGS.max_examples
    bad_configs = test_serve_cli.test_bad_config_gives_one_line_and_exit_2
    marks = [m for m in bad_configs.pytestmark if m.name == "parametrize"]
    assert figure("bad config files for `serve`") == len(marks[0].args[1])
