"""The sandbox's fault plan: the everyday failures of the real sites, injected on purpose, reproducibly.

A `FaultPlan` (world.options.faults) says how often each fault happens; one aiohttp middleware per site
(`install`, called by server.py) injects them, and `world.fault_counts` counts what was injected.

Faults (each a share 0..1 of the requests it applies to, with an optional `max` count and `sites`):
  page_5xx          a page load (a navigation: GET or form POST accepting text/html, not API, not static)
                    answers 503 with the site's "Service Unavailable" page, before the handler runs
  slow              a response (any request) is delayed by `slow_ms`
  session_expiry    an authenticated page load (GET) on tfc / aex (/ vssps) finds its session expired: the
                    session is dropped server-side (on aex/vssps the Microsoft sign-in session of the user
                    too), so the site sends the browser to its sign-in, as for a real expiry
  second_totp       Terraform Cloud asks a signed-in user for the two-factor code again ("sudo mode"): the
                    page load (GET) redirects to /session/two-factor?return_to=...; a valid code returns there
  api_429           a Terraform Cloud /api/v2 request answers 429 with the real rate-limit body
  token_5xx         POST /oauth2/token (vssps) answers 500 {"Error": "server_error", ...}
  connection_reset  a request's connection is reset without any response (Chromium: ERR_CONNECTION_RESET),
                    before the handler runs; the browser's silent retry of that request is reset too
  revert_callback_once  (a switch, not a share) see ado_oauth.py
page_5xx, slow and connection_reset also apply to HCP's sign-in site when named (`sites: [hcp]`); by
default they leave it alone (the sites above were the plan's whole world before HCP-linked sign-in).
Likewise, only when named: the Entra admin center (`entra`: page_5xx on a page load, slow, connection_reset),
Microsoft Graph (`graph`: page_5xx answers any request 503 serviceNotAvailable, api_429 429 TooManyRequests,
both in Graph's error shape with Retry-After) and the token endpoint programs use (`authority`: page_5xx and
token_5xx answer 503 AADSTS90033 in the identity platform's shape).

Every fault answers before the site's handler runs (session_expiry and second_totp change only the session),
so a faulted request never leaves the sandbox's own state half-done. Decisions come from one
random.Random per fault kind seeded from the plan's `seed` (default: the sandbox seed): the same
requests in the same order meet the same faults.

YAML (a mapping; it may also sit under a top-level `faults:` key):
    seed: 7                         # optional, default the sandbox's seed
    slow_ms: 800                    # delay of a `slow` response, default 1500
    page_5xx: 0.1                   # a share ...
    token_5xx: {share: 1.0, max: 1} # ... or a mapping: share, max (at most this many), sites
    session_expiry: {share: 0.05, sites: [tfc]}
    revert_callback_once: true
Flags: `kind=SHARE[:MAX]`, `slow_ms=N`, `seed=N`, `revert_callback_once[=true]` (FaultPlan.from_flags).
"""
from __future__ import annotations

import asyncio
import collections
import json
import random
import socket
import struct
import time
import uuid
from dataclasses import dataclass, field, fields
from urllib.parse import urlencode

from aiohttp import web

from robot.errors import BadInput

from . import ado_oauth, ado_session, authority, graph, tfc_common
from .tfc_api import JSONAPI, RATE_LIMITED

SITES = ("login", "aex", "vssps", "tfc")  # where the faults apply by default
ALL_SITES = (*SITES, "hcp", "entra", "graph", "authority")  # these four only when a fault names them
API_SITES = ("graph", "authority")  # every request is an API call: page_5xx answers them all, in their shape
KINDS = ("page_5xx", "slow", "session_expiry", "second_totp", "api_429", "token_5xx", "connection_reset")
SWITCHES = ("revert_callback_once",)
SETTINGS = ("seed", "slow_ms")
KEYS = KINDS + SWITCHES + SETTINGS
FAULT_KEYS = ("share", "max", "sites")
# where each fault can happen (the default `sites`)
ALLOWED_SITES = {
    "page_5xx": ALL_SITES,
    "slow": ALL_SITES,
    "session_expiry": ("tfc", "aex", "vssps"),
    "second_totp": ("tfc",),
    "api_429": ("tfc", "graph"),
    "token_5xx": ("vssps", "authority"),
    "connection_reset": ALL_SITES,
}
DEFAULT_SITES = {**ALLOWED_SITES, "page_5xx": SITES, "slow": SITES, "connection_reset": SITES,
                 "session_expiry": ("tfc", "aex"), "api_429": ("tfc",), "token_5xx": ("vssps",)}
