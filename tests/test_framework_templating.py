"""render_mako with a real TemplateLookup and real registered globals."""

import pytest
from beaker.cache import CacheManager
from mako.lookup import TemplateLookup
from paste.registry import Registry

import framework
from framework.context import ContextObj
from framework.error import TemplateError, handle_mako_error
from framework.templating import render_mako, template_globals
from sample_app.lib import helpers

TEMPLATES = {
    "page.mako": "<p>${c.text}</p><p>${h.link_to(c.text, '/x?a=1&b=2')}</p>",
    "extra.mako": "${greeting}|${g.name}|${config['site']}",
    "broken.mako": "line one\nline two\n${c.missing_attribute}\n",
    "counter.mako": "${c.value}",
}


class AppGlobals:
    def __init__(self, lookup):
        self.mako_lookup = lookup
        self.cache = CacheManager()
        self.name = "globals"


@pytest.fixture
def registered(tmp_path):
    """Register the objects PylonsApp.setup_app_env would, for one 'request'."""
    for name, text in TEMPLATES.items():
        (tmp_path / name).write_text(text)
    lookup = TemplateLookup(
        directories=[str(tmp_path)],
        error_handler=handle_mako_error,
        default_filters=["escape"],
        imports=["from markupsafe import escape"],
    )
    context = ContextObj()
    registry = Registry()
    registry.prepare()
    registry.register(framework.app_globals, AppGlobals(lookup))
    registry.register(framework.config, {"pylons.h": helpers, "site": "demo"})
    registry.register(framework.tmpl_context, context)
    yield context
    registry.cleanup()


def test_expressions_are_html_escaped(registered):
    registered.text = "<script>alert('x')</script>"
    html = render_mako("/page.mako")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_markup_from_helpers_is_not_escaped_twice(registered):
    registered.text = "a&b"
    html = render_mako("/page.mako")
    assert '<a href="/x?a=1&amp;b=2">a&amp;b</a>' in html


def test_extra_vars_and_globals(registered):
    assert render_mako("/extra.mako", extra_vars={"greeting": "hi"}) == "hi|globals|demo"


def test_template_globals_skip_what_is_not_registered(registered):
    names = template_globals()
    assert names["c"] is registered
    assert names["h"] is helpers
    assert "session" not in names  # no session registered in this 'request'
    assert "request" not in names


def test_errors_name_the_template_and_line(registered):
    with pytest.raises(TemplateError) as info:
        render_mako("/broken.mako")
    assert info.value.lineno == 3
    assert info.value.template.endswith("broken.mako")
    assert "broken.mako, line 3" in str(info.value)
    assert isinstance(info.value.__cause__, AttributeError)


def test_cached_render_reuses_the_output(registered):
    registered.value = "first"
    assert render_mako("/counter.mako", cache_key="k", cache_expire=60) == "first"
    registered.value = "second"
    assert render_mako("/counter.mako", cache_key="k", cache_expire=60) == "first"
    assert render_mako("/counter.mako") == "second"
