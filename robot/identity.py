"""Who signs in: a user name, a password and (when two-factor is on) a source of TOTP codes."""
from __future__ import annotations

from dataclasses import dataclass, field

from .secrets import Secret
from .totp import TotpSource


@dataclass(frozen=True)
class Identity:
    username: str
    password: Secret
    totp: TotpSource | None = None
    steps: list[str] = field(default_factory=list, compare=False)  # the sign-in steps met, in order