DEFAULT_SLOW_MS = 1500
MAX_SLOW_MS = 120_000
RETRY_ECHO_S = 0.2  # Chromium resends a request once, at once, when a reused keep-alive connection breaks
STATIC_SUFFIXES = (".css", ".js", ".png", ".jpg", ".svg", ".ico", ".woff", ".woff2", ".map")
FAULT_HEADER = "X-Sandbox-Fault"  # on every fault response, for people reading traces (not for the robot)

TOKEN_ERROR = {"Error": "server_error",
               "ErrorDescription": "The server encountered an unexpected condition that prevented it from "
                                   "fulfilling the request. Please try again later."}


def _fail(message: str, source: str = "") -> BadInput:
    return BadInput(f"{source + ': ' if source else ''}fault plan: {message}")


@dataclass
class Fault:
    """How often one fault happens: `share` of the requests it applies to, at most `max` times, on `sites`."""
    share: float = 0.0
    max: int | None = None
    sites: tuple[str, ...] | None = None  # None: DEFAULT_SITES of the kind

    @property
    def active(self) -> bool:
        return self.share > 0 and self.max != 0


def _check_share(kind: str, value, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{kind} must be a share from 0 to 1 (e.g. {kind}: 0.1) or a mapping with share, max, "
                    f"sites; got {value!r}", source)
    if not 0 <= value <= 1:
        raise _fail(f"{kind} share {value!r} is out of range: give a probability from 0 to 1 (e.g. 0.1)", source)
    return float(value)


def _check_count(name: str, value, source: str, high: int | None = None, what: str = "a whole number") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (high is not None and value > high):
        limit = f" from 0 to {high}" if high is not None else " >= 0"
        raise _fail(f"{name} must be {what}{limit}; got {value!r}", source)
    return value


def _parse_fault(kind: str, value, source: str) -> Fault:
    if isinstance(value, Fault):
        value = {"share": value.share, "max": value.max, "sites": value.sites}
    if value is None:
        return Fault()
    if not isinstance(value, dict):
        return Fault(_check_share(kind, value, source))
    unknown = sorted(str(k) for k in value if k not in FAULT_KEYS)
    if unknown:
        raise _fail(f'unknown key "{kind}.{unknown[0]}" (known: {", ".join(FAULT_KEYS)}); fix the spelling or '
                    f"remove it", source)
    if "share" not in value:
        raise _fail(f"{kind} needs a share: add share: <0..1> (e.g. {{share: 1.0, max: 1}})", source)
    share = _check_share(kind, value["share"], source)
    limit = value.get("max")
    if limit is not None:
        limit = _check_count(f"{kind}.max", limit, source, what="a whole number of times")
    sites = value.get("sites")
    if sites is not None:
        if isinstance(sites, str):
            sites = [sites]
        if not isinstance(sites, (list, tuple)) or not sites:
            raise _fail(f"{kind}.sites must be a list of sites among {', '.join(ALLOWED_SITES[kind])}; "
                        f"got {sites!r}", source)
        for site in sites:
            if site not in ALLOWED_SITES[kind]:
                raise _fail(f'{kind}.sites has "{site}", where this fault cannot happen; use sites among '
                            f'{", ".join(ALLOWED_SITES[kind])}', source)
        sites = tuple(sites)
    return Fault(share, limit, sites)


