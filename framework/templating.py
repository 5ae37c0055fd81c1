"""Rendering Mako templates with the request's objects in the template namespace."""

from __future__ import annotations

from typing import Any

import framework

# Template name -> proxy. Each proxy is optional: a template rendered outside a
# request (or without sessions) gets only what is registered.
_PROXIES = {
    "tmpl_context": framework.tmpl_context,
    "config": framework.config,
    "app_globals": framework.app_globals,
    "request": framework.request,
    "response": framework.response,
    "session": framework.session,
    "url": framework.url,
}


def template_globals() -> dict[str, Any]:
    """The names every template sees: ``c``, ``h``, ``g``, ``url``, ``request`` and friends."""
    names: dict[str, Any] = {}
    for name, proxy in _PROXIES.items():
        try:
            names[name] = proxy._current_obj()
        except TypeError:
            continue  # paste.registry raises TypeError for "nothing registered"
    if "tmpl_context" in names:
        names["c"] = names["tmpl_context"]
    if "app_globals" in names:
        names["g"] = names["app_globals"]
    if "config" in names:
        names["h"] = names["config"].get("pylons.h")
    return names


def render_mako(
    template_name: str,
    extra_vars: dict[str, Any] | None = None,
    cache_key: str | None = None,
    cache_type: str | None = None,
    cache_expire: int | None = None,
) -> str:
    """Render ``template_name`` from ``app_globals.mako_lookup`` and return the text.

    Escaping comes from the lookup (``default_filters=['escape']``). Giving any of
    ``cache_key``/``cache_type``/``cache_expire`` caches the output in the Beaker
    cache at ``app_globals.cache``.
    """

    def render() -> str:
        names = template_globals()
        names.update(extra_vars or {})
        template = framework.app_globals.mako_lookup.get_template(template_name)
        return template.render_unicode(**names)

    if cache_key is None and cache_type is None and cache_expire is None:
        return render()
    cache = framework.app_globals.cache.get_cache(
        f"framework.templating.{template_name}", type=cache_type or "memory"
    )
    return cache.get_value(
        cache_key or "default",
        createfunc=render,
        expiretime=cache_expire,
    )
