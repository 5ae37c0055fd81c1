"""``make_app``: the PasteDeploy app factory that builds the WSGI stack around PylonsApp.

Layers are added inner to outer; a request meets them in the reverse order
(Cascade first, PylonsApp last), as the seeds' "Anatomy of a request" lists them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from beaker.middleware import SessionMiddleware
from paste.cascade import Cascade
from paste.deploy.converters import asbool
from paste.registry import RegistryManager
from paste.urlparser import StaticURLParser
from routes.middleware import RoutesMiddleware

from framework.middleware import ErrorHandler, StatusCodeRedirect
from framework.wsgiapp import PylonsApp
from sample_app.config.environment import load_environment


def make_app(
    global_conf: Mapping[str, Any],
    full_stack: bool | str = True,
    static_files: bool | str = True,
    **app_conf: Any,
) -> Any:
    """Create the Pylons-style application with all its middleware.

    ``global_conf`` is the ini file's [DEFAULT] section and ``app_conf`` its
    [app:main] section. ``full_stack = false`` leaves out the error-handling layers
    (for embedding in a larger WSGI application); ``static_files = false`` leaves
    serving ``public/`` to the web server in front.
    """
    config = load_environment(global_conf, app_conf)

    # The Pylons WSGI app
    app: Any = PylonsApp(config=config)

    # Routing/Session Middleware
    app = RoutesMiddleware(app, config["routes.map"], singleton=False)
    app = SessionMiddleware(app, config)

    # CUSTOM MIDDLEWARE HERE (filtered by error handling middlewares)
    for factory in custom_middleware_factories(config.get("custom_middleware", "")):
        app = factory(app, config)

    if asbool(full_stack):
        # Handle Python exceptions
        app = ErrorHandler(app, global_conf, **config["pylons.errorware"])

        # Display error documents for 400, 401, 403, 404 status codes (and
        # 500 when debug is disabled)
        if asbool(config["debug"]):
            app = StatusCodeRedirect(app)
        else:
            app = StatusCodeRedirect(app, [400, 401, 403, 404, 500])

    # Establish the Registry for this application
    app = RegistryManager(app)

    if asbool(static_files):
        # Serve static files
        static_app = StaticURLParser(config["pylons.paths"]["static_files"])
        app = Cascade([static_app, app])

    app.config = config
    return app


def custom_middleware_factories(spec: str) -> list[Callable[[Any, Any], Any]]:
    """Resolve ``custom_middleware``: whitespace-separated ``module:callable`` names.

    Each callable is applied as ``factory(app, config)``, first name innermost. The
    setting is read from the merged config, so it may come from [app:main], from
    [DEFAULT] or from ``loadapp(..., global_conf={...})``.
    """
    factories = []
    for item in spec.split():
        module_name, sep, attr_path = item.partition(":")
        if not sep or not module_name or not attr_path:
            raise ValueError(f"custom_middleware entry {item!r} is not 'module:callable'")
        obj: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            obj = getattr(obj, attr)
        factories.append(obj)
    return factories
