"""Rendering a saved trace: processors over the span tree, one renderer per module.

`model.build_trace` turns a validated `pylon-trace/1` document into a `Trace` (span
tree plus metadata) once; `processors` are pure functions from `Trace` to `Trace`;
each `render_*` module turns a `Trace` into one output format. `report_command` is the
`pylon-trace report` subcommand that wires them together.
"""
