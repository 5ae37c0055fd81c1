"""Running Graphviz's `dot`, for every command that draws a picture."""

from __future__ import annotations

import subprocess

import graphviz


class DotNotFound(Exception):
    """The `dot` program is not on PATH."""


class DotFailed(Exception):
    def __init__(self, returncode: int, message: str) -> None:
        super().__init__(f"dot failed (exit {returncode}): {message}")
        self.returncode = returncode


def run_dot(source: str, fmt: str) -> bytes:
    """`dot -T<fmt>` on ``source``; the picture's bytes."""
    try:
        # quiet: layout warnings ("unable to reclaim box space") are not errors.
        return graphviz.Source(source, engine="dot").pipe(format=fmt, encoding=None,
                                                          quiet=True)
    except graphviz.ExecutableNotFound:
        raise DotNotFound from None
    except graphviz.CalledProcessError as exc:
        stderr = _text(exc.stderr)
        if "trouble in init_rank" not in stderr:
            raise DotFailed(exc.returncode, _first_line(stderr)) from None
    # Graphviz 2.x's classic ranking gives up on some call graphs with clusters ("trouble
    # in init_rank"); the newer ranking pass lays the same graph out.
    result = subprocess.run(["dot", "-Gnewrank=true", f"-T{fmt}"],
                            input=source.encode("utf-8", "backslashreplace"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise DotFailed(result.returncode, _first_line(_text(result.stderr)))
    return result.stdout


def _text(data: object) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data or "")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no message")
