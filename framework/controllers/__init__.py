"""Controllers: the objects PylonsApp.dispatch calls, one per request."""

from framework.controllers.core import WSGIController

__all__ = ["WSGIController"]
