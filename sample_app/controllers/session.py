"""A Beaker session counter: the value survives between requests with the same cookie."""

from framework import response, session
from sample_app.lib.base import BaseController


class SessionController(BaseController):
    def counter(self) -> str:
        count = session.get("count", 0) + 1
        session["count"] = count
        session.save()
        response.content_type = "text/plain"
        return f"count: {count}"
