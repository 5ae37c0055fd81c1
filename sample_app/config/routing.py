"""The URL map: which controller and action answer which path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routes import Mapper


def _default_name(environ: dict[str, Any], match: dict[str, Any]) -> bool:
    # A plain default (name="world") is impossible: "name" is Route's own keyword.
    # A condition function may add to the match dict instead, which Routes supports.
    match.setdefault("name", "world")
    return True


def make_map(config: Mapping[str, Any]) -> Mapper:
    """Create, configure and return the routes Mapper."""
    map = Mapper(directory=config["pylons.paths"]["controllers"], always_scan=config["debug"])
    map.minimization = False
    map.explicit = False

    # The ErrorController route (handles 404/500 error pages); it should
    # likely stay at the top, ensuring it can always be resolved
    map.connect("/error/{action}", controller="error")
    map.connect("/error/{action}/{id}", controller="error")

    # CUSTOM ROUTES HERE

    map.connect("home", "/", controller="main", action="index")
    map.connect("page2", "/page2", controller="main", action="page2")

    # One route per lifecycle path the tracer should be able to show.
    map.connect(
        "hello",
        "/hello",
        controller="pages",
        action="hello",
        conditions={"function": _default_name},
    )
    map.connect("/hello/{name}", controller="pages", action="hello")
    map.connect("counter", "/counter", controller="session", action="counter")
    map.connect("stream", "/stream", controller="stream", action="index")
    map.connect("hooks", "/hooks", controller="hooks", action="index")
    map.connect("redirect", "/redirect", controller="main", action="redirect")
    map.connect("fail", "/fail", controller="main", action="fail")

    map.connect("/{controller}/{action}")
    map.connect("/{controller}/{action}/{id}")

    return map
