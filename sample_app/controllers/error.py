"""The error documents StatusCodeRedirect asks for (GET /error/document)."""

import html

from webob.exc import status_map

from framework import request
from framework.middleware import error_document_template
from sample_app.lib.base import BaseController


class ErrorController(BaseController):
    """Render the styled page for an error response.

    StatusCodeRedirect calls this with a subrequest and keeps the original status;
    the original response is in ``environ['pylons.original_response']``. Reached
    directly, ``/error/document?code=403&message=...`` says what to show.
    """

    def document(self) -> str:
        original = request.environ.get("pylons.original_response")
        if original is not None:
            code = original.status_int
            reason = original.status.partition(" ")[2]
            message = None
        else:
            code_param = request.GET.get("code", "")
            code = int(code_param) if code_param.isdigit() else 500
            reason = ""
            message = request.GET.get("message")
        if message is None:
            exc_class = status_map.get(code)
            reason = reason or (exc_class.title if exc_class else "Error")
            explanation = exc_class.explanation if exc_class else ""
            message = f"{reason}: {explanation}" if explanation else reason
        # Everything that came from the request or the original response is escaped.
        return error_document_template % {
            "prefix": html.escape(request.environ.get("SCRIPT_NAME", "")),
            "code": html.escape(str(code)),
            "message": html.escape(message),
        }
