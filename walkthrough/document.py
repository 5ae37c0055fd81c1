"""Turning a live run into the walkthrough: collect the facts, render the Mako templates,
write walkthrough.md (and walkthrough.html) with the diagrams beside them."""

from __future__ import annotations

import datetime
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from mako.lookup import TemplateLookup
from markdown_it import MarkdownIt

from pylon_trace import __version__
from reports.fmt import ms, safe
from reports.model import Trace, build_trace
from reports.names import short_name
from tracer.trace_format import load_trace
from walkthrough import facts as F
from walkthrough.diagrams import Written, inline_svg, slug_for, timeline_text, write_diagrams
from walkthrough.live import Fetched, LiveRun
from walkthrough.paths import ABBREVIATIONS, PathStyle, app_root_for
from walkthrough.steps import TOOL_PACKAGES, Call, Outline, Step, build_steps, where

BODY_EXCERPT = 400
_SECRET_KEY = re.compile(r"secret|password|passwd|token", re.I)


@dataclass
class RequestSection:
    fetched: Fetched
    slug: str
    trace: Trace
    request_lines: list[str]
    response_lines: list[str]
    body: str
    steps: list[Step]
    timeline: str
    controller: F.SourceFact | None
    route: str
    diagrams: list[Written] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.trace.request.method if self.trace.request else 'GET'} {self.fetched.path}"

    def diagram(self, kind: str) -> Written | None:
        return next((d for d in self.diagrams if d.kind == kind), None)


@dataclass(frozen=True)
class Options:
    out_dir: str
    diagrams: bool = True
    diagram_dir: str = "."     # relative to out_dir
    html: bool = False
    command: str = ""          # how the run was started, as the reader would type it
    regenerate: str = ""       # the command that writes this document again


def write_walkthrough(run: LiveRun, described: list[Fetched], options: Options) -> list[str]:
    """Write the documents (and diagrams); return every path written."""
    context = collect(run, described, options)
    written: list[str] = []
    if options.diagrams:
        directory = os.path.normpath(os.path.join(options.out_dir, options.diagram_dir))
        for section in context["requests"]:
            section.diagrams = write_diagrams(section.trace, section.slug, directory,
                                              options.out_dir)
            written += [d.path for d in section.diagrams]
    markdown = render_markdown(context)
    md_path = os.path.join(options.out_dir, "walkthrough.md")
    _write_text(md_path, markdown)
    written.append(md_path)
    if options.html:
        html_path = os.path.join(options.out_dir, "walkthrough.html")
        _write_text(html_path, render_html(markdown, context, options.out_dir))
        written.append(html_path)
    return written


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def collect(run: LiveRun, described: list[Fetched], options: Options) -> dict[str, Any]:
    facts = run.facts
    factory = facts.get("app_factory", "")
    app_package = factory.split(".", 1)[0]
    style = PathStyle(app_root_for(factory) if factory else os.getcwd())
    startup_doc = load_trace(run.startup_path())
    startup = build_trace(startup_doc)
    app = run.application()
    config = getattr(app, "config", None) or {}
    mapper = config.get("routes.map")

    environment = next((s.name for s in startup.walk() if s.name.endswith(".load_environment")),
                       "")
    environment_source = F.source_of(environment, style) if environment else None
    factory_name = factory.rsplit(".", 1)[-1]
    startup_steps = build_steps(Outline(startup, style, app_package, (factory_name,)))

    taken: set[str] = set()
    sections = [_section(f, slug_for(f.path, taken), style, app_package, mapper)
                for f in described]
    files = [s.file for s in startup.walk() if s.file]
    for section in sections:
        files += [s.file for s in section.trace.walk() if s.file]
    layer_types = {layer.name: layer.type for section in sections
                   for layer in section.trace.layers}
    controllers = []
    for section in sections:
        if section.controller and section.controller.name not in [c.name for c in controllers]:
            controllers.append(section.controller)

    return {
        "version": __version__,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": facts.get("python", sys.version.split()[0]),
        "command": options.command,
        "regenerate": options.regenerate or options.command,
        "entry_point": F.console_entry_point(),
        "abbreviations": ABBREVIATIONS,
        "app_package": app_package,
        "config_file": style.short(facts.get("config_file")),
        "routes": F.routes(mapper) if mapper is not None else [],
        "controllers": controllers,
        "dependencies": F.dependencies(files, style),
        "server": _loaded(facts.get("server", {}), style),
        "app": _loaded(facts.get("app", {}), style),
        "factory": F.source_of(factory, style) if factory else None,
        "environment": environment_source,
        "config_keys": F.config_keys(config, environment_source.source
                                     if environment_source else ""),
        "middleware": F.middleware_rows(list(facts.get("middleware", [])), layer_types, style),
        "server_chain": F.class_chain(list(facts.get("server_class", [])), style),
        "startup": startup,
        "startup_steps": startup_steps,
        "requests": sections,
        "run_log": run.fetched,
        "options": options,
        "app_packages": _app_packages(files, style),
        "inner_app": _inner_app(sections, style),
        "start_call": _start_call(startup, style),
        "ms": ms,
        "code": code,
        "tree": tree,
        "cell": cell,
        "tcode": tcode,
        "fence": fence,
        "share": lambda part: f"{100.0 * part:.1f}%",
    }


