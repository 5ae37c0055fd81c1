"""ErrorHandler and StatusCodeRedirect around small real WSGI applications."""

import logging

from webob import Request

from framework.middleware import ErrorHandler, StatusCodeRedirect


def failing_app(environ, start_response):
    raise RuntimeError("boom <b>bold</b>")


def lazy_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return (chunk for chunk in [b"a", b"b"])


def get(app, path="/", method="GET"):
    return Request.blank(path, method=method).get_response(app, catch_exc_info=True)


def test_error_handler_production_logs_and_answers_500(caplog):
    app = ErrorHandler(failing_app, {"debug": "false"}, error_message="Sorry & goodbye")
    with caplog.at_level(logging.ERROR, logger="framework.middleware"):
        response = get(app, "/broken")
    assert response.status == "500 Internal Server Error"
    assert "Sorry &amp; goodbye" in response.text
    assert "boom" not in response.text  # no internals for the client
    assert "Traceback" not in response.text
    record = caplog.records[-1]
    assert "GET /broken" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_error_handler_debug_shows_an_escaped_traceback():
    app = ErrorHandler(failing_app, {}, debug=True)
    response = get(app)
    assert response.status_int == 500
    assert "RuntimeError" in response.text
    assert "boom &lt;b&gt;bold&lt;/b&gt;" in response.text
    assert "<b>bold</b>" not in response.text
    assert "failing_app" in response.text  # the frame where it happened


def test_error_handler_debug_flag_falls_back_to_global_conf():
    assert ErrorHandler(failing_app, {"debug": "true"}).debug is True
    assert ErrorHandler(failing_app, {"debug": "true"}, debug=False).debug is False


def test_error_handler_passes_the_body_through_untouched():
    captured = []
    app_iter = ErrorHandler(lazy_app, {})({}, lambda *args: captured.append(args))
    assert captured[0][0] == "200 OK"
    assert list(app_iter) == [b"a", b"b"]
    assert ErrorHandler(lazy_app).app is lazy_app


def routed_app(environ, start_response):
    """404 on /missing, 200 elsewhere; /error/document describes the original response."""
    path = environ["PATH_INFO"]
    if path == "/missing":
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain"), ("WWW-Authenticate", "x"), ("X-Original", "1")],
        )
        return [b"original body"]
    if path == "/error/document":
        original = environ["pylons.original_response"]
        original_request = environ["pylons.original_request"]
        text = (
            f"document for {original.status} ({original.body.decode()}) "
            f"from {original_request.method} {original_request.path_info} "
            f"via {environ['REQUEST_METHOD']}"
        )
        start_response("200 OK", [("Content-Type", "text/html")])
        return [text.encode()]
    return lazy_app(environ, start_response)


def test_status_code_redirect_keeps_status_and_uses_the_document_body():
    response = get(StatusCodeRedirect(routed_app), "/missing", method="POST")
    assert response.status == "404 Not Found"
    assert response.text == (
        "document for 404 Not Found (original body) from POST /missing via GET"
    )
    assert response.content_type == "text/html"
    assert response.headers["WWW-Authenticate"] == "x"
    assert "X-Original" not in response.headers


def test_status_code_redirect_only_for_listed_codes():
    response = get(StatusCodeRedirect(routed_app, errors=[500]), "/missing")
    assert response.status_int == 404
    assert response.text == "original body"


def test_status_code_redirect_can_be_switched_off_per_request():
    request = Request.blank("/missing")
    request.environ["pylons.status_code_redirect"] = True
    response = request.get_response(StatusCodeRedirect(routed_app))
    assert response.text == "original body"


def test_status_code_redirect_leaves_success_bodies_lazy():
    captured = []
    app_iter = StatusCodeRedirect(routed_app)(
        Request.blank("/fine").environ, lambda *args: captured.append(args)
    )
    assert captured[0][0] == "200 OK"
    assert not isinstance(app_iter, list)  # the generator itself, not read
    assert list(app_iter) == [b"a", b"b"]


def test_status_code_redirect_handles_late_start_response():
    def late_app(environ, start_response):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        yield b"late"

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/error/document":
            return routed_app(environ, start_response)
        return late_app(environ, start_response)

    response = get(StatusCodeRedirect(app), "/secret")
    assert response.status_int == 403
    assert response.text.startswith("document for 403 Forbidden (late)")


def test_status_code_redirect_with_error_handler_turns_500_into_a_document():
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/error/document":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [f"styled {environ['pylons.original_response'].status_int}".encode()]
        raise RuntimeError("inner failure")

    stack = StatusCodeRedirect(ErrorHandler(app, {}, debug=False), [500])
    response = get(stack)
    assert response.status == "500 Internal Server Error"
    assert response.text == "styled 500"
    assert stack.app.app is app
