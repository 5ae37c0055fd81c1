"""WSGIController: runs ``__before__``, the action and ``__after__``, then builds the response.

The seeds' steps 11-14. Calling the controller is a WSGI call; what the action returns
(str, bytes, a WebOb Response, an iterator of chunks, or None) is turned into the WSGI
status, headers and body by :meth:`WSGIController._wsgi_response`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from webob import Response
from webob.exc import HTTPException, HTTPNotFound

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from framework.context import PylonsContext

log = logging.getLogger(__name__)

# Arguments an action can ask for by name besides the routing variables.
_SPECIAL_ARGS = ("environ", "start_response", "pylons")

# Signatures are read once per function: _inspect_call runs up to three times a request.
_signatures: dict[Callable[..., Any], inspect.Signature] = {}


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    key = getattr(func, "__func__", func)
    try:
        return _signatures[key]
    except KeyError:
        sig = _signatures[key] = inspect.signature(func)
        return sig


def _encode_lazily(chunks: Iterable[str | bytes], charset: str) -> Iterator[bytes]:
    """Yield ``chunks`` as bytes, pulling each one only when the server asks for it."""
    try:
        for chunk in chunks:
            yield chunk.encode(charset) if isinstance(chunk, str) else chunk
    finally:
        # The server closes us; pass that on so the action's generator can clean up.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class WSGIController:
    """Base class of every controller; an instance handles exactly one request."""

    _py_object: PylonsContext
    start_response: StartResponse

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not hasattr(self, "_py_object"):
            self._py_object = environ["pylons.pylons"]
        self._start_response_called = False
        self.start_response = self._recording_start_response(start_response)

        match = self._routes_dict(environ)
        action_name = (match.get("action") or "").replace("-", "_")
        if not action_name or action_name.startswith("_"):
            # Leading underscore = private helper, never reachable from a URL.
            log.debug("refusing private or empty action %r", action_name)
            return HTTPNotFound()(environ, start_response)
        action = getattr(self, action_name, None)
        if not inspect.ismethod(action):
            log.debug("controller %s has no action %r", type(self).__name__, action_name)
            return HTTPNotFound()(environ, start_response)

        if hasattr(self, "__before__"):
            before = self._inspect_call(self.__before__)
            if isinstance(before, HTTPException):
                # abort()/redirect() in __before__ ends the request before the action.
                return self._wsgi_response(before, environ, start_response)

        result = self._inspect_call(action)

        if hasattr(self, "__after__"):
            after = self._inspect_call(self.__after__)
            if isinstance(after, HTTPException):
                result = after

        return self._wsgi_response(result, environ, start_response)

    @staticmethod
    def _routes_dict(environ: WSGIEnvironment) -> dict[str, Any]:
        if "pylons.routes_dict" in environ:
            return environ["pylons.routes_dict"]
        routing_args = environ.get("wsgiorg.routing_args")
        return routing_args[1] if routing_args else {}

    def _recording_start_response(self, start_response: StartResponse) -> StartResponse:
        # An action may act as a bare WSGI app (call start_response, return chunks);
        # _wsgi_response must then pass its result through untouched.
        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self._start_response_called = True
            return start_response(status, headers, exc_info)

        return recording

    def _get_method_args(self) -> dict[str, Any]:
        request = self._py_object.request
        kwargs = dict(self._routes_dict(request.environ))
        kwargs["environ"] = request.environ
        kwargs["start_response"] = self.start_response
        kwargs["pylons"] = self._py_object
        return kwargs

    def _inspect_call(self, func: Callable[..., Any]) -> Any:
        """Call ``func`` with the routing variables its signature names.

        A ``**kwargs`` parameter receives every routing variable not named
        explicitly. Routing variables that are passed also become attributes of
        ``tmpl_context``. An HTTPException raised by ``func`` is returned, not raised.
        """
        available = self._get_method_args()
        routing = self._routes_dict(self._py_object.request.environ)
        args: dict[str, Any] = {}
        takes_var_kwargs = False
        for name, param in _signature(func).parameters.items():
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                takes_var_kwargs = True
            elif param.kind is not inspect.Parameter.VAR_POSITIONAL and name in available:
                args[name] = available[name]
        if takes_var_kwargs:
            for name, value in routing.items():
                args.setdefault(name, value)

        if self._py_object.config.get("pylons.tmpl_context_attach_args", True):
            tmpl_context = self._py_object.tmpl_context
            for name, value in args.items():
                if name in routing and name not in _SPECIAL_ARGS:
                    setattr(tmpl_context, name, value)

        try:
            return func(**args)
        except HTTPException as exc:
            # abort() and redirect() raise; the response is the exception itself.
            self._py_object.request.environ["pylons.controller.exception"] = exc
            return exc

    def _wsgi_response(
        self, result: Any, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Turn the action's return value into the WSGI status, headers and body."""
        if self._start_response_called:
            return result

        response: Response = self._py_object.response
        if isinstance(result, HTTPException) and not isinstance(result, Response):
            result = result.wsgi_response  # a bare HTTPException carries its response
        if isinstance(result, Response):
            if result is not response:
                self._carry_global_headers(response, result)
                response = result
        elif isinstance(result, bytes):
            response.body = result
        elif isinstance(result, str):
            response.body = result.encode(response.charset or "utf-8")
        elif result is None:
            pass  # the action wrote into the global response itself
        elif isinstance(result, Iterable):
            # Keep the body lazy: the chunks are made while the server writes them,
            # after every middleware has returned.
            response.app_iter = _encode_lazily(result, response.charset or "utf-8")
        else:
            raise TypeError(
                f"action returned {type(result).__name__}; expected str, bytes, "
                "a webob Response, an iterable of chunks or None"
            )

        if "paste.testing_variables" in environ:
            environ["paste.testing_variables"]["response"] = response
        return response(environ, start_response)

    @staticmethod
    def _carry_global_headers(global_response: Response, result: Response) -> None:
        # Cookies and X- headers set on the global response (by __before__/__after__
        # or the action) must survive when the action returns its own Response.
        for name, value in global_response.headerlist:
            if name.lower() == "set-cookie" or name.lower().startswith("x-"):
                result.headers.add(name, value)
