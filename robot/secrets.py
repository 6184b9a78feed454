"""Secrets travel wrapped in `Secret`, which refuses to print itself.

Every value wrapped is registered, and `redact()` removes all registered values (and their URL-, JSON-
and HTML-encoded forms) from any text: logs, exceptions, reports and trace files go through it.
"""
from __future__ import annotations

import hmac
import html
import json
import logging
import threading
from urllib.parse import quote, quote_plus

MASK = "********"
_lock = threading.Lock()
_registered: set[str] = set()
_MIN_LEN = 4  # shorter values would redact ordinary words


def _encoded_forms(value: str) -> set[str]:
    """The value as URL (Python; a browser's form submission, which encodes "~" too; encodeURIComponent), JSON
    (traces keep non-ASCII letters as they are) and HTML (pages in traces: Python's html.escape, Jinja's
    markupsafe, attribute serialisation) encoding write it."""
    text = html.escape(value, quote=False)
    return {value, quote(value, safe=""), quote_plus(value), quote_plus(value, safe="*").replace("~", "%7E"),
            quote(value, safe="!'()*~"), json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
            text, html.escape(value), text.replace('"', "&#34;").replace("'", "&#39;"),
            value.replace("&", "&amp;").replace('"', "&quot;")}


def register(value: str) -> None:
    """Remembers a secret value so that `redact` removes it everywhere."""
    if value and len(value) >= _MIN_LEN:
        with _lock:
            _registered.update(_encoded_forms(value))


def redact(text: str) -> str:
    """Returns `text` with every registered secret value replaced by a mask."""
    if not text:
        return text
    with _lock:
        values = sorted(_registered, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def registered_values() -> list[str]:
    with _lock:
        return sorted(_registered)


class Secret:
    """A secret value that does not show itself in str(), repr(), f-strings, logs or pickles."""

    __slots__ = ("_value", "name")
    _value: str
    name: str

    def __init__(self, value: str, name: str = "secret", register_value: bool = True):
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"{name}: a secret must be a string")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "name", name)
        if register_value:  # one-time values (TOTP codes) need not be redacted forever
            register(value)

    def reveal(self) -> str:
        """The value itself: call only where it is typed into a page or sent to a site."""
        return self._value

    def __setattr__(self, key, value):
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({self.name}={MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled")


class RedactingFilter(logging.Filter):
    """Logging filter that removes registered secret values from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
