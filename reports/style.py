"""Colours for stages and threads, shared by the console renderers and the diagrams."""

from __future__ import annotations

STAGE_COLORS: dict[str, str] = {
    "accept": "#8c564b",
    "queue": "#7f7f7f",
    "handler": "#bcbd22",
    "parse": "#17becf",
    "environ": "#1f77b4",
    "middleware": "#9467bd",
    "app": "#2ca02c",
    "controller": "#d62728",
    "response": "#ff7f0e",
    "unwind": "#e377c2",
    "write": "#1f9e89",
    "close": "#6b6ecf",
    "return": "#aaaaaa",
    "command": "#8c564b",
    "load-server": "#17becf",
    "load-app": "#1f77b4",
    "environment": "#2ca02c",
    "middleware-stack": "#9467bd",
    "server-start": "#ff7f0e",
}
_FALLBACK = ("#5f9ea0", "#b8860b", "#6a5acd", "#cd5c5c")
THREAD_COLORS = ("#e6550d", "#3182bd", "#31a354", "#756bb1", "#636363")


def stage_color(name: str | None) -> str:
    if name in STAGE_COLORS:
        return STAGE_COLORS[name]
    return _FALLBACK[sum(map(ord, name or "")) % len(_FALLBACK)]


def thread_color(index: int) -> str:
    return THREAD_COLORS[index % len(THREAD_COLORS)]
