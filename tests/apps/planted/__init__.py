"""A Pylons-style test application with sleeps of known length planted at every stage
that application code owns: a custom middleware, __before__, the action, the template and
the lazy body. The accuracy test checks that the trace puts each where it belongs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from mako.lookup import TemplateLookup
from paste.registry import RegistryManager
from routes import Mapper
from routes.middleware import RoutesMiddleware

from framework.configuration import PylonsConfig
from framework.wsgiapp import PylonsApp
from sample_app.lib.app_globals import Globals

MIDDLEWARE_SLEEP = 0.030
BEFORE_SLEEP = 0.020
ACTION_SLEEP = 0.040
TEMPLATE_SLEEP = 0.025
BODY_SLEEP = 0.035


class PlantedMiddleware:
    """A custom layer that spends a known time on the way in."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        time.sleep(MIDDLEWARE_SLEEP)
        return self.app(environ, start_response)


def make_app(global_conf: Mapping[str, Any], **app_conf: Any) -> Any:
    root = os.path.dirname(os.path.abspath(__file__))
    paths = {"root": root, "controllers": os.path.join(root, "controllers"),
             "static_files": os.path.join(root, "public"),
             "templates": [os.path.join(root, "templates")]}
    config = PylonsConfig()
    config.init_app(global_conf, app_conf, package="tests.apps.planted", paths=paths)
    mapper = Mapper()
    mapper.minimization = False
    mapper.connect("sleepy", "/sleepy", controller="sleepy", action="index")
    config["routes.map"] = mapper
    config["pylons.app_globals"] = Globals(config)
    config["pylons.h"] = None
    config["pylons.app_globals"].mako_lookup = TemplateLookup(
        directories=paths["templates"], input_encoding="utf-8",
        module_directory=os.path.join(app_conf["cache_dir"], "templates"))
    app: Any = PylonsApp(config=config)
    app = RoutesMiddleware(app, mapper, singleton=False)
    app = PlantedMiddleware(app)
    return RegistryManager(app)
