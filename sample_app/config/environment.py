"""Build the application's configuration (the seeds' ``load_environment``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mako.lookup import TemplateLookup

import framework
import sample_app.lib.helpers
from framework.configuration import PylonsConfig
from framework.error import handle_mako_error
from sample_app.config.routing import make_map
from sample_app.lib import app_globals


def load_environment(global_conf: Mapping[str, Any], app_conf: Mapping[str, Any]) -> PylonsConfig:
    """Configure the application: paths, routes, globals, helpers and templates."""
    if not app_conf.get("cache_dir"):
        raise ValueError(
            "sample_app needs a cache_dir setting in [app:main] (e.g. cache_dir = %(here)s/data):"
            " compiled templates, sessions and caches are written there"
        )
    config = PylonsConfig()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = {
        "root": root,
        "controllers": os.path.join(root, "controllers"),
        "static_files": os.path.join(root, "public"),
        "templates": [os.path.join(root, "templates")],
    }

    config.init_app(global_conf, app_conf, package="sample_app", paths=paths)
    config["routes.map"] = make_map(config)
    config["pylons.app_globals"] = app_globals.Globals(config)
    config["pylons.h"] = sample_app.lib.helpers

    # As in Pylons: framework.cache works from startup on, in this (the loading) thread.
    # Request threads get it from PylonsApp.setup_app_env.
    framework.cache._push_object(config["pylons.app_globals"].cache)

    # Templates escape every ${expression} unless it is marked safe (markupsafe.Markup).
    config["pylons.app_globals"].mako_lookup = TemplateLookup(
        directories=paths["templates"],
        error_handler=handle_mako_error,
        module_directory=os.path.join(app_conf["cache_dir"], "templates"),
        input_encoding="utf-8",
        default_filters=["escape"],
        imports=["from markupsafe import escape"],
    )

    # CONFIGURATION OPTIONS HERE (note: all config options will override
    # any Pylons config options)

    return config
