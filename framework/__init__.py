"""A port of the Pylons 1.0 request architecture onto Paste, WebOb, Routes, Beaker and Mako.

The names below are the Pylons "special globals": StackedObjectProxies that stand
for a different object in every request. ``PylonsApp.setup_app_env`` registers the
real objects through ``environ['paste.registry']``; ``RegistryManager`` pops them
again when the request's WSGI call returns. Application code imports them from here
the way Pylons code imported them from ``pylons``.
"""

from paste.registry import StackedObjectProxy

config = StackedObjectProxy(name="config")
app_globals = StackedObjectProxy(name="app_globals")
cache = StackedObjectProxy(name="cache")
request = StackedObjectProxy(name="request")
response = StackedObjectProxy(name="response")
session = StackedObjectProxy(name="session")
tmpl_context = StackedObjectProxy(name="tmpl_context")
url = StackedObjectProxy(name="url")

__all__ = [
    "app_globals",
    "cache",
    "config",
    "request",
    "response",
    "session",
    "tmpl_context",
    "url",
]
