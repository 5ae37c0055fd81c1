"""The span tree folded into a call graph: one node per function, one edge per caller.

A function's total time counts only its outermost activation on a stack, so recursion
does not count the same nanoseconds twice; self time and call counts add up over every
call. Pruning keeps the costliest functions and reconnects each kept function to its
nearest kept caller, marking such an edge as indirect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.model import Span, Trace
from reports.names import split_name

FuncKey = tuple[str, str | None, int | None]


@dataclass(slots=True)
class FuncNode:
    key: FuncKey
    order: int  # first appearance, depth first: keeps output stable
    kind: str
    calls: int = 0
    total_ns: int = 0
    self_ns: int = 0
    stage_self: dict[str, int] = field(default_factory=dict)
    threads: set[str] = field(default_factory=set)
    # Any call cut to the window: its self time is mostly waiting outside the request.
    clipped: bool = False

    @property
    def name(self) -> str:
        return self.key[0]

    @property
    def module(self) -> str:
        return split_name(self.key[0], self.key[1])[0]

    @property
    def qualname(self) -> str:
        return split_name(self.key[0], self.key[1])[1]

    @property
    def stage(self) -> str:
        """The stage where this function spent most of its self time."""
        if not self.stage_self:
            return ""
        # dicts keep insertion order, so ties go to the stage met first
        return max(self.stage_self.items(), key=lambda item: item[1])[0]


@dataclass(slots=True)
class Edge:
    caller: FuncKey
    callee: FuncKey
    calls: int = 0
    total_ns: int = 0
    direct: bool = True


@dataclass
class CallGraph:
    nodes: list[FuncNode]
    edges: list[Edge]
    total_functions: int
    pruned_functions: int = 0
    pruned_calls: int = 0
    pruned_self_ns: int = 0
    reasons: tuple[str, ...] = ()
    pruned_edges: int = 0


def aggregate(trace: Trace) -> dict[FuncKey, FuncNode]:
    """Every function of the trace with its calls, total and self time."""
    nodes: dict[FuncKey, FuncNode] = {}
    active: dict[FuncKey, int] = {}  # activations of each function on the current path
    path: list[FuncKey] = []
    # Depth first with the depth in the tree being walked: filters may have re-rooted
    # spans, so a span's recorded depth is not its depth here.
    stack: list[tuple[Span, int]] = [(root, 0) for root in reversed(trace.roots)]
    while stack:
        span, depth = stack.pop()
        while len(path) > depth:
            active[path.pop()] -= 1
        key = (span.name, span.file, span.line)
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = FuncNode(key, len(nodes), span.kind)
        node.calls += span.calls
        node.self_ns += span.self_ns
        stage = span.stage or ""
        node.stage_self[stage] = node.stage_self.get(stage, 0) + span.self_ns
        node.threads.add(span.thread)
        if span.clipped:
            node.clipped = True
        running = active.get(key, 0)
        if running == 0:
            node.total_ns += span.end - span.start
        active[key] = running + 1
        path.append(key)
        if span.children:
            stack.extend([(child, depth + 1) for child in reversed(span.children)])
    return nodes


def _lightest_edges_out(edges: list[Edge], budget: int) -> list[Edge]:
    """Every drawn function keeps its heaviest incoming edge; then the heaviest others.

    Repeated functions called from everywhere can join every pair of drawn functions:
    60 nodes with 1,600 edges take Graphviz minutes to lay out and nobody can read them.
    """
    heaviest: dict[FuncKey, Edge] = {}
    for edge in edges:
        best = heaviest.get(edge.callee)
        if best is None or edge.total_ns > best.total_ns:
            heaviest[edge.callee] = edge
    chosen = {id(edge) for edge in heaviest.values()}
    for edge in sorted(edges, key=lambda e: -e.total_ns):
        if len(chosen) >= budget:
            break
        chosen.add(id(edge))
    return [edge for edge in edges if id(edge) in chosen]


def call_graph(trace: Trace, max_nodes: int, min_ns: int = 0,
               max_edges: int | None = None) -> CallGraph:
    """The call graph pruned to the `max_nodes` costliest functions above `min_ns`.

    Edges are cut to `max_edges` (default twice the node budget), the lightest first.
    """
    nodes = aggregate(trace)
    ranked = sorted(nodes.values(), key=lambda n: (-n.total_ns, n.order))
    eligible = [n for n in ranked if n.total_ns >= min_ns]
    kept_list = eligible[:max_nodes]
    kept = {n.key for n in kept_list}
    reasons = []
    if len(eligible) < len(ranked):
        reasons.append(f"below {min_ns / 1e6:g} ms")
    if len(eligible) > max_nodes:
        reasons.append(f"beyond the {max_nodes} costliest")

    edges: dict[tuple[FuncKey, FuncKey], Edge] = {}
    active: dict[FuncKey, int] = {}
    path: list[FuncKey] = []
    # For each span on the path: the kept function its callees hang from, and whether
    # that function is the span itself (a direct call) or an ancestor above pruned ones.
    anchors: list[tuple[FuncKey | None, bool]] = []
    stack: list[tuple[Span, int]] = [(root, 0) for root in reversed(trace.roots)]
    while stack:
        span, depth = stack.pop()
        while len(path) > depth:
            active[path.pop()] -= 1
            anchors.pop()
        key = (span.name, span.file, span.line)
        anchor, direct = anchors[-1] if anchors else (None, False)
        running = active.get(key, 0)
        if key in kept:
            if anchor is not None:
                edge = edges.get((anchor, key))
                if edge is None:
                    edge = edges[(anchor, key)] = Edge(anchor, key, direct=direct)
                elif direct:
                    edge.direct = True
                edge.calls += span.calls
                if running == 0:
                    edge.total_ns += span.end - span.start
            anchors.append((key, True))
        else:
            anchors.append((anchor, False))
        active[key] = running + 1
        path.append(key)
        if span.children:
            stack.extend([(child, depth + 1) for child in reversed(span.children)])

    pruned = [n for n in nodes.values() if n.key not in kept]
    order = {n.key: n.order for n in nodes.values()}
    all_edges = list(edges.values())
    drawn = _lightest_edges_out(all_edges, 2 * max_nodes if max_edges is None else max_edges)
    return CallGraph(
        nodes=sorted(kept_list, key=lambda n: n.order),
        edges=sorted(drawn, key=lambda e: (order[e.caller], order[e.callee])),
        pruned_edges=len(all_edges) - len(drawn),
        total_functions=len(nodes),
        pruned_functions=len(pruned),
        pruned_calls=sum(n.calls for n in pruned),
        pruned_self_ns=sum(n.self_ns for n in pruned),
        reasons=tuple(reasons),
    )
