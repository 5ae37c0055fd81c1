"""Lifecycle stages: the rules that place every instant of a request in one stage.

The rules, checkable against the seeds' "Anatomy of a request" (steps 4-18):

| stage      | begins at                                               | seed step |
|------------|---------------------------------------------------------|-----------|
| accept     | marker `accept`: get_request runs after select() said a connection is ready | 4-5 |
| queue      | marker `queue`: ThreadPoolMixIn.process_request hands the socket to the pool | 5-6 |
| handler    | marker `task`: a worker runs the task (process_request_in_thread, finish_request, WSGIHandler set-up, handle) | 6-7 |
| parse      | marker `request`: request bytes arrived; handle_one_request, parse_request | 7 |
| environ    | marker `environ`: wsgi_execute starts, wsgi_setup builds the environ | 7 |
| middleware | a layer entered, until it calls its inner application (also the gaps where Cascade moves to its next application) | 8-9 |
| app        | the innermost application entered (PylonsApp.__call__: setup_app_env, resolve, dispatch) | 10 |
| controller | a call of a `…Controller.__call__` (WSGIController: __before__, action, __after__, templates) | 11-13 |
| response   | a call of `WSGIController._wsgi_response` (result → status, headers, body) | 14 |
| unwind     | a layer's inner application returned (also a subrequest being prepared on the way out) | 15 |
| write      | marker `app-return`: the server iterates the body, wsgi_write_chunk | 16 |
| close      | marker `close`: app_iter.close(), handle() returning, connection shut down | 17 |
| return     | marker `task-end`: the worker is back in ThreadPool.worker_thread_callback | 18 |

Markers set a base sequence; layers paint over it (deeper layers win); named calls paint
over layers. Each span's stage is the stage at the instant it started.

Startup stages: `command` (the whole window), `load-server`, `load-app` and
`server-start` (markers from the serve command), `environment` (a call of
`…load_environment`), `middleware-stack` (the app factory's call, outside load_environment).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from tracer import markers as M

BASE_MARKERS = {
    M.ACCEPT: "accept",
    M.QUEUE: "queue",
    M.TASK: "handler",
    M.REQUEST: "parse",
    M.ENVIRON: "environ",
    M.APP_CALL: "app",
    M.APP_RETURN: "write",
    M.CLOSE: "close",
    M.TASK_END: "return",
}

# (test on a span's name, stage): calls that begin a stage wherever they run.
NAMED_CALL_RULES: tuple[tuple[str, str, str], ...] = (
    ("suffix", "Controller.__call__", "controller"),
    ("suffix", "WSGIController._wsgi_response", "response"),
)

STARTUP_NAMED_RULES: tuple[tuple[str, str, str], ...] = (
    ("suffix", ".load_environment", "environment"),
)

LAYER_PRIORITY = 10
APP_CALL_PRIORITY = 5
NAMED_PRIORITY = 1000


def named_stage(name: str, rules: Iterable[tuple[str, str, str]] = NAMED_CALL_RULES) -> str | None:
    for test, text, stage in rules:
        if test == "suffix" and name.endswith(text) or test == "exact" and name == text:
            return stage
    return None


class Painter:
    """Collects prioritised stage intervals, then flattens them into contiguous runs."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.intervals: list[tuple[int, int, int, str]] = []  # (priority, begin, end, stage)

    def paint(self, begin: int, end: int, stage: str, priority: int) -> None:
        begin = max(begin, self.start)
        end = min(end, self.end)
        if end > begin:
            self.intervals.append((priority, begin, end, stage))

    def base_sequence(self, points: list[tuple[int, str]]) -> None:
        """Stage changes at marker instants, each lasting until the next."""
        points = sorted(points)
        for i, (t, stage) in enumerate(points):
            until = points[i + 1][0] if i + 1 < len(points) else self.end
            self.paint(t, until, stage, 0)

    def runs(self) -> list[tuple[str, int, int]]:
        cuts = {self.start, self.end}
        for _p, b, e, _s in self.intervals:
            cuts.add(b)
            cuts.add(e)
        times = sorted(cuts)
        ordered = sorted(self.intervals, key=lambda iv: iv[0])
        runs: list[tuple[str, int, int]] = []
        for i in range(len(times) - 1):
            lo, hi = times[i], times[i + 1]
            stage = None
            for _p, b, e, s in ordered:  # later (higher priority) wins
                if b <= lo and e >= hi:
                    stage = s
            if stage is None:
                continue
            if runs and runs[-1][0] == stage and runs[-1][2] == lo:
                runs[-1] = (stage, runs[-1][1], hi)
            else:
                runs.append((stage, lo, hi))
        return runs


def paint_layers(painter: Painter, visits: list[Any], times: dict[int, tuple[int, int]],
                 app_call: int | None, app_return: int | None) -> None:
    """Paint middleware / app / unwind from the layer visits' enter and exit instants."""
    tops = [v for v in visits if v.parent is None and id(v) in times]
    if tops and app_call is not None:
        painter.paint(app_call, times[id(tops[0])][0], "middleware", APP_CALL_PRIORITY)
        if app_return is not None:
            painter.paint(times[id(tops[-1])][1], app_return, "unwind", APP_CALL_PRIORITY)
    for visit in visits:
        if id(visit) not in times:
            continue
        enter, exit_ = times[id(visit)]
        depth = _depth(visit)
        priority = LAYER_PRIORITY + depth
        children = [c for c in visit.children if id(c) in times]
        if not children:
            stage = "app" if visit.layer.role == "app" else "middleware"
            painter.paint(enter, exit_, stage, priority)
            continue
        painter.paint(enter, times[id(children[0])][0], "middleware", priority)
        for previous, following in zip(children, children[1:], strict=False):
            # Going back into the same layer is a subrequest made on the way out;
            # moving to another application is Cascade still looking on the way in.
            stage = "unwind" if following.layer is previous.layer else "middleware"
            painter.paint(times[id(previous)][1], times[id(following)][0], stage, priority)
        painter.paint(times[id(children[-1])][1], exit_, "unwind", priority)


def _depth(visit: Any) -> int:
    depth = 0
    while visit.parent is not None:
        depth += 1
        visit = visit.parent
    return depth


class StageLookup:
    """Which stage an instant falls in."""

    def __init__(self, runs: list[tuple[str, int, int]]) -> None:
        self.runs = runs
        self._starts = [r[1] for r in runs]

    def at(self, t: int) -> str | None:
        if not self.runs:
            return None
        i = bisect.bisect_right(self._starts, t) - 1
        return self.runs[max(i, 0)][0]
