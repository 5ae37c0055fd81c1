"""The base controller every controller of the application inherits from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from framework.controllers import WSGIController
from framework.templating import render_mako as render

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["BaseController", "render"]


class BaseController(WSGIController):
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Invoke the Controller"""
        # WSGIController.__call__ dispatches to the Controller method
        # the request is routed to. This routing information is
        # available in environ['pylons.routes_dict']
        return WSGIController.__call__(self, environ, start_response)
