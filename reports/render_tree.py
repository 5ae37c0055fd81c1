"""`tree`: the call tree per thread, costliest subtrees first in line for a place.

Each node shows total and self time and its stage. The tree is cut to a node budget
(`--max-nodes`, default 150) and a threshold (`--min-ms`, default 0.5% of the trace):
what is cut is folded into one "… N more calls" line under the parent that stays. The
hottest path (from the costliest root, always the costliest child) is kept and marked.
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from reports.console import render_text
from reports.fmt import count, ms, safe
from reports.model import Span, Thread, Trace
from reports.names import short_name
from reports.options import RenderOptions
from reports.processors import collapse, hot_path
from reports.style import stage_color, thread_color
from reports.summary import exceptions, header

DEFAULT_MAX_NODES = 150
# Without --min-ms, subtrees under this share of the trace are folded away.
DEFAULT_MIN_SHARE = 0.005
HOT = "▶ "


class CompactTree(Tree):
    """A rich Tree indented two columns per level instead of four.

    A request through the Paste/Pylons stack is thirty calls deep; at four columns a
    level the controller's calls would start past column 100.
    """

    ASCII_GUIDES = ("  ", "| ", "+-", "`-")
    TREE_GUIDES = [
        ("  ", "│ ", "├╴", "└╴"),
        ("  ", "┃ ", "┣╸", "┗╸"),
        ("  ", "║ ", "╠═", "╚═"),
    ]


def _label(span: Span, hot: bool, trace: Trace, width: int) -> Text:
    text = Text(no_wrap=False)
    if hot:
        text.append(HOT, style="bold red")
    name_style = "bold red" if hot else ("italic" if span.kind == "stage" else "")
    if span.kind == "layer":
        name_style += " bold"
    # Short names keep thirty levels readable; `dot` and the exports have full names.
    name = span.name if span.kind == "stage" else short_name(span.name, span.file)
    text.append(safe(name, max(width - 20, 30)), style=name_style.strip())
    text.append(f"  {ms(span.total)} ms", style="bold" if hot else "")
    text.append(f" · self {ms(span.self_ns)}", style="dim")
    if span.calls > 1:
        text.append(f" · ×{span.calls}", style="dim")
    # The stage is named where it changes, which is where the request moves on.
    parent_stage = span.parent.stage if span.parent is not None else None
    if span.stage and span.stage != parent_stage:
        text.append(f"  [{safe(span.stage, 30)}]", style=stage_color(span.stage))
    if span.clipped:
        text.append("  (clipped to the window)", style="dim")
    if span.exception is not None and 0 <= span.exception < len(trace.exceptions):
        exc = trace.exceptions[span.exception]
        text.append(f"  ✗ {safe(exc.type, 40)}", style="bold red")
    return text


def _hidden_label(span: Span) -> Text:
    calls = "call" if span.hidden_spans == 1 else "calls"
    return Text(f"… {count(span.hidden_spans)} more {calls} ({ms(span.hidden_ns)} ms)",
                style="dim")


def render(trace: Trace, options: RenderOptions) -> str:
    width = options.width
    max_nodes = options.max_nodes or DEFAULT_MAX_NODES
    min_ns = options.min_ns or int(trace.duration * DEFAULT_MIN_SHARE)

    hot: list[Span] = []
    for thread in trace.threads:
        hot.extend(hot_path([r for r in trace.roots if r.thread == thread.id]))
    shown = collapse(trace, max_nodes, min_ns, always=hot)
    hot_ids = {span.id for span in hot}

    root = CompactTree(Text(safe(trace.title, width), style="bold"), guide_style="dim")
    threads = list(trace.threads)
    known = {thread.id for thread in threads}
    for span in shown.roots:  # a document without a threads list still has a tree
        if span.thread not in known:
            known.add(span.thread)
            threads.append(Thread(span.thread, span.thread, ""))
    for index, thread in enumerate(threads):
        roots = [span for span in shown.roots if span.thread == thread.id]
        kept_roots = {span.id for span in roots}
        folded = [span for span in trace.roots
                  if span.thread == thread.id and span.id not in kept_roots]
        if not roots:
            continue
        branch = root.add(Text(f"{safe(thread.id, 10)} {safe(thread.label, 60)}",
                               style=f"bold {thread_color(index)}"), guide_style="dim")
        # (span, node to add it under, entering?) - on leaving, the span's "… more" line
        # goes under its own node, after its children.
        stack: list[tuple[Span, Tree, bool]] = [(span, branch, True) for span in reversed(roots)]
        while stack:
            span, parent_node, entering = stack.pop()
            if not entering:
                parent_node.add(_hidden_label(span))
                continue
            node = parent_node.add(_label(span, span.id in hot_ids, trace, width))
            if span.hidden_spans:
                stack.append((span, node, False))
            stack.extend((child, node, True) for child in reversed(span.children))
        if folded:
            calls = sum(span.size for span in folded)
            branch.add(Text(f"… {count(calls)} more call{'s' if calls != 1 else ''} "
                            f"({ms(sum(span.total for span in folded))} ms) in "
                            f"{count(len(folded))} other outermost span"
                            f"{'s' if len(folded) != 1 else ''}", style="dim"))

    # The header counts the spans of the (filtered) trace, not only those shown.
    parts: list[Text | Tree] = [*header(trace, width), Text("")]
    if shown.roots:
        parts.append(root)
    else:
        parts.append(Text("no spans to show", style="yellow"))
    legend = Text(f"{HOT}hottest path · ms: total · self · [stage where it changes] · ",
                  style="dim")
    legend.append(f"{count(shown.span_count)} of {count(trace.span_count)} spans shown "
                  f"(at most {max_nodes}; subtrees under {ms(min_ns)} ms folded)", style="dim")
    parts.extend([Text(""), legend])
    footer = exceptions(trace, width)
    if footer:
        parts.extend([Text(""), *footer])
    return render_text(parts, width, options.color)
