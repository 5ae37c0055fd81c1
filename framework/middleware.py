"""The two Pylons middleware layers: ErrorHandler (exceptions) and StatusCodeRedirect
(styled error documents).

Both keep the wrapped application in ``self.app`` and neither touches a successful
response's body, so a lazy body stays lazy through them.
"""

from __future__ import annotations

import html
import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any

from paste.deploy.converters import asbool
from webob import Request, Response

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType]

log = logging.getLogger(__name__)

# Headers of the original error response that still describe the answer after its
# body is swapped for the error document (the document's own headers replace the rest).
_KEPT_HEADERS = frozenset({"set-cookie", "www-authenticate", "allow", "retry-after"})

# The page the sample app's ErrorController renders for StatusCodeRedirect. The
# data-error-document attribute lets tests tell it from WebOb's plain error pages.
error_document_template = """\
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Error %(code)s</title>
<link rel="stylesheet" href="%(prefix)s/style.css">
</head>
<body>
<div class="error-document" data-error-document="pylon-trace">
<h1>Error %(code)s</h1>
<p>%(message)s</p>
</div>
</body>
</html>
"""

_DEBUG_PAGE = """\
<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Server Error: %(exc_type)s</title></head>
<body>
<h1>Server Error</h1>
<p><strong>%(exc_type)s</strong>: %(exc_value)s</p>
<p>%(method)s %(url)s</p>
<h2>Traceback (most recent call last)</h2>
<pre class="traceback">%(traceback)s</pre>
</body>
</html>
"""

_PRODUCTION_PAGE = """\
<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Server Error</title></head>
<body>
<h1>Internal Server Error</h1>
<p>%(message)s</p>
</body>
</html>
"""


class ErrorHandler:
    """Turn an exception raised by the application into a 500 response.

    With ``debug`` true the page shows the traceback; otherwise the traceback is
    logged and the client gets a generic page (StatusCodeRedirect may then replace
    its body with the styled error document). Pylons could also e-mail the
    traceback (``error_email`` in the errorware options); this port only logs it.

    Paste's EvalException was Pylons' interactive debugger, but on Python 3 its
    JavaScript and images are missing from the Paste distribution, and it reads the
    whole response body into a list, which would make every lazy body eager in
    development. This class renders the traceback itself instead.

    Unlike Paste's error middleware it ignores ``paste.throw_errors`` (set by
    WebTest), so tests see the same 500 response a browser would.
    """

    def __init__(
        self, app: WSGIApplication, global_conf: Mapping[str, Any] | None = None, **errorware: Any
    ) -> None:
        self.app = app
        global_conf = global_conf or {}
        self.debug = asbool(errorware.get("debug", global_conf.get("debug", False)))
        self.error_message: str = errorware.get("error_message") or (
            "An internal server error occurred"
        )
        self.errorware = errorware

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            # A lazy body raising later, while the server writes it, is past the
            # point where a 500 can still be sent; the server logs that one.
            return self.app(environ, start_response)
        except Exception:
            exc_info = sys.exc_info()
            return self._error_response(environ, start_response, exc_info)

    def _error_response(
        self, environ: WSGIEnvironment, start_response: StartResponse, exc_info: ExcInfo
    ) -> list[bytes]:
        request = Request(environ)
        log.exception("error while handling %s %s", request.method, request.path_qs)
        if self.debug:
            page = self._debug_page(request, exc_info)
        else:
            page = _PRODUCTION_PAGE % {"message": html.escape(self.error_message)}
        body = page.encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        # exc_info lets the server replace headers the app may already have started.
        start_response("500 Internal Server Error", headers, exc_info)
        return [body]

    @staticmethod
    def _debug_page(request: Request, exc_info: ExcInfo) -> str:
        exc_type, exc_value, tb = exc_info
        return _DEBUG_PAGE % {
            "exc_type": html.escape(exc_type.__name__),
            "exc_value": html.escape(str(exc_value)),
            "method": html.escape(request.method),
            "url": html.escape(request.url),
            "traceback": html.escape("".join(traceback.format_exception(exc_type, exc_value, tb))),
        }


class StatusCodeRedirect:
    """Replace the body of an error response with a page from the application.

    When the wrapped app answers with one of ``errors``, a second request for
    ``path`` goes to the same app (``_error_subrequest``). Its body is sent with
    the original status and headers. The original request and response are in the
    subrequest's environ as ``pylons.original_request`` / ``pylons.original_response``.
    An application can opt out for one request by setting
    ``environ['pylons.status_code_redirect']``.
    """

    def __init__(
        self,
        app: WSGIApplication,
        errors: Iterable[int] = (400, 401, 403, 404),
        path: str = "/error/document",
    ) -> None:
        self.app = app
        self.errors = frozenset(int(code) for code in errors)
        self.error_path = path

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        status, headers, app_iter, exc_info = self._call_app(environ)
        if self._wants_error_document(status, environ):
            original = Response(status=status, headerlist=list(headers))
            original.body = self._drain(app_iter)
            environ["pylons.original_response"] = original
            environ["pylons.original_request"] = Request(environ)
            _, sub_headers, app_iter, _ = self._error_subrequest(environ)
            kept = [(name, value) for name, value in headers if name.lower() in _KEPT_HEADERS]
            headers = list(sub_headers) + kept
        start_response(status, headers, exc_info)
        return app_iter

    def _wants_error_document(self, status: str, environ: WSGIEnvironment) -> bool:
        if not self.error_path or "pylons.status_code_redirect" in environ:
            return False
        try:
            return int(status.split(None, 1)[0]) in self.errors
        except ValueError:
            return False

    def _error_subrequest(
        self, environ: WSGIEnvironment
    ) -> tuple[str, list[tuple[str, str]], Iterable[bytes], ExcInfo | None]:
        """GET ``self.error_path`` from the wrapped app with a copy of the environ."""
        sub_environ = environ.copy()
        sub_environ["PATH_INFO"] = self.error_path
        sub_environ["REQUEST_METHOD"] = "GET"
        sub_environ["QUERY_STRING"] = ""
        sub_environ["CONTENT_LENGTH"] = "0"
        return self._call_app(sub_environ)

    def _call_app(
        self, environ: WSGIEnvironment
    ) -> tuple[str, list[tuple[str, str]], Iterable[bytes], ExcInfo | None]:
        captured: list[Any] = []
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return written.append

        app_iter = self.app(environ, capture)
        if not captured or written:
            # start_response is called late (on first iteration) or the app used
            # the legacy write(): only then must the body be read here. Otherwise
            # the body is passed on unread, so a lazy body stays lazy.
            body = self._drain(app_iter)
            app_iter = [b"".join(written) + body]
        if not captured:
            raise RuntimeError(f"{self.app!r} returned without calling start_response")
        status, headers, exc_info = captured
        return status, headers, app_iter, exc_info

    @staticmethod
    def _drain(app_iter: Iterable[bytes]) -> bytes:
        try:
            return b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
