"""A controller with __before__ and __after__ around its action."""

import time

from framework import response, tmpl_context
from sample_app.lib.base import BaseController


class HooksController(BaseController):
    def __before__(self) -> None:
        tmpl_context.started = time.perf_counter()
        tmpl_context.calls = ["__before__"]

    def index(self) -> str:
        tmpl_context.calls.append("index")
        return "<p>__before__ ran first: tmpl_context.started is set.</p>"

    def __after__(self) -> None:
        tmpl_context.calls.append("__after__")
        response.headers["X-After"] = "done"
        response.headers["X-Hook-Order"] = ",".join(tmpl_context.calls)
