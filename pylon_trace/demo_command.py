"""`pylon-trace demo`: the sample application, traced, from every side.

Serves the sample app on an ephemeral loopback port, sends one request down every
lifecycle path it has, then prints the /page2 timeline and a table of all requests and
writes the traces, the diagrams and the walkthrough under one directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from importlib import resources

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from reports.fmt import ms, safe
from reports.model import build_trace
from walkthrough.command import prepare_directory
from walkthrough.diagrams import slug_for, timeline_text, write_diagrams
from walkthrough.document import Options, write_walkthrough
from walkthrough.live import Fetched, LiveRun, live_run

DEFAULT_OUT = "pylon-trace-demo"
DESCRIBED_PATH = "/page2"
PLAIN_WIDTH = 110


@dataclass(frozen=True)
class Visit:
    path: str
    expect: int
    note: str
    cookie_from: str | None = None  # reuse the session cookie set by this earlier path


# One request per lifecycle path of the sample app, in the order a visitor might go.
VISITS: tuple[Visit, ...] = (
    Visit("/", 200, "home page (MainController.index)"),
    Visit("/page2", 200, "the seeds' page2: the walkthrough describes this one"),
    Visit("/hello/world", 200, "Mako template with inheritance and helpers"),
    Visit("/counter", 200, "Beaker session: first visit sets the cookie"),
    Visit("/counter", 200, "same session cookie: the count goes up", cookie_from="/counter"),
    Visit("/stream", 200, "lazy body: a generator runs while the server writes"),
    Visit("/hooks", 200, "__before__ and __after__ around the action"),
    Visit("/redirect", 302, "redirect() raises an HTTP exception"),
    Visit("/no/such/page", 404, "no route: StatusCodeRedirect fetches the error page"),
    Visit("/fail", 500, "the action raises: ErrorHandler answers 500"),
    Visit("/robots.txt", 200, "a static file: StaticURLParser answers, the app is not called"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"where traces, diagrams and the walkthrough go "
                             f"(default: ./{DEFAULT_OUT})")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")


def sample_ini() -> str:
    return str(resources.files("sample_app") / "development.ini")


def _console(no_color: bool) -> Console:
    interactive = sys.stdout.isatty()
    return Console(highlight=False, width=None if interactive else PLAIN_WIDTH,
                   no_color=no_color or "NO_COLOR" in os.environ)


def _cookie(fetched: Fetched) -> dict[str, str]:
    value = fetched.header("Set-Cookie")
    return {"Cookie": value.split(";", 1)[0]} if value else {}


class _Collect(logging.Handler):
    """Keeps what the application logs (ErrorHandler's traceback for /fail) off the
    terminal while the progress display runs; the demo reports it in one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def send_all(live: LiveRun, progress: Progress, task: int, console: Console) -> list[Fetched]:
    done: list[Fetched] = []
    for visit in VISITS:
        progress.update(task, description=f"GET {visit.path}")
        headers: dict[str, str] = {}
        if visit.cookie_from is not None:
            earlier = next((f for f in done if f.path == visit.cookie_from), None)
            headers = _cookie(earlier) if earlier is not None else {}
        fetched = live.fetch(visit.path, headers=headers, note=visit.note)
        done.append(fetched)
        flag = "" if fetched.status == visit.expect else f"  (expected {visit.expect})"
        console.print(f"  GET {safe(visit.path):<15} → {fetched.status_line:<26} "
                      f"{ms(fetched.doc['duration_ns']):>8} ms{flag}")
        progress.advance(task)
    return done


def requests_table(fetched: list[Fetched], out_dir: str) -> Table:
    table = Table(title="All requests", title_justify="left", box=box.SIMPLE_HEAD)
    for name, justify in (("#", "right"), ("request", "left"), ("status", "left"),
                          ("total ms", "right"), ("slowest stage", "left"),
                          ("trace (in traces/)", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for number, item in enumerate(fetched, start=1):
        totals: dict[str, int] = {}
        for stage in item.doc["stages"]:
            totals[stage["name"]] = totals.get(stage["name"], 0) + stage["end_ns"] - \
                stage["start_ns"]
        slowest = max(totals.items(), key=lambda kv: kv[1]) if totals else ("—", 0)
        table.add_row(str(number), f"GET {safe(item.path)}", str(item.status),
                      ms(item.doc["duration_ns"]), f"{slowest[0]} ({ms(slowest[1])} ms)",
                      os.path.basename(item.trace_path))
    return table


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    out_dir = prepare_directory(args.out, "--out")
    trace_dir = prepare_directory(os.path.join(out_dir, "traces"), "--out")
    console = _console(args.no_color)
    console.print(f"[bold]pylon-trace demo[/bold]: the sample app, traced, into {out_dir}/")
    written: list[str] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting the server", total=len(VISITS) * 2 + 1)
        collect = _Collect()
        logging.getLogger().addHandler(collect)
        try:
            with live_run(sample_ini(), trace_dir, ["pylon-trace", "demo", "--out", args.out]) \
                    as live:
                console.print(f"Serving the sample app on {live.running.url} "
                              f"(startup traced); sending {len(VISITS)} requests:")
                fetched = send_all(live, progress, task, console)
        finally:
            logging.getLogger().removeHandler(collect)
        for record in collect.records:
            console.print(f"  the application logged {record.levelname}: "
                          f"{safe(record.getMessage(), 80)}"
                          + (f" ({record.exc_info[0].__name__}, with its traceback)"
                             if record.exc_info and record.exc_info[0] else ""))
        written += [live.startup_path()] + [f.trace_path for f in fetched]

        diagram_dir = os.path.join(out_dir, "diagrams")
        taken: set[str] = set()
        for item in fetched:
            progress.update(task, description=f"diagrams for GET {item.path}")
            diagrams = write_diagrams(build_trace(item.doc), slug_for(item.path, taken),
                                      diagram_dir, out_dir)
            written += [d.path for d in diagrams]
            progress.advance(task)

        progress.update(task, description="the walkthrough")
        described = [next(f for f in fetched if f.path == DESCRIBED_PATH)]
        options = Options(out_dir=out_dir, diagrams=True, diagram_dir="diagrams", html=True,
                          command="pylon-trace demo",
                          regenerate="pylon-trace demo --out DIR")
        written += [p for p in write_walkthrough(live, described, options) if p not in written]
        progress.advance(task)

    manifest = os.path.join(out_dir, "files.txt")
    with open(manifest, "w", encoding="utf-8") as handle:
        handle.writelines(os.path.relpath(p, out_dir) + "\n" for p in written)
    written.append(manifest)

    page2 = described[0]
    console.print()
    console.print(f"[bold]Timeline of GET {DESCRIBED_PATH}[/bold] "
                  f"({os.path.relpath(page2.trace_path, out_dir)}):")
    width = min(console.width, 160)
    console.print(timeline_text(build_trace(page2.doc), width=max(width, 80),
                                color=console.is_terminal and not console.no_color),
                  markup=False, highlight=False, end="")
    console.print()
    console.print(requests_table(fetched, out_dir))
    _where(console, out_dir, fetched, len(written), time.monotonic() - started)
    return 0


def _where(console: Console, out_dir: str, fetched: list[Fetched], count: int,
           seconds: float) -> None:
    page2 = next((f for f in fetched if f.path == DESCRIBED_PATH), fetched[0])
    home = next((f for f in fetched if f.path == "/"), fetched[0])
    missing = next((f for f in fetched if f.status == 404), fetched[-1])
    trace = os.path.join(out_dir, "traces")
    console.print(f"[bold]Where everything is[/bold] ({count} files in {seconds:.1f} s):")
    console.print(f"  {trace}/startup.json and one <trace id>.json per request")
    console.print(f"  {out_dir}/diagrams/   <request>-timeline.txt, -calls.svg, "
                  f"-sequence.svg for each request")
    console.print(f"  {out_dir}/walkthrough.md and {out_dir}/walkthrough.html "
                  f"(the execution analysis of GET {DESCRIBED_PATH})")
    console.print(f"  {out_dir}/files.txt   every file written")
    console.print("Next: pylon-trace report " + os.path.relpath(page2.trace_path)
                  + " -f tree", soft_wrap=True)
    console.print("      pylon-trace diff " + os.path.relpath(home.trace_path) + " "
                  + os.path.relpath(missing.trace_path), soft_wrap=True)
