<%!
    # Markdown headings start with "#", which Mako would read as comments at the start
    # of a line: they are written through expressions instead.
    H1, H2, H3, H4 = "#", "##", "###", "####"
%>\
<%def name="steps_block(steps)">\
% for step in steps:
**${step.number}. ${step.stage}**${" (again)" if step.again else ""} · ${ms(step.duration_ns)} ms · ${share(step.share)} · ${step.thread}

% if step.note:
${step.note}

% endif
% if step.context:
Already running: ${" → ".join(code(name) for name, _where in step.context)} (${code(step.context[-1][1])}).

% endif
% if step.calls:
${tree(step.calls)}

% endif
% if step.hidden:
(${step.hidden} more calls in this step are in the trace and the diagrams.)

% endif
% if step.crossings and step.stage != "unwind":
| layer | `__call__` | time in | environ |
|---|---|---:|---|
% for x in step.crossings:
| ${cell(x.name)}${f" #{x.visit + 1}" if x.visit else ""} | ${tcode(x.where)} | ${ms(x.time_ns)} ms | ${"<br>".join(tcode(key) + " " + cell(what) for key, what in x.environ) or "—"} |
% endfor

% elif step.crossings:
| layer | `__call__` | time out | on the way out |
|---|---|---:|---|
% for x in step.crossings:
| ${cell(x.name)}${f" #{x.visit + 1}" if x.visit else ""} | ${tcode(x.where)} | ${ms(x.time_ns)} ms | ${"<br>".join(cell(note) for note in x.response) or "—"} |
% endfor

% endif
% endfor
</%def>\
<%def name="loaded_block(loaded)">\
- Section ${code("[" + loaded["section"] + "]")}, ${code("use = " + loaded["use"])}
- Entry point group (protocol): ${code(loaded["protocol"])}
- Entry point: ${code(loaded["entry_point"] or "(none: not an egg: URI)")}
- Object: ${code(loaded["object"])}
</%def>\
${H1} Pylons Execution Analysis, from a live run

This document shows how the application is started and how it answers a request, from
the command line to the last byte of the response, the way the classic hand-written
*Pylons Execution Analysis* pages did. Those pages went stale with every release; this
one was written by pylon-trace ${version} from a live run: it started the server in
this process on a loopback port, sent real HTTP requests, and took every fact below
from the traces and from the objects that ran — names, files, line numbers, versions
and times.

- Command: ${code(command)}
- Generated: ${generated}, Python ${python}

Abbreviations:

% for name, meaning in abbreviations:
- ${code(name)}: ${meaning}
% endfor

Times are measured while every call is traced, which slows Python code down several
times over: compare them with each other, not with an untraced server. A step's time is
the stage's; a call's time is its whole duration, which may run on into later steps.

${H2} The sample application

The application is the package ${code(app_package)}, configured by ${code(config_file)}.

${H3} Routes

Read from the application's Routes map (`config['routes.map']`), in matching order:

| name | path | controller | action | condition |
|---|---|---|---|---|
% for route in routes:
| ${cell(route.name) or "—"} | ${tcode(route.path)} | ${cell(route.controller)} | ${cell(route.action)} | ${cell(route.extra) or "—"} |
% endfor

${H3} Controllers

% for controller in controllers:
${code(controller.name)}, as found in ${code(controller.where)}:

${fence(controller.source)}python
${controller.source}
${fence(controller.source)}

% endfor
% if not controllers:
None of the described requests reached a controller action.

% endif
${H2} Dependencies

The installed distributions whose code ran during startup and the described requests,
with the versions importlib.metadata reports:

| distribution | version | modules that ran |
|---|---|---|
% for dist in dependencies:
| ${cell(dist.name)} | ${cell(dist.version)} | ${", ".join(tcode(m) for m in dist.modules)} |
% endfor

Python ${python}. Code under `$APP` belongs to no installed distribution; the packages
of it that ran are ${", ".join(code(p) for p in app_packages) or "none"} (pylon-trace's
own are left out).

${H2} The analysis

${H3} Startup

The ${code(command.split()[0] if command else "pylon-trace")} program is a console script:

```text
${entry_point}
```

% if start_call:
It parses the command line, starts a tracing session and calls ${code(start_call[0])}
(${code(start_call[1])}), which does what PasteScript's `paster serve` did in
`ServeCommand.command()`: load the server, load the application, create the server and
its threads. That took ${ms(start_call[2])} ms, in these stages:
% endif

| stage | time | share |
|---|---:|---:|
% for step in startup_steps:
| ${step.stage} | ${ms(step.duration_ns)} ms | ${share(step.share)} |
% endfor

