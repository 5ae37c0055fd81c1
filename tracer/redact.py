"""Keeping secrets out of trace files.

Header values of Cookie, Authorization, Proxy-Authorization and Set-Cookie, the Beaker
session id, and query or form fields named like password/token/secret are replaced by a
marker. Every value found secret is also scrubbed from every other string of the document
(an environ repr, an exception message), so it cannot leak through a side door.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

MARKER = "[redacted]"
SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie"})
SECRET_ENVIRON_KEYS = frozenset({"HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION"})
SECRET_FIELD = re.compile(r"pass|token|secret|api[-_]?key|auth|session|csrf", re.IGNORECASE)
# Values shorter than this are too likely to occur by chance to scrub everywhere.
MIN_SCRUB_LENGTH = 4


class Redactor:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.secrets: set[str] = set()

    def remember(self, value: str | None) -> None:
        if self.enabled and value and len(value) >= MIN_SCRUB_LENGTH:
            self.secrets.add(value)

    def header(self, name: str, value: str) -> str:
        if not self.enabled or name.lower() not in SECRET_HEADERS:
            return value
        self.remember(value)
        for part in re.split(r"[;,]", value):
            _, _, cookie_value = part.partition("=")
            self.remember(cookie_value.strip().strip('"'))
        return MARKER

    def headers(self, pairs: list[tuple[str, str]]) -> list[list[str]]:
        return [[name, self.header(name, value)] for name, value in pairs]

    def query(self, query: str) -> str:
        if not self.enabled or not query:
            return query
        for field, value in parse_qsl(query, keep_blank_values=True):
            if SECRET_FIELD.search(field):
                self.remember(value)
        return query

    def environ_value(self, key: str, value: Any, show: Callable[[Any], str]) -> str:
        """``show(value)``, or the marker for a secret key; a secret string is remembered.
        Other secret values (a session object) are never shown at all."""
        if not self.enabled:
            return show(value)
        if key in SECRET_ENVIRON_KEYS or SECRET_FIELD.search(key) and "session" in key:
            if isinstance(value, str):
                self.remember(value)
            return MARKER
        return show(value)

    def scrub(self, doc: Any) -> Any:
        """Replace every remembered secret in every string of ``doc``."""
        if not self.enabled or not self.secrets:
            return doc
        return _Scrubber(self.secrets).walk(doc)


class _Scrubber:
    def __init__(self, secrets: set[str]) -> None:
        self.secrets = list(secrets)
        self._pattern: re.Pattern[str] | None = None

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            # Most strings hold no secret: look before compiling the (per-request) pattern.
            if not any(secret in value for secret in self.secrets):
                return value
            if self._pattern is None:
                # Longest first, so that a secret containing another is replaced whole.
                self._pattern = re.compile("|".join(
                    re.escape(s) for s in sorted(self.secrets, key=len, reverse=True)))
            return self._pattern.sub(MARKER, value)
        if isinstance(value, list):
            return [self.walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self.walk(v) for k, v in value.items()}
        return value
