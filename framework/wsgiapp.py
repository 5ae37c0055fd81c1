"""PylonsApp: the innermost WSGI application, which finds a controller and calls it.

Its ``__call__`` is the seeds' step 10: ``setup_app_env``, ``resolve``, ``dispatch``.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import TYPE_CHECKING, Any

import paste.registry
from paste.deploy.converters import asbool
from webob import Request, Response
from webob.exc import HTTPNotFound

import framework
from framework.context import ContextObj, PylonsContext

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

# A controller name comes from the URL when a route has a {controller} part, and it
# becomes an import path: allow only dotted-free identifiers separated by "/".
_CONTROLLER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")

TEST_VARS_PATH = "/_test_vars"


def class_name_from_module_name(module_name: str) -> str:
    """``"main"`` -> ``"Main"``, ``"user_admin"`` -> ``"UserAdmin"``."""
    return "".join(part.capitalize() for part in module_name.split("_") if part)


class PylonsApp:
    """The application object ``make_app`` wraps in middleware."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        # Pylons falls back to the process-wide config; so do we, for code that
        # builds a PylonsApp inside a request.
        self.config = config if config is not None else framework.config._current_obj()
        self.package_name: str = self.config["pylons.package"]
        self.globals = self.config.get("pylons.app_globals")
        self.environ_config: dict[str, str] = self.config["pylons.environ_config"]
        self.response_options: dict[str, Any] = self.config["pylons.response_options"]
        self.controller_classes: dict[str, type | None] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.setup_app_env(environ, start_response)
        controller = self.resolve(environ, start_response)
        return self.dispatch(controller, environ, start_response)

    def setup_app_env(self, environ: WSGIEnvironment, start_response: StartResponse) -> None:
        """Build this request's objects and register them on the special globals."""
        pylons_obj = PylonsContext()
        pylons_obj.config = self.config
        pylons_obj.app_globals = self.globals
        pylons_obj.request = Request(environ)
        pylons_obj.response = self._new_response()
        pylons_obj.tmpl_context = ContextObj()
        environ["pylons.pylons"] = pylons_obj
        environ["pylons.environ_config"] = self.environ_config

        registry = environ.get("paste.registry")
        if registry is None:
            # Without RegistryManager the proxies stay empty; controllers still work
            # through environ['pylons.pylons'].
            log.debug("no paste.registry in environ: special globals not registered")
        else:
            registry.register(framework.config, self.config)
            registry.register(framework.app_globals, self.globals)
            registry.register(framework.request, pylons_obj.request)
            registry.register(framework.response, pylons_obj.response)
            registry.register(framework.tmpl_context, pylons_obj.tmpl_context)

        # Cache, session and url exist only when their provider is in the stack.
        app_cache = getattr(self.globals, "cache", None)
        if app_cache is not None:
            pylons_obj.cache = app_cache
            if registry is not None:
                registry.register(framework.cache, app_cache)
        session = environ.get(self.environ_config.get("session", "beaker.session"))
        if session is not None:
            pylons_obj.session = session
            if registry is not None:
                registry.register(framework.session, session)
        url = environ.get("routes.url")
        if url is not None:
            pylons_obj.url = url
            if registry is not None:
                registry.register(framework.url, url)

        if "paste.testing_variables" in environ:
            self.load_test_env(environ)

    def _new_response(self) -> Response:
        options = self.response_options
        response = Response(content_type=options["content_type"], charset=options["charset"])
        for name, value in options.get("headers", {}).items():
            response.headers[name] = value
        return response

    def load_test_env(self, environ: WSGIEnvironment) -> None:
        """Hand this request's objects to WebTest, which sets them on its response."""
        test_vars = environ["paste.testing_variables"]
        pylons_obj: PylonsContext = environ["pylons.pylons"]
        test_vars["req"] = pylons_obj.request
        test_vars["response"] = pylons_obj.response
        test_vars["tmpl_context"] = pylons_obj.tmpl_context
        test_vars["app_globals"] = pylons_obj.app_globals
        test_vars["config"] = self.config
        if hasattr(pylons_obj, "session"):
            test_vars["session"] = pylons_obj.session

    def resolve(self, environ: WSGIEnvironment, start_response: StartResponse) -> type | None:
        """Return the controller class the route chose, or None when there is none."""
        routing_args = environ.get("wsgiorg.routing_args")
        match: dict[str, Any] = routing_args[1] if routing_args else {}
        environ["pylons.routes_dict"] = match
        controller_name = match.get("controller")
        if not controller_name:
            return None
        return self.find_controller(controller_name)

    def find_controller(self, controller_name: str) -> type | None:
        """Import ``<package>.controllers.<name>`` and return its ``<Name>Controller``."""
        if controller_name in self.controller_classes:
            return self.controller_classes[controller_name]
        controller_class = self._import_controller(controller_name)
        self.controller_classes[controller_name] = controller_class
        return controller_class

    def _import_controller(self, controller_name: str) -> type | None:
        if not _CONTROLLER_NAME.match(controller_name):
            log.debug("refusing controller name %r", controller_name)
            return None
        module_name = f"{self.package_name}.controllers.{controller_name.replace('/', '.')}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only a missing controller module means "no such controller"; a
            # broken import inside an existing controller must surface.
            missing = exc.name or ""
            if module_name == missing or module_name.startswith(missing + "."):
                log.debug("no controller module %s", module_name)
                return None
            raise
        class_name = class_name_from_module_name(controller_name.split("/")[-1]) + "Controller"
        controller_class = getattr(module, class_name, None)
        if controller_class is None:
            log.debug("module %s has no class %s", module_name, class_name)
        return controller_class

    def dispatch(
        self, controller: type | None, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Instantiate the controller and call it as a WSGI application.

        No controller means 404. In testing mode (WebTest's ``paste.testing_variables``
        in the environ, or ``testing = true`` in the config) the special URL
        ``/_test_vars`` answers with a request id instead; see ``_test_vars_response``.
        """
        if environ.get("PATH_INFO") == TEST_VARS_PATH and self._testing(environ):
            return self._test_vars_response(environ, start_response)
        if controller is None:
            log.debug("no controller for %s", environ.get("PATH_INFO"))
            return HTTPNotFound()(environ, start_response)
        instance = controller()
        instance._py_object = environ["pylons.pylons"]
        environ["pylons.controller"] = instance
        return instance(environ, start_response)

    def _testing(self, environ: WSGIEnvironment) -> bool:
        return "paste.testing_variables" in environ or asbool(self.config.get("testing", False))

    def _test_vars_response(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        # Keep this request's registered objects after RegistryManager pops them, so a
        # test can call restorer.restoration_begin(id) and use the special globals
        # outside any request, as Pylons' nose plugin did.
        paste.registry.restorer.save_registry_state(environ)
        request_id = paste.registry.restorer.get_request_id(environ)
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [str(request_id).encode("ascii")]
