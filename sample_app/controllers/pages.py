"""A Mako-rendered page: tmpl_context, helpers, url() and template inheritance."""

from sample_app.lib.base import BaseController, render


class PagesController(BaseController):
    def hello(self, name: str) -> str:
        # WSGIController has already put the routing variable on tmpl_context
        # (c.name), which is what the template reads.
        return render("/hello.mako")
