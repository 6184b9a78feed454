"""HCP's state in the sandbox (`world.hcp`): sign-in requests in progress and the one-time codes that take
a signed-in HCP user back to Terraform Cloud. HCP's users are Terraform Cloud's (an HCP-linked account:
the same user name or email, password and TOTP secret), so passwords and codes are checked by `world.tfc`.

Mutations take `world.lock` (the sites run in a background thread; tests read from the main one).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

# sign-in switches (world.options.sign_in): the TFC account is HCP-linked (its own form refuses it), HCP signs
# it in only through its organization's SSO, HCP-made TFC sessions idle out after hcp_idle_s (hcp.py, tfc.py)
SWITCHES = ("hcp", "hcp-sso", "hcp-stale")
TFC_CLIENT_ID = "terraform-cloud"  # the one application that signs in through this HCP replica
CODE_TTL = 300  # seconds a code for Terraform Cloud stays valid
LOGIN_TTL = 1800  # seconds a sign-in request stays usable


@dataclass
class Login:
    """One sign-in at HCP: where it returns to, and how far it got."""
    id: str
    redirect_uri: str
    state: str
    created_at: float
    stage: str = "email"  # email -> password -> two-factor (or sso) -> done
    email: str = ""  # as typed
    username: str | None = None  # the user it names, when there is one


class HcpState:
    def __init__(self, world):
        self.world = world
        self.lock = world.lock
        self.logins: dict[str, Login] = {}
        self.codes: dict[str, tuple[str, str, float]] = {}  # code -> (user name, redirect_uri, expiry)
        self.idp_visits = 0  # "Continue with SSO" followed to the organization's identity provider

    def clock(self) -> float:
        return self.world.tfc.clock()

    def new_login(self, redirect_uri: str, state: str) -> Login:
        with self.lock:
            login = Login(secrets.token_urlsafe(24), redirect_uri, state, self.clock())
            self.logins[login.id] = login
            return login

    def login(self, login_id: str | None) -> Login | None:
        with self.lock:
            login = self.logins.get(login_id or "")
            if login and self.clock() - login.created_at > LOGIN_TTL:
                del self.logins[login.id]
                return None
            return login

    def finish(self, login: Login) -> str:
        """Ends a completed sign-in: the code Terraform Cloud redeems (counted in world.sign_ins["hcp"])."""
        assert login.username is not None  # only a user who gave the password and a code gets here
        with self.lock:
            self.logins.pop(login.id, None)
            login.stage = "done"
            code = secrets.token_urlsafe(32)
            self.codes[code] = (login.username, login.redirect_uri, self.clock() + CODE_TTL)
            self.world.sign_ins["hcp"] += 1
            return code

    def redeem(self, code: str, redirect_uri: str) -> str | None:
        """For the Terraform Cloud replica: a code -> the user name, once, for the redirect_uri it was made for."""
        with self.lock:
            entry = self.codes.pop(code or "", None)
        if not entry:
            return None
        username, uri, expiry = entry
        return username if uri == redirect_uri and self.clock() <= expiry else None
