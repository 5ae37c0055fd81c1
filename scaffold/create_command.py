"""`pylon-trace create NAME`: a new Pylons 1.0-layout project, as `paster create -t pylons`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME",
                        help="project (distribution) name, e.g. Analysis; the package is "
                             "its lower-cased form, e.g. analysis")
    parser.add_argument("--output-dir", default=".", metavar="DIR",
                        help="directory to create the project in (default: the current one)")


def run(args: argparse.Namespace) -> int:
    # Imported here: the generators load the framework, which building the parser
    # for every other subcommand should not pay for.
    from scaffold.project import create_project

    created = create_project(args.name, Path(args.output_dir))
    names = created.names
    print(f"created project {names.project} (package {names.package}) in {created.root}")
    for path in created.files:
        print(f"  {path.relative_to(created.root)}")
    print("next:")
    print(f"  cd {_shown(created.root)}")
    print("  pylon-trace controller main")
    print("  pip install -e '.[test]'   # or, without installing: export PYTHONPATH=$PWD")
    print("  pylon-trace serve development.ini")
    return 0


def _shown(path: Path) -> str:
    # The shortest path that works from where the user is.
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path.resolve())