@dataclass
class FaultPlan:
    """The faults of one sandbox. Also reads and writes like the dict it replaces (`plan["key"]`, get, pop)."""
    page_5xx: Fault = field(default_factory=Fault)
    slow: Fault = field(default_factory=Fault)
    session_expiry: Fault = field(default_factory=Fault)
    second_totp: Fault = field(default_factory=Fault)
    api_429: Fault = field(default_factory=Fault)
    token_5xx: Fault = field(default_factory=Fault)
    connection_reset: Fault = field(default_factory=Fault)
    slow_ms: int = DEFAULT_SLOW_MS
    seed: int | None = None  # None: the sandbox's seed
    revert_callback_once: bool = False

    # building -------------------------------------------------------------
    @classmethod
    def from_dict(cls, data, source: str = "") -> FaultPlan:
        if data is None:
            return cls()
        if isinstance(data, FaultPlan):
            return data
        if not isinstance(data, dict):
            raise _fail(f"the plan must be a mapping of fault names to shares (e.g. page_5xx: 0.1); "
                        f"got {type(data).__name__}", source)
        if set(data) == {"faults"}:
            return cls.from_dict(data["faults"], source)
        plan = cls()
        for key, value in data.items():
            plan._set(key, value, source)
        return plan


    @classmethod
    def from_flags(cls, flags, base: FaultPlan | None = None) -> FaultPlan:
        """`["page_5xx=0.1", "token_5xx=1:1", "slow_ms=500", "revert_callback_once"]`, over `base`."""
        plan = cls.from_dict(base.to_dict()) if base is not None else cls()
        for flag in flags or ():
            name, sep, raw = str(flag).partition("=")
            name = name.strip()
            source = f"--fault {flag}"
            value: object
            if name in SWITCHES:
                value = (raw.strip().lower() not in ("0", "false", "no", "off")) if sep else True
            elif name in SETTINGS:
                value = _int_or_text(raw.strip())
            elif name in KINDS:
                share, colon, limit = raw.partition(":")
                value = {"share": _number_or_text(share.strip())}
                if colon:
                    value["max"] = _int_or_text(limit.strip())
            else:
                value = None
            if name in KINDS and not sep:
                raise _fail(f'{name} needs a share: write {name}=0.1 (or {name}=1:2 for "exactly 2 times")', source)
            plan._set(name, value, source)
        return plan

    @classmethod
    def coerce(cls, value) -> FaultPlan:
        return value if isinstance(value, FaultPlan) else cls.from_dict(value or {})

    def _set(self, key, value, source: str = "") -> None:
        if key not in KEYS:
            raise _fail(f'unknown key "{key}" (known: {", ".join(sorted(KEYS))}); fix the spelling or remove it',
                        source)
        if key in KINDS:
            setattr(self, key, _parse_fault(key, value, source))
        elif key in SWITCHES:
            if not isinstance(value, bool):
                raise _fail(f"{key} must be true or false; got {value!r}", source)
            setattr(self, key, value)
        elif key == "slow_ms":
            self.slow_ms = _check_count("slow_ms", value, source, MAX_SLOW_MS, "a whole number of milliseconds")
        elif key == "seed":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise _fail(f"seed must be a whole number; got {value!r}", source)
            self.seed = value

    def to_dict(self) -> dict:
        out: dict = {}
        for kind in KINDS:
            f = self.fault(kind)
            if f.share or f.max is not None or f.sites:
                entry: dict = {"share": f.share}
                if f.max is not None:
                    entry["max"] = f.max
                if f.sites:
                    entry["sites"] = list(f.sites)
                out[kind] = entry
        if self.slow_ms != DEFAULT_SLOW_MS:
            out["slow_ms"] = self.slow_ms
        if self.seed is not None:
            out["seed"] = self.seed
        for key in SWITCHES:
            if getattr(self, key):
                out[key] = True
        return out

    # reading ----------------------------------------------------------------
    def fault(self, kind: str) -> Fault:
        return getattr(self, kind)

    def sites_of(self, kind: str) -> tuple[str, ...]:
        return self.fault(kind).sites or DEFAULT_SITES[kind]

    def __bool__(self) -> bool:
        return any(self.fault(k).active for k in KINDS) or any(getattr(self, k) for k in SWITCHES)

    # the dict it replaces (ado_oauth, tests: faults["revert_callback_once"] = True) ---------------
    def __getitem__(self, key):
        if key not in KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value) -> None:
        self._set(key, value)

    def __contains__(self, key) -> bool:
        return key in KEYS and bool(self.fault(key).active if key in KINDS else getattr(self, key))

    def get(self, key, default=None):
        return getattr(self, key) if key in self else default

    def pop(self, key, *default):
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = getattr(self, key)
        setattr(self, key, next(f for f in fields(self) if f.name == key).default_factory()
                if key in KINDS else (DEFAULT_SLOW_MS if key == "slow_ms" else (None if key == "seed" else False)))
        return value


def _number_or_text(raw: str):
    try:
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        return raw


def _int_or_text(raw: str):
    try:
        return int(raw)
    except ValueError:
        return raw


