"""The application's Globals object (``app_globals`` / ``g``): one per application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beaker.cache import CacheManager
from beaker.util import parse_cache_config_options


class Globals:
    """Container for objects shared by every request of the application.

    Created once by ``load_environment``; the same instance is registered as
    ``app_globals`` in every request.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.cache = CacheManager(**parse_cache_config_options(config))
        # Set by load_environment once the template directories are known.
        self.mako_lookup: Any = None
