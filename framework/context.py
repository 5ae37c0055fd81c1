"""The per-request objects that are not WebOb's: the template context and the bundle
that carries every request-local object to the controller without going through a proxy.
"""

from __future__ import annotations

from typing import Any


class ContextObj:
    """``tmpl_context`` (``c`` in templates): a bag of attributes for one request.

    Strict, as Pylons 1.0 made it by default: reading a missing attribute raises
    AttributeError, so a typo in a template fails loudly instead of printing nothing.
    """

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in sorted(vars(self).items()))
        return f"<{type(self).__name__} {attrs}>"


class PylonsContext:
    """Everything ``setup_app_env`` registered, stored in ``environ['pylons.pylons']``.

    Controllers read from here (``self._py_object``) rather than through the
    StackedObjectProxies: it is faster, and it keeps working in code that runs after
    RegistryManager has already popped the proxies (a lazy response body, for one).
    """

    config: dict[str, Any]
    app_globals: Any
    cache: Any
    request: Any
    response: Any
    session: Any
    tmpl_context: ContextObj
    url: Any
