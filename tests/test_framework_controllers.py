"""WSGIController and PylonsApp, driven through real WSGI calls (no server, no mocks)."""

import inspect

import pytest
from webob import Request, Response
from webob.exc import HTTPForbidden

from framework.configuration import PylonsConfig
from framework.controllers import WSGIController
from framework.controllers.util import abort, redirect
from framework.wsgiapp import PylonsApp, class_name_from_module_name


def make_pylons_app(package="sample_app"):
    config = PylonsConfig()
    config.init_app({}, {}, package=package)
    return PylonsApp(config=config)


def call(controller_class, match, path="/", method="GET"):
    """Run one request through PylonsApp.setup_app_env and dispatch to the controller."""
    pylons_app = make_pylons_app()
    environ = Request.blank(path, method=method).environ
    environ["wsgiorg.routing_args"] = ((), match)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers

    pylons_app.setup_app_env(environ, start_response)
    pylons_app.resolve(environ, start_response)
    app_iter = pylons_app.dispatch(controller_class, environ, start_response)
    return captured, app_iter, environ


def body_of(app_iter):
    try:
        return b"".join(app_iter)
    finally:
        if hasattr(app_iter, "close"):
            app_iter.close()


class ArgsController(WSGIController):
    def named(self, id, color="red"):
        return f"id={id} color={color}"

    def everything(self, id, **kwargs):
        return "id={} rest={}".format(id, ",".join(sorted(kwargs)))

    def show_context(self, id, pylons):
        c = pylons.tmpl_context
        return f"{c.id}|{hasattr(c, 'color')}|{hasattr(c, 'environ')}"

    def wants_environ(self, environ):
        return environ["PATH_INFO"]


def test_arguments_are_filled_from_the_routing_match():
    status, app_iter, _ = call(ArgsController, {"action": "named", "id": "7", "color": "blue"})
    assert status["status"] == "200 OK"
    assert body_of(app_iter) == b"id=7 color=blue"


def test_missing_optional_argument_keeps_its_default():
    _, app_iter, _ = call(ArgsController, {"action": "named", "id": "7"})
    assert body_of(app_iter) == b"id=7 color=red"


def test_var_kwargs_receive_the_other_routing_variables():
    match = {"controller": "args", "action": "everything", "id": "1", "extra": "x"}
    _, app_iter, _ = call(ArgsController, match)
    assert body_of(app_iter) == b"id=1 rest=action,controller,extra"


def test_passed_arguments_land_on_tmpl_context():
    _, app_iter, environ = call(ArgsController, {"action": "show_context", "id": "42"})
    # id was passed and set; color is not an argument; the pylons object is not data.
    assert body_of(app_iter) == b"42|False|False"
    assert environ["pylons.pylons"].tmpl_context.id == "42"


def test_special_arguments_environ():
    _, app_iter, _ = call(ArgsController, {"action": "wants_environ"}, path="/where")
    assert body_of(app_iter) == b"/where"


def test_dashes_in_action_names_map_to_underscores():
    _, app_iter, _ = call(ArgsController, {"action": "wants-environ"}, path="/x")
    assert body_of(app_iter) == b"/x"


class Private(WSGIController):
    def _hidden(self):
        return "should never be served"

    not_a_method = "text"


@pytest.mark.parametrize("action", ["_hidden", "missing", "not_a_method", None])
def test_private_missing_or_non_method_actions_are_404(action):
    status, app_iter, _ = call(Private, {"action": action})
    assert status["status"].startswith("404")
    assert b"should never be served" not in body_of(app_iter)


class Hooked(WSGIController):
    calls: list

    def __before__(self, id):
        self.calls = [f"before:{id}"]

    def index(self, id):
        self.calls.append("index")
        return "-".join(self.calls)

    def __after__(self):
        self.calls.append("after")
        self._py_object.response.headers["X-Calls"] = ",".join(self.calls)


def test_before_action_after_run_in_order_with_arguments():
    status, app_iter, _ = call(Hooked, {"action": "index", "id": "5"})
    assert body_of(app_iter) == b"before:5-index"
    assert dict(status["headers"])["X-Calls"] == "before:5,index,after"


class Guarded(WSGIController):
    def __before__(self):
        abort(403, "members only")

    def index(self):
        raise AssertionError("the action must not run after __before__ aborted")


def test_abort_in_before_skips_the_action():
    status, app_iter, _ = call(Guarded, {"action": "index"})
    assert status["status"] == "403 Forbidden"
    assert b"members only" in body_of(app_iter)


class Results(WSGIController):
    def text(self):
        return "caf\u00e9"

    def raw(self):
        return b"\x00\x01"

    def own_response(self):
        self._py_object.response.headers["X-From-Global"] = "yes"
        return Response(body=b"mine", content_type="text/plain", status=201)

    def nothing(self):
        self._py_object.response.body = b"written to the global response"

    def missing(self):
        abort(404, "no such thing", headers={"X-Reason": "gone"})

    def moved(self):
        redirect("/elsewhere", code=301)

    def bare_wsgi(self, environ, start_response):
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [b"bare"]

    def bad(self):
        return 12


