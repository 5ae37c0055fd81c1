"""`pylon-trace` command line: one subcommand per module.

Each subcommand module provides ``add_arguments(parser)`` and ``run(args) -> int``.
Bad input is raised as :class:`CliError` and shown as one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pylon_trace import __version__
from pylon_trace.errors import CliError

# name -> (module, one-line help). Keep in the order a newcomer meets them.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "create": ("scaffold.create_command", "create a new project in the Pylons 1.0 layout"),
    "controller": ("scaffold.controller_command", "add a controller to the current project"),
    "serve": ("pylon_trace.serve_command", "serve a PasteDeploy app on Paste's server, tracing"),
    "report": ("reports.report_command", "render a saved trace: timeline, tree, diagrams, exports"),
    "diff": ("pylon_trace.diff_command", "compare two request traces: stages, layers, calls"),
    "walkthrough": ("walkthrough.command",
                    "write the execution analysis of an app from a live, traced run"),
    "demo": ("pylon_trace.demo_command",
             "serve the sample app traced, request every path, report on all of it"),
}


DESCRIPTION = ("See how a request travels through a WSGI stack: serve a PasteDeploy app "
               "traced, then render its traces.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: same one-line form
        raise CliError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pylon-trace", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"pylon-trace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args._module.run(args) or 0)
    except CliError as exc:
        print(f"pylon-trace: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
