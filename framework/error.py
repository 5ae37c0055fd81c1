"""Template error reporting: name the template file and line in the exception."""

from __future__ import annotations

from typing import Any

from mako.exceptions import RichTraceback
from webob.exc import HTTPException


class TemplateError(Exception):
    """An exception raised while rendering a template, located in the template's source."""

    def __init__(self, message: str, template: str, lineno: int) -> None:
        super().__init__(message)
        self.template = template
        self.lineno = lineno


def handle_mako_error(context: Any, exc: Exception) -> bool:
    """Mako ``error_handler``: re-raise ``exc`` as a TemplateError naming its location.

    Mako's own traceback points into the compiled module in ``cache_dir``; the
    message here points at the ``.mako`` line the developer has to edit. Returning
    False lets Mako re-raise the original exception unchanged.
    """
    if isinstance(exc, HTTPException):
        return False  # abort()/redirect() from a template must keep their meaning
    records = RichTraceback(error=exc, traceback=exc.__traceback__).records
    located = [rec for rec in records if rec[4] is not None]
    if not located:
        return False
    template, lineno = located[-1][4], located[-1][5]
    message = f"{type(exc).__name__}: {exc} (in template {template}, line {lineno})"
    raise TemplateError(message, template, lineno) from exc
