"""Rendering a template tree into a directory, in the manner of PasteScript templates.

A template tree is a folder under ``scaffold/templates``. In its paths, ``+name+``
stands for a variable (``+package+/config``). Files whose names end in ``_tmpl`` have
``{{name}}`` placeholders filled in and lose the suffix (``routing.py_tmpl`` becomes
``routing.py``); other files are copied byte for byte. The double-brace syntax leaves
``${...}`` alone, so Mako templates and ini interpolation need no escaping, and the
suffix keeps template Python files from being linted, imported or byte-compiled here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path, PurePosixPath

TEMPLATE_SUFFIX = "_tmpl"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_PATH_VARIABLE = re.compile(r"\+(\w+)\+")


def template_root(tree: str) -> Traversable:
    """The template tree ``tree`` ("project", "controller") inside this package."""
    return resources.files("scaffold").joinpath("templates", tree)


def fill(text: str, variables: Mapping[str, str]) -> str:
    """Replace every ``{{name}}``; an unknown name is a bug in the template."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"template placeholder {{{{{name}}}}} has no value")
        return variables[name]

    return _PLACEHOLDER.sub(value, text)


def target_path(relative: PurePosixPath, variables: Mapping[str, str]) -> PurePosixPath:
    """Where a template file lands: path variables filled in, ``_tmpl`` dropped."""
    parts = [
        _PATH_VARIABLE.sub(lambda match: variables[match.group(1)], part)
        for part in relative.parts
    ]
    if parts[-1].endswith(TEMPLATE_SUFFIX):
        parts[-1] = parts[-1][: -len(TEMPLATE_SUFFIX)]
    return PurePosixPath(*parts)


def walk(root: Traversable, prefix: PurePosixPath = PurePosixPath()) -> Iterator[
    tuple[PurePosixPath, Traversable]
]:
    """Every file below ``root`` with its path relative to ``root``, in sorted order."""
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from walk(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry


def render_file(source: Traversable, relative: PurePosixPath,
                variables: Mapping[str, str]) -> bytes:
    data = source.read_bytes()
    if relative.name.endswith(TEMPLATE_SUFFIX):
        return fill(data.decode("utf-8"), variables).encode("utf-8")
    return data


def planned_files(tree: str, variables: Mapping[str, str]) -> dict[PurePosixPath, bytes]:
    """Render the whole tree in memory: target path -> content, nothing written yet."""
    return {
        target_path(relative, variables): render_file(source, relative, variables)
        for relative, source in walk(template_root(tree))
    }


def write_files(destination: Path, files: Mapping[PurePosixPath, bytes]) -> list[Path]:
    """Write ``files`` under ``destination``; refuses (FileExistsError) to replace any."""
    written = []
    for relative, content in files.items():
        path = destination.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as handle:  # "x": never overwrite what a user wrote
            handle.write(content)
        written.append(path)
    return written
