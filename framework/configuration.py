"""The application's configuration: one dict built from the ini file plus Pylons defaults."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from paste.deploy.converters import asbool

# Keys every application gets before the ini file is merged in. The ini file cannot
# override these dict-valued ones (PasteDeploy only passes strings); environment.py can.
_DEFAULTS: dict[str, Any] = {
    "debug": False,
    "pylons.package": None,
    "pylons.paths": {"root": None, "controllers": None, "templates": [], "static_files": None},
    "pylons.environ_config": {"session": "beaker.session", "cache": "beaker.cache"},
    "pylons.request_options": {"charset": "utf-8", "errors": "replace", "language": "en-us"},
    # The seed's /page2 response shows these two no-cache headers next to the
    # text/html content type: Pylons set them on every response it built.
    "pylons.response_options": {
        "content_type": "text/html",
        "charset": "utf-8",
        "headers": {"Cache-Control": "no-cache", "Pragma": "no-cache"},
    },
    "pylons.strict_tmpl_context": True,
    "pylons.tmpl_context_attach_args": True,
}


class PylonsConfig(dict):
    """A dict with the Pylons defaults, filled from the ini file by :meth:`init_app`."""

    def __init__(self) -> None:
        super().__init__(copy.deepcopy(_DEFAULTS))

    def init_app(
        self,
        global_conf: Mapping[str, Any],
        app_conf: Mapping[str, Any],
        package: str | None = None,
        paths: Mapping[str, Any] | None = None,
    ) -> None:
        """Merge ``app_conf`` over ``global_conf`` into this dict and add the Pylons keys.

        ``global_conf`` is the ini file's [DEFAULT] section, ``app_conf`` its
        [app:main] section; both stay available unmerged under their own names.
        """
        merged: dict[str, Any] = dict(global_conf)
        merged.update(app_conf)
        merged["global_conf"] = dict(global_conf)
        merged["app_conf"] = dict(app_conf)
        # PasteDeploy hands over strings: "false" must not be truthy.
        merged["debug"] = asbool(merged.get("debug", False))
        merged["pylons.package"] = package
        merged["pylons.paths"] = {**self["pylons.paths"], **(paths or {})}

        cache_dir = merged.get("cache_dir")
        if cache_dir:
            # Sessions and caches live next to the compiled templates unless the
            # ini file says otherwise, as in a generated Pylons project.
            merged.setdefault("beaker.session.data_dir", os.path.join(cache_dir, "sessions"))
            merged.setdefault("beaker.cache.data_dir", os.path.join(cache_dir, "cache"))

        merged["pylons.errorware"] = {
            "debug": merged["debug"],
            "error_email": merged.get("email_to"),
            "error_log": merged.get("error_log"),
            "smtp_server": merged.get("smtp_server", "localhost"),
            "error_subject_prefix": merged.get("error_subject_prefix", "Web Error: "),
            "from_address": merged.get("error_email_from", "pylons@yourapp.com"),
            "error_message": merged.get("error_message", "An internal server error occurred"),
        }
        self.update(merged)
