"""`create`: write a new project in the Pylons 1.0 layout from templates/project."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from pylon_trace import __version__
from scaffold.errors import ScaffoldError
from scaffold.names import ProjectNames, project_names
from scaffold.render import planned_files, write_files

PROJECT_VERSION = "0.1.0"


@dataclass(frozen=True)
class CreatedProject:
    names: ProjectNames
    root: Path
    files: list[Path]


def project_variables(names: ProjectNames) -> dict[str, str]:
    """The placeholder values of the project templates."""
    return {
        "project": names.project,
        "package": names.package,
        "egg_info": f"{names.egg_info}.egg-info",
        "logger": names.logger,
        "version": PROJECT_VERSION,
        "framework_requirement": f"pylon-trace>={__version__}",
        # Beaker signs session cookies with this; each project gets its own.
        "session_secret": secrets.token_hex(16),
    }


def create_project(name: str, output_dir: Path) -> CreatedProject:
    """Create ``output_dir/name``; refuses to touch a directory that already exists."""
    names = project_names(name)
    if not output_dir.is_dir():
        problem = "not a directory" if output_dir.exists() else "no such directory"
        raise ScaffoldError(f"{output_dir}: {problem}")
    root = output_dir / names.project
    if root.exists() or root.is_symlink():
        raise ScaffoldError(f"{root}: already exists; not overwriting it")
    # Render everything before creating anything: a failure leaves no half project.
    files = planned_files("project", project_variables(names))
    try:
        root.mkdir()  # exclusive: loses cleanly to anyone creating it meanwhile
    except FileExistsError:
        raise ScaffoldError(f"{root}: already exists; not overwriting it") from None
    except OSError as exc:
        raise ScaffoldError(f"cannot create {root}: {exc.strerror or exc}") from None
    try:
        written = write_files(root, files)
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise ScaffoldError(f"cannot write {root}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return CreatedProject(names, root, written)
