"""Pure functions over the span tree, shared by every renderer.

Each takes a `Trace` and returns a new one (or a derived value); none mutates its input.
Filters that drop a span keep its descendants only when they can stand on their own
(a stage or thread filter re-attaches them to the nearest kept ancestor); pruning by
depth, time or node budget drops whole subtrees and counts them on the nearest kept
ancestor (`hidden_spans`, `hidden_ns`) so renderers can say what is not shown.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from reports.model import Span, Stage, Trace, finish_tree, walk

KEEP, SKIP, PRUNE = 0, 1, 2


class FilterError(ValueError):
    """A filter names something the trace does not have."""


def _rebuild(roots: Iterable[Span], decide: Callable[[Span], int]) -> tuple[list[Span], int]:
    """Copy the tree, keeping, skipping (children re-attached) or pruning each span."""
    new_roots: list[Span] = []
    removed = 0
    stack: list[tuple[Span, Span | None]] = [(root, None) for root in roots]
    stack.reverse()
    while stack:
        span, parent = stack.pop()
        verdict = decide(span)
        if verdict == KEEP:
            copy = span.derive(parent)
            if parent is None:
                new_roots.append(copy)
            if span.children:
                stack.extend((child, copy) for child in reversed(span.children))
        elif verdict == SKIP:
            removed += 1
            if span.children:
                stack.extend((child, parent) for child in reversed(span.children))
        else:
            removed += span.size
            if parent is not None:
                parent.hidden_spans += span.size
                parent.hidden_ns += span.total
    finish_tree(new_roots)
    return new_roots, removed


def _replace(trace: Trace, roots: list[Span], removed: int, note: str, **changes: object) -> Trace:
    return dataclasses.replace(
        trace,
        roots=tuple(roots),
        span_count=trace.span_count - removed,
        hidden_spans=trace.hidden_spans + removed,
        filters=trace.filters + (note,) if note else trace.filters,
        **changes,
    )


def keep_stages(trace: Trace, names: Collection[str]) -> Trace:
    """Only spans that started in one of the stages `names` (and those stages' rows)."""
    wanted = frozenset(names)
    missing = sorted(wanted - {stage.name for stage in trace.stages})
    if missing:
        present = ", ".join(dict.fromkeys(stage.name for stage in trace.stages)) or "none"
        raise FilterError(f"stage {missing[0]!r} does not occur in this trace (it has: {present})")
    roots, removed = _rebuild(
        trace.roots, lambda span: KEEP if span.stage in wanted else SKIP)
    stages = tuple(stage for stage in trace.stages if stage.name in wanted)
    return _replace(trace, roots, removed, "stage " + ", ".join(sorted(wanted)), stages=stages)


def resolve_threads(trace: Trace, names: Iterable[str]) -> frozenset[str]:
    """Thread ids for names given as id ("T2"), name ("MainThread") or role ("worker")."""
    ids: set[str] = set()
    for name in names:
        matches = {t.id for t in trace.threads if name in (t.id, t.name)}
        matches = matches or {t.id for t in trace.threads if t.role == name}
        if not matches:
            known = ", ".join(f"{t.id} ({t.name})" for t in trace.threads) or "none"
            raise FilterError(f"no thread {name!r} in this trace (threads: {known})")
        ids |= matches
    return frozenset(ids)


def keep_threads(trace: Trace, thread_ids: Collection[str]) -> Trace:
    """Only the spans, stages and layers of the given thread ids."""
    wanted = frozenset(thread_ids)
    # Spans never cross threads, so whole trees go or stay.
    roots, removed = _rebuild(trace.roots, lambda span: KEEP if span.thread in wanted else PRUNE)
    # Pruned roots have no kept parent to be counted on; the trace-level count has them.
    # A layer belongs to the thread of its span; one whose span is unknown stays.
    span_threads = {span.id: span.thread for span in walk(trace.roots) if span.kind == "layer"}
    layers = tuple(layer for layer in trace.layers
                   if layer.span not in span_threads or span_threads[layer.span] in wanted)
    stages = tuple(s for s in trace.stages if s.thread is None or s.thread in wanted)
    names = ", ".join(trace.thread(t).name for t in sorted(wanted))
    return _replace(trace, roots, removed, f"thread {names}", stages=stages, layers=layers)


def limit_depth(trace: Trace, max_depth: int) -> Trace:
    """Drop spans deeper than `max_depth` (a thread's outermost span has depth 0)."""
    roots, removed = _rebuild(
        trace.roots, lambda span: KEEP if span.depth <= max_depth else PRUNE)
    return _replace(trace, roots, removed, f"depth ≤ {max_depth}")


def drop_shorter(trace: Trace, min_ns: int) -> Trace:
    """Drop spans (with everything below them) that took less than `min_ns`."""
    roots, removed = _rebuild(
        trace.roots, lambda span: KEEP if span.total >= min_ns else PRUNE)
    return _replace(trace, roots, removed, f"spans ≥ {min_ns / 1e6:g} ms")


def hot_path(roots: Sequence[Span]) -> list[Span]:
    """From the costliest root, repeatedly the costliest child: where the time went."""
    if not roots:
        return []
    path = [max(roots, key=lambda span: span.total)]
    while path[-1].children:
        path.append(max(path[-1].children, key=lambda span: span.total))
    return path


def collapse(trace: Trace, max_nodes: int, min_ns: int = 0,
             always: Iterable[Span] = ()) -> Trace:
    """Keep at most `max_nodes` spans, the costliest first, each shown with its ancestors.

    Selection grows from the roots, always taking the costliest span whose parent is
    already shown, so what stays is connected and what goes is whole subtrees, each
    counted on the parent that stays (a root that goes counts only in the trace's
    `hidden_spans`). `always` (e.g. the hot path, from a root down) stays regardless.
    """
    selected: set[int] = set()
    for span in always:
        selected.add(span.id)
    heap: list[tuple[int, int, int, Span]] = []

    # The candidates to start from: roots, and the children of forced spans.
    pending = list(trace.roots)
    while pending:
        span = pending.pop()
        if span.id in selected:
            pending.extend(span.children)
        else:
            heap.append((-span.total, span.start, span.id, span))
    heapq.heapify(heap)
    while heap and len(selected) < max_nodes:
        negative_total, _, span_id, span = heapq.heappop(heap)
        if -negative_total < min_ns:
            break
        selected.add(span_id)
        for child in span.children:
            if child.id not in selected:
                heapq.heappush(heap, (-child.total, child.start, child.id, child))
    roots, removed = _rebuild(trace.roots, lambda span: KEEP if span.id in selected else PRUNE)
    return _replace(trace, roots, removed, "")


def stage_of_spans(trace: Trace, spans: Iterable[Span]) -> list[list[Span]]:
    """Group spans by the stage occurrence they started in, aligned with trace.stages.

    A stage can occur more than once (a 404's subrequest runs `middleware` … `unwind`
    twice), so a span goes to the last occurrence of its stage that began before it.
    """
    groups: list[list[Span]] = [[] for _ in trace.stages]
    starts: dict[str, tuple[list[int], list[int]]] = {}
    for position, stage in enumerate(trace.stages):
        times, positions = starts.setdefault(stage.name, ([], []))
        times.append(stage.start)
        positions.append(position)
    single = {name: groups[positions[0]] for name, (_, positions) in starts.items()
              if len(positions) == 1}
    for span in spans:
        if span.stage is None:
            continue
        group = single.get(span.stage)
        if group is not None:  # the common case: a stage that occurs once
            group.append(span)
            continue
        entry = starts.get(span.stage)
        if entry is None:
            continue
        times, positions = entry
        at = bisect.bisect_right(times, span.start) - 1
        groups[positions[max(at, 0)]].append(span)
    return groups


@dataclass(frozen=True, slots=True)
class FunctionCost:
    name: str
    file: str | None
    self_ns: int
    calls: int
    spans: tuple[Span, ...]


def costliest(spans: Iterable[Span], limit: int) -> list[FunctionCost]:
    """Functions by self time summed over `spans`, the costliest first.

    Clipped spans (serve_forever, worker_thread_callback) are left out: their self time
    is mostly the thread waiting outside the request, not work done for it.
    """
    by_key: dict[tuple[str, str | None, int | None], list[Span]] = {}
    for span in spans:
        if span.kind == "stage" or span.clipped:
            continue
        key = (span.name, span.file, span.line)
        group = by_key.get(key)
        if group is None:
            by_key[key] = [span]
        else:
            group.append(span)
    costs = [
        FunctionCost(key[0], key[1], sum(s.self_ns for s in group),
                     sum(s.calls for s in group), tuple(group))
        for key, group in by_key.items()
    ]
    costs.sort(key=lambda c: (-c.self_ns, c.spans[0].start))
    return costs[:limit]


def stage_at(stages: Sequence[Stage], time_ns: int) -> Stage | None:
    """The stage occurrence running at `time_ns` (stages are contiguous, in time order)."""
    at = bisect.bisect_right([stage.start for stage in stages], time_ns) - 1
    return stages[at] if at >= 0 else None


@dataclass(frozen=True)
class Filters:
    stages: tuple[str, ...] = ()
    threads: tuple[str, ...] = ()
    max_depth: int | None = None
    min_ns: int | None = None


def apply_filters(trace: Trace, filters: Filters) -> Trace:
    """Thread, stage, depth then time: each narrows what the next one looks at."""
    if filters.threads:
        trace = keep_threads(trace, resolve_threads(trace, filters.threads))
    if filters.stages:
        trace = keep_stages(trace, filters.stages)
    if filters.max_depth is not None:
        trace = limit_depth(trace, filters.max_depth)
    if filters.min_ns:
        trace = drop_shorter(trace, filters.min_ns)
    return trace
