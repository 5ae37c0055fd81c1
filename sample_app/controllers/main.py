"""The seeds' MainController, plus the redirect and failure paths."""

import logging

from framework import url
from framework.controllers.util import redirect
from sample_app.lib.base import BaseController

log = logging.getLogger(__name__)


class MainController(BaseController):
    def index(self) -> str:
        return '<h1>Welcome to the Analysis Demo</h1>Here is a <a href="/page2">link</a>.'

    def page2(self) -> str:
        return 'Thank you for using the Analysis Demo. <a href="/">Home</a>'

    def redirect(self) -> None:
        redirect(url("page2"))

    def fail(self) -> None:
        raise RuntimeError("planted failure")

    def _secret(self) -> str:
        # Never reachable: WSGIController refuses actions starting with "_".
        return "private helper"
