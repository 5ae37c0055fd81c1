"""`pylon-trace controller NAME`: add a controller to the project around the current
directory (``paster controller NAME``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scaffold.errors import ScaffoldError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME",
                        help="controller name: a lowercase module name such as main or "
                             "user_admin")


def run(args: argparse.Namespace) -> int:
    # Imported here for the same reason as in create_command.
    from scaffold.controller import add_controller, find_project

    try:
        here = Path.cwd()
    except OSError as exc:  # e.g. the directory was deleted under the shell
        raise ScaffoldError(f"cannot read the current directory: {exc.strerror}") from None
    project = find_project(here)
    added = add_controller(project, args.name)
    for path in added.files:
        print(f"created {path.relative_to(project.root)}")
    if added.test_skipped:
        print(f"no test written: {project.package}/tests/__init__.py (TestController) "
              "does not exist in this project")
    routing = f"{project.package}/config/routing.py"
    print(f'To route /{added.module} to it, add after "CUSTOM ROUTES HERE" in {routing}:')
    print(f"    {added.route}")
    print(f"(/{added.module}/index already reaches it through the /{{controller}}/{{action}} "
          "route.)")
    return 0