def _section(fetched: Fetched, slug: str, style: PathStyle, app_package: str,
             mapper: Any) -> RequestSection:
    trace = build_trace(fetched.doc)
    request = fetched.doc.get("request") or {}
    response = fetched.doc.get("response") or {}
    target = request.get("path", fetched.path) + (f"?{request['query']}"
                                                   if request.get("query") else "")
    request_lines = [f"{request.get('method', 'GET')} {target} {request.get('http_version', '')}"]
    request_lines += [f"{name}: {value}" for name, value in request.get("headers", [])]
    response_lines = [f"{fetched.version} {response.get('status', fetched.status_line)}"]
    response_lines += [f"{name}: {value}" for name, value in response.get("headers", [])]
    match = _match(mapper, fetched.path)
    controller = _controller(trace, match, style, app_package)
    route = ", ".join(f"{k}={v}" for k, v in sorted(match.items())) if match else \
        "no route matched"
    return RequestSection(
        fetched=fetched,
        slug=slug,
        trace=trace,
        request_lines=[safe(line) for line in request_lines],
        response_lines=[safe(line) for line in response_lines],
        body=_excerpt(fetched.body),
        steps=build_steps(Outline(trace, style, app_package)),
        timeline=timeline_text(trace),
        controller=controller,
        route=route,
    )


def _match(mapper: Any, path: str) -> dict[str, Any]:
    if mapper is None:
        return {}
    try:
        found = mapper.match(path.split("?", 1)[0])
    except Exception:  # a Routes version with other match() rules: just no route shown
        return {}
    return dict(found) if found else {}


def _controller(trace: Trace, match: dict[str, Any], style: PathStyle,
                app_package: str) -> F.SourceFact | None:
    """The class whose action ran, found as the call of the routed action in the trace."""
    action = match.get("action")
    if not action:
        return None
    for span in trace.walk():
        if span.stage == "controller" and span.name.startswith(app_package + ".") \
                and span.name.endswith("." + str(action)):
            return F.source_of(span.name.rsplit(".", 1)[0], style)
    return None


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    if len(text) > BODY_EXCERPT:
        text = text[:BODY_EXCERPT] + f"… ({len(body)} bytes in all)"
    return "\n".join(safe(line) for line in text.splitlines())


def _loaded(facts: dict[str, Any], style: PathStyle) -> dict[str, Any]:
    options = {}
    for key, value in (facts.get("options") or {}).items():
        text = str(value)
        if _SECRET_KEY.search(key):
            text = "[redacted]"
        elif os.path.isabs(text):
            text = style.short(text)
        options[key] = text
    return {**facts, "options": options}


def _app_packages(files: list[str], style: PathStyle) -> list[str]:
    """The top-level packages under $APP whose code ran."""
    found = set()
    for file in set(files):
        short = style.short(file)
        if short.startswith("$APP/") and short.count("/") >= 2:
            found.add(short.split("/")[1])
    return sorted(found - {p.rstrip(".") for p in TOOL_PACKAGES})


def _inner_app(sections: list[RequestSection], style: PathStyle) -> F.SourceFact | None:
    """The innermost application of the main chain, as the traces name it (role app)."""
    for section in sections:
        for layer in section.fetched.doc.get("layers", []):
            if layer.get("role") == "app" and isinstance(layer.get("type"), str):
                return F.source_of(layer["type"], style)
    return None


def _start_call(startup: Trace, style: PathStyle) -> tuple[str, str, int] | None:
    """The outermost traced call of startup: where the command handed over to the server."""
    for span in startup.roots:
        if span.kind == "call":
            return short_name(span.name, span.file), where(style, span), span.total
    return None


def tree(calls: list[Call], indent: int = 0) -> str:
    """A step's calls as a nested Markdown list."""
    lines = []
    for call in calls:
        times = f" ×{call.count}" if call.count > 1 else ""
        lines.append(f"{'  ' * indent}- {code(call.name)}{times} — {code(call.where)} — "
                     f"{ms(call.total_ns)} ms")
        if call.children:
            lines.append(tree(call.children, indent + 1))
    return "\n".join(lines)


def code(text: object) -> str:
    """Inline code that survives backticks inside the text."""
    value = safe(text)
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def tcode(text: object) -> str:
    """Inline code inside a table cell, where a bare | would end the cell."""
    return code(text).replace("|", "\\|")


def cell(text: object) -> str:
    """Text for a Markdown table cell: no raw HTML gets through, no column break."""
    value = safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("|", "\\|")


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in the text it encloses."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _lookup() -> TemplateLookup:
    directory = str(resources.files("walkthrough"))
    return TemplateLookup(directories=[directory], input_encoding="utf-8",
                          strict_undefined=True)


def render_markdown(context: dict[str, Any]) -> str:
    text = _lookup().get_template("walkthrough.md.mako").render(**context)
    # Templates leave blank lines where control lines were; keep at most one.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(markdown: str, context: dict[str, Any], out_dir: str) -> str:
    # Raw HTML is let through for the <br> in table cells: everything that came from the
    # request or the code is in code spans and fences, or entity-escaped by cell().
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)

    def inline(match: re.Match[str]) -> str:
        path = os.path.join(out_dir, match.group(1))
        if not os.path.isfile(path):
            return match.group(0)
        with open(path, "rb") as handle:
            return f'<figure class="diagram">{inline_svg(handle.read())}</figure>'

    body = re.sub(r'(?:<p>)?<img src="([^"]+\.svg)" alt="[^"]*" */?>(?:</p>)?', inline, body)
    return _lookup().get_template("walkthrough.html.mako").render(body=body, **context)
