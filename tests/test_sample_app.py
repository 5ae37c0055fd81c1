"""The sample application, loaded the way the server loads it (PasteDeploy + test.ini),
called in-process with WebTest or as a bare WSGI callable."""

import logging
import os

import pytest
from paste.deploy import loadapp
from paste.registry import restorer
from routes.util import URLGenerator
from webob import Request
from webtest import TestApp

import framework
from framework.middleware import ErrorHandler, StatusCodeRedirect
from framework.wsgiapp import PylonsApp
from sample_app.config.environment import load_environment
from sample_app.config.middleware import make_app
from sample_app.controllers.stream import CHUNKS, PRODUCED_KEY

SAMPLE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_app")
TEST_INI = "config:" + os.path.join(SAMPLE_DIR, "test.ini")
DEV_INI = "config:" + os.path.join(SAMPLE_DIR, "development.ini")

# The marker error_document_template puts on the styled error pages.
ERROR_DOCUMENT = 'data-error-document="pylon-trace"'


@pytest.fixture(scope="module")
def wsgi_app():
    return loadapp(TEST_INI)


@pytest.fixture
def app(wsgi_app):
    return TestApp(wsgi_app)  # a fresh cookie jar for every test


def test_test_ini_turns_debug_off(wsgi_app):
    assert wsgi_app.config["debug"] is False
    assert wsgi_app.config["pylons.package"] == "sample_app"
    assert wsgi_app.config["cache_dir"] == os.path.join(SAMPLE_DIR, "data")


def test_home_page_is_the_seeds_text(app):
    response = app.get("/")
    assert response.status == "200 OK"
    assert response.text == (
        '<h1>Welcome to the Analysis Demo</h1>Here is a <a href="/page2">link</a>.'
    )
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Pragma"] == "no-cache"


def test_page2_is_the_seeds_text(app):
    response = app.get("/page2")
    assert response.text == 'Thank you for using the Analysis Demo. <a href="/">Home</a>'
    assert response.headers["Content-Length"] == str(len(response.body))


def test_hello_renders_the_template_with_the_default_name(app):
    response = app.get("/hello")
    assert response.status_int == 200
    assert '<h1 class="greeting">Hello, world!</h1>' in response.text
    assert "<title>Hello - Analysis Demo</title>" in response.text  # base.mako layout
    assert '<a href="/page2">page 2</a>' in response.text  # url('page2') + h.link_to
    assert response.tmpl_context.name == "world"  # set by WebTest from the request


def test_hello_name_argument_lands_on_tmpl_context_and_is_escaped(app):
    response = app.get("/hello/%3Cscript%3E&%22")
    assert response.tmpl_context.name == '<script>&"'
    assert "<script>" not in response.text
    assert "Hello, &lt;script&gt;&amp;&#34;!" in response.text


def test_session_counter_persists_with_the_cookie(app, wsgi_app):
    assert app.get("/counter").text == "count: 1"
    assert app.get("/counter").text == "count: 2"
    assert app.get("/counter").text == "count: 3"
    assert "analysis" in app.cookies  # beaker.session.key from development.ini
    assert TestApp(wsgi_app).get("/counter").text == "count: 1"
    assert app.get("/counter").text == "count: 4"


def test_stream_body_is_the_chunks_joined(app):
    response = app.get("/stream")
    expected = "".join(f"chunk {n} of {CHUNKS}\n" for n in range(1, CHUNKS + 1))
    assert response.text == expected
    assert response.content_type == "text/plain"


def test_stream_body_is_produced_while_it_is_iterated(wsgi_app):
    environ = Request.blank("/stream").environ
    produced = environ[PRODUCED_KEY] = []
    started = []
    app_iter = wsgi_app(environ, lambda status, headers, exc_info=None: started.append(status))
    # Every middleware has returned and the headers are out: no chunk made yet.
    assert started == ["200 OK"]
    assert produced == []
    chunks = []
    for chunk in app_iter:
        chunks.append(chunk)
        assert produced == list(range(1, len(chunks) + 1))  # one chunk per pull
    app_iter.close()
    assert len(chunks) == CHUNKS
    assert b"".join(chunks).decode() == "".join(
        f"chunk {n} of {CHUNKS}\n" for n in range(1, CHUNKS + 1)
    )


def test_hooks_run_before_and_after_the_action(app):
    response = app.get("/hooks")
    assert response.headers["X-After"] == "done"
    assert response.headers["X-Hook-Order"] == "__before__,index,__after__"
    assert isinstance(response.tmpl_context.started, float)


def test_redirect_goes_to_page2(app):
    response = app.get("/redirect")
    assert response.status_int == 302
    assert response.headers["Location"] == "http://localhost/page2"
    assert response.follow().text.startswith("Thank you for using the Analysis Demo.")


def test_failure_is_logged_and_answered_with_the_styled_500_page(app, caplog):
    with caplog.at_level(logging.ERROR, logger="framework.middleware"):
        response = app.get("/fail", status=500)
    assert response.status == "500 Internal Server Error"
    assert ERROR_DOCUMENT in response.text
    assert "<h1>Error 500</h1>" in response.text
    assert "planted failure" not in response.text
    assert any(r.exc_info and str(r.exc_info[1]) == "planted failure" for r in caplog.records)