${steps_block(startup_steps)}
${H3} Loading the server and the application (PasteDeploy)

Both come from the config file. Each section's `use =` line names an entry point; the
other lines are options for the object it names:

```ini
% for loaded in (server, app):
[${loaded["section"]}]
use = ${loaded["use"]}
% for key, value in loaded["options"].items():
${key} = ${value}
% endfor

% endfor
```

${H4} Server loading

${loaded_block(server)}
${H4} Application loading

${loaded_block(app)}
${H3} Instantiating the application

${H4} make_app

% if factory:
The application factory the entry point named, ${code(factory.name)}, as found in
${code(factory.where)}. PasteDeploy called it with the `[DEFAULT]` section as
`global_conf` and the `[app:main]` options as keyword arguments:

${fence(factory.source)}python
${factory.source}
${fence(factory.source)}
% endif

${H4} load_environment and the config

% if environment:
${code(environment.name)}, as found in ${code(environment.where)}:

${fence(environment.source)}python
${environment.source}
${fence(environment.source)}
% endif

The config it built has these keys (values are left out: they hold local paths and the
session secret):

| key | type | set by |
|---|---|---|
% for key in config_keys:
| ${tcode(key.key)} | ${cell(key.type)} | ${cell(key.origin)} |
% endfor

${H4} PylonsApp

% if inner_app:
The innermost application is ${code(inner_app.name)} (${code(inner_app.where)}).
make_app created it with the config, then wrapped it in middleware.
% endif

${H4} Middleware

make_app wrapped the application in these layers. A request meets them in this order,
outermost first (the service and what breaks without it are notes from the classic
analysis):

| # | layer | class | defined in | service | if disabled |
|---:|---|---|---|---|---|
% for row in middleware:
| ${loop.index + 1} | ${cell(row.name)} | ${tcode(row.type)} | ${tcode(row.where)} | ${cell(row.service)} | ${cell(row.if_disabled)} |
% endfor

% for section in requests:
${H3} Anatomy of a request: ${code(section.title)}

Routing: ${cell(section.route)}. Answer: ${section.fetched.status_line}, ${ms(section.trace.duration)} ms from the accept to the worker's return.

${H4} The request and the response

The request as the server read it from the socket:

<% request_text = "\n".join(section.request_lines) %>\
${fence(request_text)}http
${request_text}
${fence(request_text)}

The response as it went back:

<% response_text = "\n".join(section.response_lines) + "\n\n" + section.body %>\
${fence(response_text)}http
${response_text}
${fence(response_text)}

${H4} The server

The server object is a ${code(server_chain[-1].name if server_chain else "?")}. Its
classes, from its MRO, base first:

| class | defined at | its docstring says |
|---|---|---|
% for row in server_chain:
| ${tcode(row.name)} | ${tcode(row.where)} | ${cell(row.summary) or "—"} |
% endfor

${H4} The processing sequence

One step per stage, in time order (a stage met twice is listed twice):

| # | stage | thread | time | share |
|---:|---|---|---:|---:|
% for step in section.steps:
| ${step.number} | ${step.stage} | ${step.thread} | ${ms(step.duration_ns)} ms | ${share(step.share)} |
% endfor

${steps_block(section.steps)}
${H4} Timeline

The same trace as `pylon-trace report` draws it:

<!-- timeline:start -->
${fence(section.timeline)}text
${section.timeline.rstrip()}
${fence(section.timeline)}
<!-- timeline:end -->

${H4} Diagrams

% if section.diagrams:
- Timeline as text: [${section.diagram("timeline").name}](${section.diagram("timeline").name})
- Call diagram: [${section.diagram("calls").name}](${section.diagram("calls").name})
- Sequence diagram: [${section.diagram("sequence").name}](${section.diagram("sequence").name})

![Call diagram of ${section.title}](${section.diagram("calls").name})

![Sequence diagram of ${section.title}](${section.diagram("sequence").name})
% else:
Not written with this document. Without `--no-diagrams`, the walkthrough command writes
`${section.slug}-timeline.txt`, `${section.slug}-calls.svg` and
`${section.slug}-sequence.svg` beside it; `pylon-trace report TRACE -f svg` and
`-f sequence -o OUT.svg` draw them from any saved trace.
% endif

% endfor
${H2} How this document was made

The requests sent in this run, in order, each on its own connection
(`Connection: close`):

| # | request | status | note |
|---:|---|---|---|
% for fetched in run_log:
| ${loop.index + 1} | ${tcode("GET " + fetched.path)} | ${cell(fetched.status_line)} | ${cell(fetched.note) or "—"} |
% endfor

Regenerate it with ${code(regenerate)}.
