"""`dot` (and `svg`, `png`): the call diagram, one node per function.

Nodes show module, qualified name, calls, total and self time, filled darker the more
self time they hold, and sit in a cluster for the stage where most of their self time
went. Edges are calls with counts and time; a dashed edge skips functions that were
pruned. Only the `--max-nodes` costliest functions (default 60) at or above `--min-ms`
are drawn, so a 10,000-span trace stays legible; the graph's label says what was left
out.
"""

from __future__ import annotations

import math

import graphviz

from reports.callgraph import CallGraph, FuncNode, call_graph
from reports.dot_util import FONT, label, left_label, text
from reports.fmt import count, ms
from reports.model import Trace
from reports.options import RenderOptions
from reports.style import stage_color

DEFAULT_MAX_NODES = 60
# ColorBrewer "Reds": the darker, the more self time.
HEAT = ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d",
        "#a50f15", "#67000d")
CLIPPED_FILL = "#eeeeee"


def _fill(node: FuncNode, hottest: int) -> tuple[str, str]:
    """Fill and font colour; the square root spreads the small shares over the scale."""
    if hottest <= 0:
        return HEAT[0], "black"
    level = min(int(math.sqrt(node.self_ns / hottest) * (len(HEAT) - 1) + 0.5), len(HEAT) - 1)
    return HEAT[level], "white" if level >= 6 else "black"


def _node_label(node: FuncNode) -> str:
    module = node.module
    lines = [text(node.qualname, 90)]
    if module:
        lines.append(text(module, 90))
    calls = f"{count(node.calls)} call" + ("s" if node.calls != 1 else "")
    lines.append(f"{calls} · {ms(node.total_ns)} ms · self {ms(node.self_ns)} ms")
    if node.clipped:
        lines.append("clipped to the window")
    return label(*lines)


def _graph_label(trace: Trace, graph: CallGraph, max_nodes: int) -> str:
    lines = [text(trace.title, 160) + f"  ({ms(trace.duration)} ms)",
             f"trace {text(trace.trace_id, 60)}: {count(graph.total_functions)} functions, "
             f"{count(trace.span_count)} spans"]
    if graph.pruned_functions:
        lines.append(
            f"pruned: {count(graph.pruned_functions)} functions "
            f"({count(graph.pruned_calls)} calls, {ms(graph.pruned_self_ns)} ms self) "
            + " and ".join(graph.reasons))
    if graph.pruned_edges:
        lines.append(f"not drawn: the {count(graph.pruned_edges)} lightest call edges between "
                     "drawn functions")
    for note in trace.filters:
        lines.append("filtered: " + text(note, 120))
    if trace.truncated:
        lines.append("truncated: the event cap was hit, the call tree is incomplete")
    lines.append("fill: self time · edge: calls × count, time · dashed: through pruned calls")
    return left_label(*lines)


def build(trace: Trace, options: RenderOptions) -> graphviz.Digraph:
    max_nodes = options.max_nodes or DEFAULT_MAX_NODES
    graph = call_graph(trace, max_nodes, options.min_ns)
    dot = graphviz.Digraph("calls")
    dot.attr("graph", label=_graph_label(trace, graph, max_nodes), labelloc="t",
             labeljust="l", fontname=FONT, fontsize="12", rankdir="TB", nodesep="0.25",
             ranksep="0.4")
    dot.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="10")
    dot.attr("edge", fontname=FONT, fontsize="9", color="#555555")

    hottest = max((n.self_ns for n in graph.nodes if not n.clipped), default=0)
    ids = {node.key: f"f{node.order}" for node in graph.nodes}
    stage_order = list(dict.fromkeys(stage.name for stage in trace.stages))
    by_stage: dict[str, list[FuncNode]] = {}
    for node in graph.nodes:
        by_stage.setdefault(node.stage, []).append(node)
    ordered = [s for s in stage_order if s in by_stage]
    ordered += sorted(s for s in by_stage if s not in stage_order)
    for position, stage in enumerate(ordered):
        with dot.subgraph(name=f"cluster_{position}") as cluster:
            cluster.attr(label=label(text(stage or "no stage", 40)), style="rounded,dashed",
                         color=stage_color(stage), fontcolor=stage_color(stage),
                         fontname=FONT, fontsize="11")
            for node in by_stage[stage]:
                fill, font = (CLIPPED_FILL, "black") if node.clipped else _fill(node, hottest)
                style = "rounded,filled,bold" if node.kind == "layer" else "rounded,filled"
                if node.kind == "c_call":
                    style = "filled"
                cluster.node(ids[node.key], label=_node_label(node), fillcolor=fill,
                             fontcolor=font, style=style)

    heaviest = max((edge.total_ns for edge in graph.edges), default=0) or 1
    for edge in graph.edges:
        width = 1.0 + 4.0 * edge.total_ns / heaviest
        edge_label = f"×{count(edge.calls)} · {ms(edge.total_ns)} ms"
        dot.edge(ids[edge.caller], ids[edge.callee], label=label(edge_label),
                 penwidth=f"{width:.2f}", style="solid" if edge.direct else "dashed")
    if not graph.nodes:
        dot.node("empty", label=label("no spans to draw"), shape="plaintext")
    return dot


def render(trace: Trace, options: RenderOptions) -> str:
    return build(trace, options).source
