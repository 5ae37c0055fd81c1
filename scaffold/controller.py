"""`controller`: add a controller and its functional test to an existing project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scaffold.errors import ScaffoldError
from scaffold.names import controller_names
from scaffold.render import fill, template_root, write_files

# What makes a directory a project: one of these files...
PROJECT_MARKERS = ("pyproject.toml", "development.ini")
# ...next to a package holding these.
PACKAGE_MARKERS = ("config/routing.py", "lib/base.py")


@dataclass(frozen=True)
class Project:
    root: Path
    package: str


@dataclass(frozen=True)
class AddedController:
    project: Project
    module: str
    class_name: str
    files: list[Path]
    test_skipped: bool  # the project has no <package>/tests/__init__.py to build on

    @property
    def route(self) -> str:
        return (f'map.connect("{self.module}", "/{self.module}", '
                f'controller="{self.module}", action="index")')


def _is_app_package(directory: Path) -> bool:
    return directory.is_dir() and all((directory / marker).is_file()
                                      for marker in PACKAGE_MARKERS)


def find_project(start: Path) -> Project:
    """The project ``start`` is in: ``start`` itself or the nearest parent that is one."""
    for directory in (start, *start.parents):
        if not any((directory / marker).is_file() for marker in PROJECT_MARKERS):
            continue
        try:
            children = sorted(directory.iterdir())
        except OSError:
            continue
        packages = [child.name for child in children if _is_app_package(child)]
        if len(packages) == 1:
            return Project(directory, packages[0])
        if packages:
            raise ScaffoldError(
                f"{directory}: more than one application package ({', '.join(packages)}); "
                "cannot tell which one the controller belongs to"
            )
    raise ScaffoldError(
        f"{start} is not inside a project: no directory from here up has a pyproject.toml "
        "or development.ini next to a package with config/routing.py and lib/base.py "
        "(start one with `pylon-trace create NAME`)"
    )


def add_controller(project: Project, name: str) -> AddedController:
    """Write ``controllers/<name>.py`` and, when the project has tests, its test module."""
    names = controller_names(name)
    package_dir = project.root / project.package
    if not (package_dir / "controllers" / "__init__.py").is_file():
        raise ScaffoldError(f"{package_dir / 'controllers'}: not a package (no __init__.py)")
    variables = {"package": project.package, "module": names.module,
                 "class_name": names.class_name}
    templates = template_root("controller")

    files = {
        PurePosixPath(project.package, "controllers", f"{names.module}.py"):
            fill(templates.joinpath("controller.py_tmpl").read_text("utf-8"), variables),
    }
    tests_dir = PurePosixPath(project.package, "tests")
    has_tests = (project.root / tests_dir / "__init__.py").is_file()
    if has_tests:
        functional = tests_dir / "functional"
        if not (project.root / functional / "__init__.py").exists():
            files[functional / "__init__.py"] = ""
        files[functional / f"test_{names.module}.py"] = fill(
            templates.joinpath("test_controller.py_tmpl").read_text("utf-8"), variables)

    # Check every target first, so a refusal writes nothing at all.
    for relative in files:
        if (project.root / relative).exists():
            raise ScaffoldError(f"{project.root / relative}: already exists; not overwriting it")
    written: list[Path] = []
    try:
        for relative, text in files.items():
            written += write_files(project.root, {relative: text.encode("utf-8")})
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, FileExistsError):
            raise ScaffoldError(f"{exc.filename}: already exists; not overwriting it") from None
        if isinstance(exc, OSError):
            raise ScaffoldError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
        raise
    return AddedController(project, names.module, names.class_name, written,
                           test_skipped=not has_tests)
