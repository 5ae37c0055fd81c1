"""The lines above and below every console report: what was traced, threads, warnings."""

from __future__ import annotations

from rich.text import Text

from reports.fmt import count, ms, safe
from reports.model import Trace
from reports.style import thread_color


def status_style(trace: Trace) -> str:
    code = trace.response.status_code if trace.response is not None else None
    if code is None:
        return "bold"
    if code >= 500:
        return "bold red"
    if code >= 400:
        return "bold yellow"
    return "bold green"


def header(trace: Trace, width: int) -> list[Text]:
    title = Text()
    if trace.request is not None:
        target = trace.request.path
        if trace.request.query:
            target += "?" + trace.request.query
        title.append(safe(trace.request.method, 16) + " ", style="bold")
        title.append(safe(target, max(width - 40, 20)), style="bold")
        if trace.response is not None:
            title.append(" → ")
            title.append(safe(trace.response.status, 40), style=status_style(trace))
    else:
        title.append(safe(trace.title, width), style="bold")
    title.append(f"  {ms(trace.duration)} ms")

    meta = Text(style="dim")
    meta.append(f"trace {safe(trace.trace_id, 60)}")
    if trace.started_at:
        meta.append(f" · {safe(trace.started_at, 40)}")
    meta.append(f" · {count(trace.span_count)} spans")
    # How it was recorded: from the socket accept (server) or the app call
    # (middleware), and which call recorder ran.
    how = "/".join(safe(part, 12) for part in (trace.source, trace.recorder) if part)
    if how:
        meta.append(f" · {how}")

    threads = Text("threads: ")
    for i, thread in enumerate(trace.threads):
        if i:
            threads.append("  →  ")
        threads.append(safe(thread.id, 10) + " ", style="dim")
        threads.append(safe(thread.label, 40), style=thread_color(i))
    lines = [title, meta, threads]
    lines.extend(warnings(trace))
    return lines


def warnings(trace: Trace) -> list[Text]:
    lines = []
    if trace.truncated:
        lines.append(Text("! truncated: the event cap was hit, the call tree is incomplete",
                          style="bold yellow"))
    if trace.filters:
        note = "filtered: " + "; ".join(trace.filters)
        if trace.hidden_spans:
            note += f" ({count(trace.hidden_spans)} spans not shown)"
        lines.append(Text(note, style="yellow"))
    return lines


def exceptions(trace: Trace, width: int) -> list[Text]:
    lines = []
    for exc in trace.exceptions:
        line = Text("✗ ", style="bold red")
        line.append(safe(exc.type, 60) + ": ", style="bold red")
        line.append(safe(exc.message, max(width, 40)))
        where = []
        if exc.raised_in:
            where.append("raised in " + safe(exc.raised_in, 120))
        if exc.through:
            where.append("through " + ", ".join(safe(t, 60) for t in exc.through))
        if exc.handled_by:
            where.append("handled by " + safe(exc.handled_by, 60))
        if where:
            line.append("\n  " + "; ".join(where), style="dim")
        lines.append(line)
    return lines
