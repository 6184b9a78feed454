"""Checks of single values, shared by the settings and the organizations file.

Each returns the clean value or raises `Invalid(problem, fix)`; the caller turns that into a
`BadInput` naming the variable or the file, line and field. No message ever quotes a secret.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyotp

from .. import secrets as _secrets
from ..errors import BadInput
from ..secrets import Secret

ORG_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Invalid(ValueError):
    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def bad(message: str) -> BadInput:
    """A BadInput whose text is one line with every registered secret masked (belt and braces)."""
    return BadInput(_secrets.redact(" ".join(str(message).split())))


def check_url(value: str, example: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise Invalid(f'"{value}" is not a valid URL', f"use e.g. {example}") from None
    if parts.scheme not in ("http", "https"):
        raise Invalid(f'"{value}" is not an http(s) URL', f"use e.g. {example}")
    if not host:
        raise Invalid(f'"{value}" has no host name', f"use e.g. {example}")
    if parts.username is not None or parts.password is not None:
        if parts.password:
            _secrets.register(unquote(parts.password))
            _secrets.register(parts.password)
        raise Invalid("contains a user name or password",
                      "remove the user:password@ part and set the credentials separately")
    if any(ch.isspace() for ch in text):
        raise Invalid(f'"{value}" contains white space', f"use e.g. {example}")
    if parts.query or parts.fragment:
        raise Invalid(f'"{value}" has a query or fragment', f"use the base URL only, e.g. {example}")
    return text.rstrip("/")


def normalize_totp_secret(value: str) -> str:
    """The base32 key in canonical form (upper case, no spaces or padding); accepts otpauth:// URIs."""
    text = value.strip()
    if text.lower().startswith("otpauth://"):
        try:
            text = pyotp.parse_uri(text).secret
        except Exception:  # noqa: BLE001 - any parse failure is the same bad input
            raise ValueError("not a valid otpauth:// URI") from None
    key = re.sub(r"[\s-]", "", text).upper().rstrip("=")
    if len(key) < 16:
        raise ValueError("too short")
    try:
        base64.b32decode(key + "=" * (-len(key) % 8))
        pyotp.TOTP(key).at(0)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not base32") from None
    return key


def check_totp(value: str) -> Secret:
    _secrets.register(value)
    try:
        key = normalize_totp_secret(value)
    except ValueError:
        raise Invalid("is not a valid base32 TOTP secret", "copy the key shown when two-factor was set up") from None
    return Secret(key, "totp secret")


def check_password(value: str) -> Secret:
    secret = Secret(value, "password")
    if not value.strip():
        raise Invalid("is empty", "set the password")
    return secret


def check_token(value: str) -> Secret:
    secret = Secret(value.strip(), "token")
    if not value.strip() or any(ch.isspace() for ch in value.strip()):
        raise Invalid("is not a valid API token", "paste the token without spaces or line breaks")
    return secret


def check_username(value: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid("is empty", "set the user name or email")
    if any(ch.isspace() for ch in text):
        raise Invalid("contains white space", "use the user name or email exactly as you sign in")
    return text


GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_guid(value: str) -> str:
    text = value.strip()
    if not GUID_RE.match(text):
        raise Invalid(f'"{value}" is not a GUID', "copy it from the Entra admin center, e.g. "
                      "00000000-0000-0000-0000-000000000000")
    return text.lower()


def check_readable_file(value: str) -> str:
    path = Path(value.strip()).expanduser()
    if not path.is_file():
        raise Invalid(f'"{value}" is not a readable file', "point it at a PEM file of certificates, or unset it")
    return str(path)


def check_tenant(value: str) -> str:
    """A directory (tenant) ID, or its domain name (contoso.onmicrosoft.com)."""
    text = value.strip()
    if GUID_RE.match(text) or re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", text):
        return text.lower()
    raise Invalid(f'"{value}" is neither a directory (tenant) ID nor a domain name',
                  "copy the Directory (tenant) ID from the Entra admin center")


def check_day(value: str) -> dt.date:
    """A calendar day written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"is not a day ({value.strip()[:40]!r})", "write it as YYYY-MM-DD, e.g. 2026-01-15") from None
