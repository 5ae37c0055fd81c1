"""Comparing two request traces: stages and layer visits aligned side by side, the calls
where the two runs went different ways, and the time differences.

Pure functions from two `Trace`s to a `TraceDiff`; `pylon_trace.diff_command` prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reports.model import Layer, Span, Trace

T = TypeVar("T")


@dataclass(frozen=True)
class StageRow:
    name: str
    a_ns: int | None  # None: this side did not go through the stage here
    b_ns: int | None


@dataclass(frozen=True)
class LayerRow:
    name: str
    visit: int
    a: Layer | None
    b: Layer | None

    @property
    def label(self) -> str:
        return self.name + (f" #{self.visit + 1}" if self.visit else "")


@dataclass(frozen=True)
class CallRow:
    name: str
    file: str | None
    line: int | None
    a_ns: int | None
    a_calls: int
    b_ns: int | None
    b_calls: int

    @property
    def delta(self) -> int:
        return (self.b_ns or 0) - (self.a_ns or 0)


@dataclass(frozen=True)
class Subrequest:
    """Layer visits one side made again, and the layer that sent them back down."""

    side: str             # "A" or "B"
    sender: str | None    # the layer whose inner application was called again
    visits: tuple[str, ...]


@dataclass(frozen=True)
class TraceDiff:
    a: Trace
    b: Trace
    stages: list[StageRow]
    layers: list[LayerRow]
    only_a: list[CallRow]       # where A went and B did not (roots of those subtrees)
    only_b: list[CallRow]
    more_only_a: int            # calls below those roots, and roots left out of the lists
    more_only_b: int
    changed: list[CallRow]      # in both, largest time difference first
    subrequests: list[Subrequest]


def align(a: Sequence[T], b: Sequence[T], key: Callable[[T], Hashable]) \
        -> list[tuple[T | None, T | None]]:
    """Pair the items of two sequences in order; an item one side lacks pairs with None.

    A longest common subsequence, taking the earliest match whenever there is a choice:
    the stages of a 404 line up with a 200's first pass through the stack, and its
    subrequest's second pass shows as the extra.
    """
    ka, kb = [key(x) for x in a], [key(y) for y in b]
    n, m = len(ka), len(kb)
    # suffix[i][j]: length of the longest common subsequence of ka[i:] and kb[j:]
    suffix = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            suffix[i][j] = suffix[i + 1][j + 1] + 1 if ka[i] == kb[j] \
                else max(suffix[i + 1][j], suffix[i][j + 1])
    pairs: list[tuple[T | None, T | None]] = []
    i = j = 0
    while i < n and j < m:
        if ka[i] == kb[j] and suffix[i][j] == suffix[i + 1][j + 1] + 1:
            pairs.append((a[i], b[j]))
            i, j = i + 1, j + 1
        elif suffix[i + 1][j] >= suffix[i][j + 1]:
            pairs.append((a[i], None))
            i += 1
        else:
            pairs.append((None, b[j]))
            j += 1
    pairs += [(x, None) for x in a[i:]]
    pairs += [(None, y) for y in b[j:]]
    return pairs


def _stages(a: Trace, b: Trace) -> list[StageRow]:
    rows = []
    for x, y in align(a.stages, b.stages, key=lambda s: s.name):
        name = (x or y).name  # type: ignore[union-attr]
        rows.append(StageRow(name, x.duration if x else None, y.duration if y else None))
    return rows


def _layers(a: Trace, b: Trace) -> list[LayerRow]:
    rows = []
    for x, y in align(a.layers, b.layers, key=lambda layer: (layer.name, layer.visit)):
        first = x or y
        assert first is not None
        rows.append(LayerRow(first.name, first.visit, x, y))
    return rows


def _subrequests(side: str, trace: Trace, rows: list[LayerRow]) -> Subrequest | None:
    """Second visits only this side made: a layer on the way out called inwards again."""
    extra = [(row.a if side == "A" else row.b) for row in rows
             if row.visit > 0 and (row.b is None if side == "A" else row.a is None)]
    extra = [layer for layer in extra if layer is not None]
    if not extra:
        return None
    parent = extra[0].parent
    sender = trace.layers[parent].name if parent is not None and parent < len(trace.layers) \
        else None
    return Subrequest(side, sender, tuple(f"{layer.name} #{layer.visit + 1}" for layer in extra))


@dataclass
class _Totals:
    file: str | None
    line: int | None
    ns: int = 0
    calls: int = 0


def _totals(trace: Trace) -> dict[str, _Totals]:
    """Per function: calls and inclusive time, recursion counted once."""
    found: dict[str, _Totals] = {}
    for span in trace.walk():
        if span.kind == "stage":
            continue
        entry = found.setdefault(span.name, _Totals(span.file, span.line))
        entry.calls += span.calls
        if not _has_ancestor_named(span, span.name):
            entry.ns += span.total
    return found


def _has_ancestor_named(span: Span, name: str) -> bool:
    parent = span.parent
    while parent is not None:
        if parent.name == name:
            return True
        parent = parent.parent
    return False


def _divergence(mine: Trace, other_names: set[str], side: str) -> tuple[list[CallRow], int]:
    """Calls of functions the other trace never ran, whose caller it did run: the
    places where the two requests went different ways."""
    roots: dict[str, _Totals] = {}
    below = 0
    for span in mine.walk():
        if span.kind == "stage" or span.name in other_names:
            continue
        parent = span.parent
        if parent is not None and parent.name not in other_names:
            below += 1
            continue
        entry = roots.setdefault(span.name, _Totals(span.file, span.line))
        entry.ns += span.total
        entry.calls += span.calls
    rows = [
        CallRow(name, t.file, t.line, t.ns if side == "A" else None, t.calls if side == "A" else 0,
                t.ns if side == "B" else None, t.calls if side == "B" else 0)
        for name, t in roots.items()
    ]
    rows.sort(key=lambda r: -((r.a_ns or 0) + (r.b_ns or 0)))
    return rows, below


def diff(a: Trace, b: Trace, top: int = 15) -> TraceDiff:
    layers = _layers(a, b)
    totals_a, totals_b = _totals(a), _totals(b)
    only_a, below_a = _divergence(a, set(totals_b), "A")
    only_b, below_b = _divergence(b, set(totals_a), "B")
    changed = [
        CallRow(name, ta.file, ta.line, ta.ns, ta.calls, totals_b[name].ns, totals_b[name].calls)
        for name, ta in totals_a.items() if name in totals_b
    ]
    changed.sort(key=lambda row: -abs(row.delta))
    subrequests = [s for s in (_subrequests("A", a, layers), _subrequests("B", b, layers)) if s]
    return TraceDiff(
        a=a, b=b, stages=_stages(a, b), layers=layers,
        only_a=only_a[:top], only_b=only_b[:top],
        more_only_a=below_a + max(len(only_a) - top, 0),
        more_only_b=below_b + max(len(only_b) - top, 0),
        changed=changed[:top], subrequests=subrequests,
    )
