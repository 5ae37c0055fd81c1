"""Helpers an action calls to end the request early with an HTTP status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from webob.exc import status_map


def abort(
    status_code: int,
    detail: str = "",
    headers: Iterable[tuple[str, str]] | dict[str, str] | None = None,
    comment: str | None = None,
) -> NoReturn:
    """Stop the action and answer with ``status_code`` (an error or other status)."""
    try:
        exc_class = status_map[status_code]
    except KeyError:
        raise ValueError(f"no HTTP exception for status code {status_code!r}") from None
    header_list = list(headers.items()) if isinstance(headers, dict) else headers
    raise exc_class(detail=detail, headers=header_list, comment=comment)


def redirect(url: str, code: int = 302) -> NoReturn:
    """Stop the action and redirect the client to ``url`` with a 3xx ``code``."""
    if not 300 <= code < 400 or code not in status_map:
        raise ValueError(f"redirect needs a 3xx status code, got {code!r}")
    raise status_map[code](location=url)