# injecting ------------------------------------------------------------------
class FaultInjector:
    """Decides, counts and remembers the faults of one world (world.fault_injector)."""

    def __init__(self, world):
        self.world = world
        self.counts: collections.Counter = world.fault_counts
        self._rngs: dict[tuple, random.Random] = {}
        self._echo: dict[tuple, float] = {}  # (method, path_qs) of a reset -> until when its retry is reset too

    def plan(self) -> FaultPlan:
        options = self.world.options
        if not isinstance(options.faults, FaultPlan):
            options.faults = FaultPlan.coerce(options.faults)
        return options.faults

    def _rng(self, plan: FaultPlan, kind: str) -> random.Random:
        seed = plan.seed if plan.seed is not None else self.world.options.seed
        key = (seed, kind)
        if key not in self._rngs:
            self._rngs[key] = random.Random(f"faults-{seed}-{kind}")
        return self._rngs[key]

    def fire(self, kind: str, site: str) -> bool:
        """True when `kind` happens now on `site` (and counts it)."""
        plan = self.plan()
        fault = plan.fault(kind)
        if not fault.active or site not in plan.sites_of(kind):
            return False
        with self.world.lock:
            if fault.max is not None and self.counts[kind] >= fault.max:
                return False
            if fault.share < 1 and self._rng(plan, kind).random() >= fault.share:
                return False
            self.counts[kind] += 1
            return True

    def count(self, kind: str) -> None:
        with self.world.lock:
            self.counts[kind] += 1

    def remember_reset(self, key: tuple) -> None:
        with self.world.lock:
            self._echo[key] = time.monotonic() + RETRY_ECHO_S

    def is_retry_of_reset(self, key: tuple) -> bool:
        with self.world.lock:
            until = self._echo.pop(key, None)
            now = time.monotonic()
            for k in [k for k, t in self._echo.items() if t < now]:
                del self._echo[k]
            return until is not None and until >= now


# which requests -------------------------------------------------------------
def is_api(site: str, request: web.Request) -> bool:
    path = request.path
    return (site == "tfc" and path.startswith("/api/")) or (site == "vssps" and path.startswith("/_apis/")) or (
        site in API_SITES)


def is_token(site: str, request: web.Request) -> bool:
    if site == "authority":
        return request.method == "POST" and request.path.endswith("/oauth2/v2.0/token")
    return site == "vssps" and request.method == "POST" and request.path == "/oauth2/token"


def is_page_load(site: str, request: web.Request) -> bool:
    """A navigation of a browser: GET, or a form POST, accepting text/html; not the API nor static files."""
    if request.method not in ("GET", "POST") or "text/html" not in request.headers.get("Accept", ""):
        return False
    if is_api(site, request) or is_token(site, request):
        return False
    path = request.path.lower()
    return "/static/" not in path and not path.endswith(STATIC_SUFFIXES)


# what the faults answer -----------------------------------------------------
_ERROR_PAGES = {
    "tfc": ("Service Unavailable | Terraform Cloud", "We're sorry, but something went wrong.",
            "Terraform Cloud is temporarily unavailable (503 Service Unavailable). We've been notified about "
            "this issue and we'll take a look at it shortly. Please try again in a few minutes."),
    "aex": ("Azure DevOps Services | Service Unavailable", "Service Unavailable",
            "We're sorry, something went wrong. Azure DevOps is temporarily unavailable; please try again later."),
    "vssps": ("Azure DevOps Services | Service Unavailable", "Service Unavailable",
              "We're sorry, something went wrong. Azure DevOps is temporarily unavailable; please try again later."),
    "login": ("Sign in to your account", "Service Unavailable",
              "We're sorry, something went wrong. AADSTS90033: A transient error has occurred. Please try again."),
    "hcp": ("Sign in | HCP", "Service Unavailable",
            "HashiCorp Cloud Platform is temporarily unavailable (503 Service Unavailable). Please try again later."),
    "entra": ("Microsoft Entra admin center", "Service Unavailable",
              "We're sorry, something went wrong. The Microsoft Entra admin center is temporarily unavailable; "
              "please try again later."),
}


def api_fault(site: str, request: web.Request, kind: str) -> web.Response:
    """An injected fault on a site programs call (graph, authority), in that site's own error shape."""
    if site == "graph":
        return graph.fault_response(request, kind, FAULT_HEADER)
    return authority.aad_error(90033, status=503, headers={"Retry-After": "2", FAULT_HEADER: kind})