@pytest.mark.parametrize("path", ["/main/_secret", "/main/no_such_action"])
def test_private_and_missing_actions_are_404(app, path):
    response = app.get(path, status=404)
    assert ERROR_DOCUMENT in response.text
    assert "private helper" not in response.text


def test_unknown_url_gets_the_styled_404_page(app):
    response = app.get("/no/such/page/here", status=404)
    assert response.status == "404 Not Found"
    assert ERROR_DOCUMENT in response.text
    assert "<h1>Error 404</h1>" in response.text
    assert "Not Found: The resource could not be found." in response.text


def test_error_document_escapes_query_values(app):
    response = app.get("/error/document?code=403&message=%3Ci%3Ehi%3C%2Fi%3E")
    assert "<h1>Error 403</h1>" in response.text
    assert "&lt;i&gt;hi&lt;/i&gt;" in response.text


def test_static_files_are_served_before_the_application(app):
    css = app.get("/style.css")
    assert css.content_type == "text/css"
    assert ".error-document" in css.text
    robots = app.get("/robots.txt")
    assert robots.text.startswith("User-agent: *")
    assert not os.path.exists(os.path.join(SAMPLE_DIR, "public", "index.html"))


def test_test_vars_saves_the_request_objects_for_restoration(app):
    response = app.get("/_test_vars")
    request_id = int(response.text)
    with pytest.raises(TypeError):
        framework.request._current_obj()  # popped when the request ended
    restorer.restoration_begin(request_id)
    try:
        assert framework.request.path_info == "/_test_vars"
        assert framework.config["pylons.package"] == "sample_app"
    finally:
        restorer.restoration_end()


def test_stack_order_matches_the_seeds(wsgi_app):
    static_app, registry_manager = wsgi_app.apps
    status_redirect = registry_manager.application
    assert isinstance(status_redirect, StatusCodeRedirect)
    assert 500 in status_redirect.errors  # debug is off
    error_handler = status_redirect.app
    assert isinstance(error_handler, ErrorHandler)
    session = error_handler.app
    routes = session.wrap_app
    assert isinstance(routes.app, PylonsApp)
    assert static_app.directory == os.path.join(SAMPLE_DIR, "public")


def planted_layer(app, config):
    """A custom middleware factory, as named by custom_middleware."""

    def layer(environ, start_response):
        def tagging_start_response(status, headers, exc_info=None):
            return start_response(status, headers + [("X-Planted", config["pylons.package"])])

        return app(environ, tagging_start_response)

    layer.app = app
    return layer


def test_custom_middleware_sits_between_error_handler_and_sessions():
    spec = f"{__name__}:planted_layer"
    wsgi_app = loadapp(TEST_INI, global_conf={"custom_middleware": spec})
    response = TestApp(wsgi_app).get("/page2")
    assert response.headers["X-Planted"] == "sample_app"
    error_handler = wsgi_app.apps[1].application.app
    assert error_handler.app.__name__ == "layer"
    assert type(error_handler.app.app).__name__ == "SessionMiddleware"


def test_custom_middleware_spec_must_name_a_callable():
    with pytest.raises(ValueError, match="module:callable"):
        loadapp(TEST_INI, global_conf={"custom_middleware": "no_colon_here"})


def test_development_ini_shows_the_traceback_and_keeps_styled_404s():
    wsgi_app = loadapp(DEV_INI)
    assert wsgi_app.config["debug"] is True
    app = TestApp(wsgi_app)
    failure = app.get("/fail", status=500)
    assert "RuntimeError" in failure.text and "planted failure" in failure.text
    assert ERROR_DOCUMENT not in failure.text  # 500 is not redirected in debug mode
    assert ERROR_DOCUMENT in app.get("/nope/nope/nope", status=404).text


def test_flags_from_the_ini_are_strings_and_are_parsed():
    global_conf = {"debug": "false", "here": SAMPLE_DIR}
    bare = make_app(
        global_conf,
        full_stack="false",
        static_files="false",
        cache_dir=os.path.join(SAMPLE_DIR, "data"),
    )
    assert type(bare).__name__ == "RegistryManager"
    assert not isinstance(bare.application, StatusCodeRedirect)
    with pytest.raises(RuntimeError, match="planted failure"):
        Request.blank("/fail").get_response(bare)
    assert Request.blank("/style.css").get_response(bare).status_int == 404


def test_cache_dir_is_required():
    with pytest.raises(ValueError, match="cache_dir"):
        load_environment({"debug": "false"}, {})


def test_named_routes_generate_urls(wsgi_app):
    url = URLGenerator(wsgi_app.config["routes.map"], {"HTTP_HOST": "localhost"})
    assert url("home") == "/"
    assert url("page2") == "/page2"
    assert url("hello") == "/hello"
    assert url("counter") == "/counter"
