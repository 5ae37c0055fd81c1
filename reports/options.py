"""What a renderer is asked for beyond the trace itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderOptions:
    width: int = 100
    color: bool = False
    # Node budget for the tree and the diagrams; None lets each pick its default.
    max_nodes: int | None = None
    # --min-ms in nanoseconds: also the threshold below which the tree collapses.
    min_ns: int = 0
    # Costliest calls listed under each stage of the timeline and the stages table.
    top_calls: int = 3