def error_page(site: str) -> web.Response:
    title, heading, message = _ERROR_PAGES[site]
    activity = uuid.uuid4()
    html = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>"
            f"<body><main class=\"error-page\" role=\"main\"><h1>{heading}</h1><p>{message}</p>"
            f"<p class=\"error-details\">HTTP 503 Service Unavailable. Activity ID: {activity}</p>"
            "</main></body></html>")
    return web.Response(text=html, status=503, content_type="text/html",
                        headers={FAULT_HEADER: "page_5xx", "Cache-Control": "no-store"})


def _reset(request: web.Request) -> None:
    """Closes the connection with a TCP RST: no response at all."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    raise asyncio.CancelledError()  # aiohttp drops the request quietly


# site-specific hooks --------------------------------------------------------
def _site_cookie(site: str) -> str:
    return {"tfc": tfc_common.COOKIE, "aex": ado_session.COOKIE, "vssps": ado_oauth.COOKIE}.get(site, "")


def _signed_in(site: str, world, request: web.Request) -> bool:
    """True for a page load of a signed-in user (only those can meet an expiry)."""
    value = request.cookies.get(_site_cookie(site)) if site in ("tfc", "aex", "vssps") else None
    if not value:
        return False
    if site == "tfc":
        session = world.tfc.session(value)
        return bool(session and session.stage == "signed-in" and not request.path.startswith("/session"))
    return world.azure.site_user(site, value) is not None


def _expire_session(site: str, world, request: web.Request) -> None:
    """Drops the session of this page load server-side, as a real expiry would."""
    value = request.cookies.get(_site_cookie(site), "")
    if site == "tfc":
        world.tfc.end_session(value)
        return
    azure = world.azure
    with azure.lock:
        user = azure.site_sessions[site].pop(value, None)
        for sso, owner in list(azure.sso_sessions.items()):  # the Microsoft sign-in expired as well
            if owner == user:
                del azure.sso_sessions[sso]


def _second_totp_target(world, request: web.Request):
    """The signed-in TFC session of this page load, or None when a second code cannot be asked."""
    session = world.tfc.session(request.cookies.get(_site_cookie("tfc")))
    if not session or session.stage != "signed-in" or request.path.startswith("/session"):
        return None
    return session


# the middleware -------------------------------------------------------------
def middleware(world, site: str):
    injector: FaultInjector = world.fault_injector

    @web.middleware
    async def faults(request: web.Request, handler):
        plan = injector.plan()
        if not plan:
            return await handler(request)
        page = is_page_load(site, request)
        key = (site, request.method, request.path_qs)
        if injector.is_retry_of_reset(key):  # the browser's silent resend of a reset request: reset it too, once
            _reset(request)
        if injector.fire("connection_reset", site):
            injector.remember_reset(key)
            _reset(request)
        if injector.fire("slow", site):
            await asyncio.sleep(plan.slow_ms / 1000)
        if page and injector.fire("page_5xx", site):
            return error_page(site)
        if site in API_SITES and injector.fire("page_5xx", site):
            return api_fault(site, request, "page_5xx")
        if is_api(site, request) and site == "tfc" and injector.fire("api_429", site):
            return web.Response(text=json.dumps(RATE_LIMITED), status=429, content_type=JSONAPI,
                                headers={FAULT_HEADER: "api_429"})
        if site == "graph" and injector.fire("api_429", site):
            return api_fault(site, request, "api_429")
        if is_token(site, request) and injector.fire("token_5xx", site):
            if site == "authority":
                return api_fault(site, request, "token_5xx")
            return web.json_response(TOKEN_ERROR, status=500, headers={FAULT_HEADER: "token_5xx"})
        if page and request.method == "GET":
            if _signed_in(site, world, request) and injector.fire("session_expiry", site):
                _expire_session(site, world, request)
            if site == "tfc" and plan.second_totp.active:
                session = _second_totp_target(world, request)
                if session is not None and injector.fire("second_totp", site):
                    with world.lock:
                        session.reverify, session.return_to = True, request.path_qs
                    location = "/session/two-factor?" + urlencode({"return_to": request.path_qs})
                    return web.Response(status=302, headers={"Location": location, FAULT_HEADER: "second_totp"})
        return await handler(request)

    return faults


def install(app: web.Application, world, site: str) -> None:
    """Puts the fault middleware first (outermost) on a site's app; call before the app is frozen."""
    app.middlewares.insert(0, middleware(world, site))
