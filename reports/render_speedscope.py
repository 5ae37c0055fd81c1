"""`speedscope`: speedscope's file format, one "evented" profile per thread.

Frames are shared between profiles (a function called on two threads is one frame).
Each profile opens and closes frames depth first; times are clamped so that they never
go backwards and a child never outlives its parent, which speedscope requires and a
recorder's rounding may not give. A last profile holds the lifecycle stages.
https://www.speedscope.app/file-format-schema.json
"""

from __future__ import annotations

import json
from typing import Any

from pylon_trace import __version__
from reports.model import Span, Trace
from reports.options import RenderOptions

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"


class _Frames:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.index: dict[tuple[str, str | None, int | None], int] = {}

    def get(self, name: str, file: str | None = None, line: int | None = None) -> int:
        key = (name, file, line)
        found = self.index.get(key)
        if found is None:
            frame: dict[str, Any] = {"name": name}
            if file is not None:
                frame["file"] = file
            if line is not None:
                frame["line"] = line
            found = self.index[key] = len(self.frames)
            self.frames.append(frame)
        return found


def _thread_events(roots: list[Span], frames: _Frames) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    last = 0
    # (span, entering, the latest time it may close at)
    stack: list[tuple[Span, bool, int]] = [(root, True, root.end) for root in reversed(roots)]
    while stack:
        span, entering, limit = stack.pop()
        frame = frames.get(span.name, span.file, span.line)
        if entering:
            last = max(last, span.start)
            events.append({"type": "O", "frame": frame, "at": last})
            close_by = max(min(span.end, limit), last)
            stack.append((span, False, close_by))
            stack.extend((child, True, close_by) for child in reversed(span.children))
        else:
            last = max(last, limit)
            events.append({"type": "C", "frame": frame, "at": last})
    return events, last


def document(trace: Trace) -> dict[str, Any]:
    frames = _Frames()
    profiles: list[dict[str, Any]] = []
    thread_ids = [thread.id for thread in trace.threads]
    thread_ids += sorted({root.thread for root in trace.roots} - set(thread_ids))
    busiest, busiest_ns = 0, -1
    for thread_id in thread_ids:
        roots = [root for root in trace.roots if root.thread == thread_id]
        if not roots:
            continue
        events, end = _thread_events(roots, frames)
        thread = trace.thread(thread_id)
        busy = sum(root.total for root in roots)
        if busy > busiest_ns:
            busiest, busiest_ns = len(profiles), busy
        profiles.append({"type": "evented", "name": f"{thread.id} {thread.label}",
                         "unit": "nanoseconds", "startValue": 0,
                         "endValue": max(trace.duration, end), "events": events})
    if trace.stages:
        stage_events: list[dict[str, Any]] = []
        last = 0
        for stage in trace.stages:
            frame = frames.get(f"stage: {stage.name}")
            last = max(last, stage.start)
            stage_events.append({"type": "O", "frame": frame, "at": last})
            last = max(last, stage.end)
            stage_events.append({"type": "C", "frame": frame, "at": last})
        profiles.append({"type": "evented", "name": "stages", "unit": "nanoseconds",
                         "startValue": 0, "endValue": max(trace.duration, last),
                         "events": stage_events})
    return {
        "$schema": SCHEMA_URL,
        "shared": {"frames": frames.frames},
        "profiles": profiles,
        "name": f"{trace.title} ({trace.trace_id})",
        "activeProfileIndex": busiest,
        "exporter": f"pylon-trace {__version__}",
    }


def render(trace: Trace, options: RenderOptions) -> str:
    return json.dumps(document(trace), ensure_ascii=True, separators=(",", ":")) + "\n"