def test_str_result_is_encoded_with_the_response_charset():
    status, app_iter, _ = call(Results, {"action": "text"})
    assert body_of(app_iter) == "caf\u00e9".encode()
    headers = dict(status["headers"])
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"


def test_bytes_result():
    _, app_iter, _ = call(Results, {"action": "raw"})
    assert body_of(app_iter) == b"\x00\x01"


def test_response_result_keeps_its_status_and_gets_global_x_headers():
    status, app_iter, _ = call(Results, {"action": "own_response"})
    assert status["status"] == "201 Created"
    assert dict(status["headers"])["X-From-Global"] == "yes"
    assert body_of(app_iter) == b"mine"


def test_none_result_sends_the_global_response():
    _, app_iter, _ = call(Results, {"action": "nothing"})
    assert body_of(app_iter) == b"written to the global response"


def test_abort_becomes_the_response_and_is_recorded():
    status, app_iter, environ = call(Results, {"action": "missing"})
    assert status["status"] == "404 Not Found"
    assert dict(status["headers"])["X-Reason"] == "gone"
    assert b"no such thing" in body_of(app_iter)
    assert environ["pylons.controller.exception"].code == 404


def test_redirect_with_code():
    status, _, _ = call(Results, {"action": "moved"})
    assert status["status"] == "301 Moved Permanently"
    assert dict(status["headers"])["Location"] == "http://localhost/elsewhere"


def test_action_acting_as_a_wsgi_app_is_passed_through():
    status, app_iter, _ = call(Results, {"action": "bare_wsgi"})
    assert status["status"] == "202 Accepted"
    assert body_of(app_iter) == b"bare"


def test_unsupported_result_type_is_an_error():
    with pytest.raises(TypeError, match="int"):
        call(Results, {"action": "bad"})


class Lazy(WSGIController):
    def index(self, environ):
        produced = environ["test.produced"] = []

        def chunks():
            for n in range(3):
                produced.append(n)
                yield f"<{n}>" if n % 2 else f"<{n}>".encode()

        return chunks()


def test_generator_result_stays_lazy_and_str_chunks_are_encoded():
    status, app_iter, environ = call(Lazy, {"action": "index"})
    assert status["status"] == "200 OK"
    assert "Content-Length" not in dict(status["headers"])
    assert environ["test.produced"] == []
    assert inspect.getgeneratorstate(app_iter) == inspect.GEN_CREATED
    assert next(iter(app_iter)) == b"<0>"
    assert environ["test.produced"] == [0]
    assert b"".join(app_iter) == b"<1><2>"


def test_closing_the_body_closes_the_action_generator():
    closed = []

    class Closing(WSGIController):
        def index(self):
            def chunks():
                try:
                    yield "a"
                    yield "b"
                finally:
                    closed.append(True)

            return chunks()

    _, app_iter, _ = call(Closing, {"action": "index"})
    assert next(app_iter) == b"a"
    app_iter.close()
    assert closed == [True]


def test_abort_and_redirect_validate_codes():
    with pytest.raises(HTTPForbidden) as info:
        abort(403, detail="nope", comment="internal note")
    assert info.value.detail == "nope"
    with pytest.raises(ValueError):
        abort(999)
    with pytest.raises(ValueError):
        redirect("/x", code=200)


def test_no_controller_means_404():
    status, app_iter, _ = call(None, {})
    assert status["status"] == "404 Not Found"
    body_of(app_iter)


def test_find_controller_imports_and_caches():
    from sample_app.controllers.main import MainController

    app = make_pylons_app()
    assert app.find_controller("main") is MainController
    assert app.controller_classes["main"] is MainController
    assert app.find_controller("no_such_controller") is None
    assert app.find_controller("main.evil") is None
    assert app.find_controller("../main") is None


def test_resolve_reads_the_routing_args():
    from sample_app.controllers.hooks import HooksController

    app = make_pylons_app()
    environ = {"wsgiorg.routing_args": ((), {"controller": "hooks", "action": "index"})}
    assert app.resolve(environ, None) is HooksController
    assert environ["pylons.routes_dict"]["action"] == "index"
    assert app.resolve({}, None) is None


def test_class_names_from_module_names():
    assert class_name_from_module_name("main") == "Main"
    assert class_name_from_module_name("user_admin") == "UserAdmin"


def test_test_vars_needs_testing_mode():
    def fetch(pylons_app, environ):
        captured = {}
        pylons_app.setup_app_env(environ, None)
        body = b"".join(
            pylons_app.dispatch(None, environ, lambda s, h, e=None: captured.update(status=s))
        )
        return captured["status"], body

    plain = make_pylons_app()
    assert fetch(plain, Request.blank("/_test_vars").environ)[0].startswith("404")

    webtest_environ = Request.blank("/_test_vars").environ
    webtest_environ["paste.testing_variables"] = {}
    status, body = fetch(plain, webtest_environ)
    assert status == "200 OK" and body.isdigit()
    assert webtest_environ["paste.testing_variables"]["config"] is plain.config

    configured = make_pylons_app()
    configured.config["testing"] = "true"
    assert fetch(configured, Request.blank("/_test_vars").environ)[1].isdigit()
