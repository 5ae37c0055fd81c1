"""`pylon-trace walkthrough INI`: write the execution analysis of an application from a
live run: startup, then one "anatomy of a request" per --path."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from pylon_trace.errors import CliError
from walkthrough.document import Options, write_walkthrough
from walkthrough.live import Fetched, LiveRun, live_run
from walkthrough.paths import app_root_for

DEFAULT_PATHS = ["/page2"]
WARM_UP_NOTE = "warm-up: first use imports the controller and fills caches"
DESCRIBED_NOTE = "described in this document"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ini", help="PasteDeploy config file (e.g. development.ini)")
    parser.add_argument("--path", action="append", metavar="PATH",
                        help="a URL path to request and describe (repeatable; default /page2)")
    parser.add_argument("-o", "--output", default=".", metavar="DIR",
                        help="directory for walkthrough.md and its diagrams (default: .)")
    parser.add_argument("--format", choices=("md", "html"), default="md",
                        help="md: walkthrough.md; html: also walkthrough.html with the "
                             "diagrams inlined as SVG")
    parser.add_argument("--no-diagrams", dest="diagrams", action="store_false",
                        help="write only the document: no timeline text and no SVG files")
    parser.add_argument("--cold", action="store_true",
                        help="describe each path's first request (by default each path is "
                             "requested once before, so imports and caches are not described)")
    parser.add_argument("--trace-dir", metavar="DIR",
                        help="keep the traces there (default: a temporary directory, removed)")


def check_paths(paths: list[str]) -> list[str]:
    for path in paths:
        if not path.startswith("/") or any(c.isspace() or not c.isprintable() for c in path):
            raise CliError(f"--path {path!r}: a URL path starts with / and has no spaces")
    return paths


def prepare_directory(directory: str, what: str) -> str:
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise CliError(f"{what} {directory}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{what} {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK):
        raise CliError(f"{what} {directory}: not writable")
    return directory


def display_command(live: LiveRun, words: list[str]) -> str:
    """The command as typed from the application's directory ($APP), for the document."""
    config = live.facts.get("config_file", "")
    factory = live.facts.get("app_factory", "")
    if config and factory:
        config = os.path.relpath(config, app_root_for(factory))
    return " ".join(["pylon-trace", words[0], config, *words[1:]])


def describe_paths(live: LiveRun, paths: list[str], cold: bool) -> list[Fetched]:
    described = []
    for path in paths:
        if not cold:
            live.fetch(path, note=WARM_UP_NOTE)
        described.append(live.fetch(path, note=DESCRIBED_NOTE))
    return described


def run(args: argparse.Namespace) -> int:
    paths = check_paths(args.path or DEFAULT_PATHS)
    out_dir = prepare_directory(args.output, "-o")
    temporary = args.trace_dir is None
    trace_dir = tempfile.mkdtemp(prefix="pylon-trace-walkthrough-") if temporary \
        else prepare_directory(args.trace_dir, "--trace-dir")
    flags = [word for path in paths for word in ("--path", path)]
    flags += ["--cold"] if args.cold else []
    flags += [] if args.diagrams else ["--no-diagrams"]
    try:
        with live_run(args.ini, trace_dir, ["pylon-trace", "walkthrough", args.ini, *flags]) \
                as live:
            described = describe_paths(live, paths, args.cold)
        command = display_command(live, ["walkthrough", *flags])
        options = Options(out_dir=out_dir, diagrams=args.diagrams, html=args.format == "html",
                          command=command, regenerate=command + " -o DIR")
        written = write_walkthrough(live, described, options)
    except OSError as exc:
        raise CliError(f"cannot write the walkthrough: {exc.strerror or exc}") from None
    finally:
        if temporary:
            shutil.rmtree(trace_dir, ignore_errors=True)
    for path in written:
        print(f"wrote {path}")
    return 0
