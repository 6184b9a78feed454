"""Settings (environment and `.env`) and the organizations file of `vcs-robot provision`.

Everything here is pure: no browser, no network. Every problem found raises `BadInput` with one line
that names the field (and, for the organizations file, the file and line) and says how to fix it.
Secret values are wrapped in `Secret` the moment they are read, so they are registered for redaction,
and no error message ever contains one.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import secrets as _secrets
from .errors import BadInput
from .identity import Identity
from .secrets import Secret

DEFAULT_TFC_URL = "https://app.terraform.io"
DEFAULT_AZURE_DEVOPS_URL = "https://aex.dev.azure.com"
SCHEMA_PATH = Path(__file__).with_name("orgs.schema.json")

ROUTES = ("oauth-app", "pat")
SITES = ("tfc", "azure")
SITE_TITLES = {"tfc": "Terraform Cloud", "azure": "Azure DevOps"}
DEFAULT_COMPANY_NAME = "HashiCorp"
DEFAULT_APP_NAME = "Terraform Cloud ({org})"
ORG_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_REF_STRING_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
SECRET_FIELDS = ("password", "totp_secret", "token")

# The environment variables of the settings; the field of `Settings` is the lower-cased name.
ENV_VARS = (
    "TFC_URL", "TFC_USERNAME", "TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN",
    "AZURE_DEVOPS_URL", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TOTP_SECRET",
)
SECRET_VARS = {"TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN", "AZURE_PASSWORD", "AZURE_TOTP_SECRET"}
STATE_DIR_VAR = "VCS_ROBOT_STATE_DIR"


def _bad(message: str) -> BadInput:
    """A BadInput whose text is one line with every registered secret masked (belt and braces)."""
    line = " ".join(str(message).split())
    return BadInput(_secrets.redact(line))


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get(STATE_DIR_VAR):
        return Path(environ[STATE_DIR_VAR]).expanduser()
    base = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "vcs-robot"


# ---------------------------------------------------------------------------------------------
# Value checks shared by the settings and the organizations file. Each returns the clean value or
# raises ValueError(problem, fix); the caller turns that into a BadInput naming the field.

class _Invalid(ValueError):
    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def _check_url(value: str, example: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise _Invalid(f'"{value}" is not a valid URL', f"use e.g. {example}") from None
    if parts.scheme not in ("http", "https"):
        raise _Invalid(f'"{value}" is not an http(s) URL', f"use e.g. {example}")
    if not host:
        raise _Invalid(f'"{value}" has no host name', f"use e.g. {example}")
    if parts.username is not None or parts.password is not None:
        if parts.password:
            _secrets.register(unquote(parts.password))
            _secrets.register(parts.password)
        raise _Invalid("contains a user name or password",
                       "remove the user:password@ part and set the credentials separately")
    if any(ch.isspace() for ch in text):
        raise _Invalid(f'"{value}" contains white space', f"use e.g. {example}")
    if parts.query or parts.fragment:
        raise _Invalid(f'"{value}" has a query or fragment', f"use the base URL only, e.g. {example}")
    return text.rstrip("/")


def normalize_totp_secret(value: str) -> str:
    """The base32 key in canonical form (upper case, no spaces or padding); accepts otpauth:// URIs."""
    import pyotp

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


def _check_totp(value: str) -> Secret:
    _secrets.register(value)
    try:
        key = normalize_totp_secret(value)
    except ValueError:
        raise _Invalid("is not a valid base32 TOTP secret",
                       "copy the key shown when two-factor was set up") from None
    return Secret(key, "totp secret")


def _check_password(value: str) -> Secret:
    secret = Secret(value, "password")
    if not value.strip():
        raise _Invalid("is empty", "set the password")
    return secret


def _check_token(value: str) -> Secret:
    secret = Secret(value.strip(), "token")
    if not value.strip() or any(ch.isspace() for ch in value.strip()):
        raise _Invalid("is not a valid API token", "paste the token without spaces or line breaks")
    return secret


def _check_username(value: str) -> str:
    text = value.strip()
    if not text:
        raise _Invalid("is empty", "set the user name or email")
    if any(ch.isspace() for ch in text):
        raise _Invalid("contains white space", "use the user name or email exactly as you sign in")
    return text


# ---------------------------------------------------------------------------------------------
# Accounts and settings


@dataclass(frozen=True)
class Account:
    """Credentials for one site: the settings' own ("default") or a named one from the orgs file."""

    site: str  # "tfc" | "azure"
    name: str  # "default" or the key under `accounts:`
    url: str
    username: str
    password: Secret
    totp_secret: Secret | None = None
    token: Secret | None = None  # Terraform Cloud API token (tfc only)

    @property
    def key(self) -> str:
        """Stable id of who signs in where: for session-state files and per-account locks."""
        digest = hashlib.sha256(f"{self.site}\n{self.url}\n{self.username}".encode()).hexdigest()[:12]
        return f"{self.site}-{digest}"

    def identity(self, state_dir: Path) -> Identity:
        from .totp import TotpSource

        totp = None
        if self.totp_secret is not None:
            totp = TotpSource(self.totp_secret, ledger=Path(state_dir) / "totp-ledger.json")
        return Identity(self.username, self.password, totp)

    def __repr__(self) -> str:
        return f"Account({self.site}:{self.name} {self.username} at {self.url})"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Sites and credentials; secrets are `Secret`s. Credentials may be None only when not required."""

    tfc_url: str = DEFAULT_TFC_URL
    tfc_username: str | None = None
    tfc_password: Secret | None = None
    tfc_totp_secret: Secret | None = None
    tfc_token: Secret | None = None
    azure_devops_url: str = DEFAULT_AZURE_DEVOPS_URL
    azure_username: str | None = None
    azure_password: Secret | None = None
    azure_totp_secret: Secret | None = None
    state_dir: Path = field(default_factory=default_state_dir)
    headless: bool = True

    def account(self, site: str) -> Account:
        if site == "tfc":
            username, password, url = self.tfc_username, self.tfc_password, self.tfc_url
            totp, token, prefix = self.tfc_totp_secret, self.tfc_token, "TFC"
        elif site == "azure":
            username, password, url = self.azure_username, self.azure_password, self.azure_devops_url
            totp, token, prefix = self.azure_totp_secret, None, "AZURE"
        else:
            raise ValueError(f"unknown site {site!r}")
        for name, value in ((f"{prefix}_USERNAME", username), (f"{prefix}_PASSWORD", password)):
            if not value:
                raise _bad(f"{name} is not set: put it in the environment or in .env")
        return Account(site, "default", url, username, password, totp, token)

    def tfc_account(self) -> Account:
        return self.account("tfc")

    def azure_account(self) -> Account:
        return self.account("azure")

    def tfc_identity(self) -> Identity:
        return self.tfc_account().identity(self.state_dir)

    def azure_identity(self) -> Identity:
        return self.azure_account().identity(self.state_dir)

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)


def read_env_file(env_file: Path | None) -> dict[str, str]:
    """The variables of a `.env` file (empty when there is none); os.environ is not touched."""
    if env_file is None:
        return {}
    path = Path(env_file)
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    try:
        if not path.is_file():
            raise IsADirectoryError("not a file")
        with open(path, encoding="utf-8") as stream:
            values = dotenv_values(stream=stream)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise _bad(f"{path}: cannot read the .env file ({reason}): fix its permissions or remove it") from None
    return {k: v for k, v in values.items() if v is not None}


def _environment(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    """The environment with the `.env` file filling what it lacks (an empty variable counts as unset)."""
    environ = os.environ if environ is None else environ
    merged = {k: v for k, v in read_env_file(env_file).items() if v != ""}
    merged.update({k: v for k, v in environ.items() if v != ""})
    return merged


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    overrides: Mapping[str, Any] | None = None,
    require: Iterable[str] = SITES,
) -> Settings:
    """Settings from the environment, `.env` filling what it lacks, and `overrides` over both.

    `overrides` keys are field names or variable names (`tfc_url` or `TFC_URL`), plus `state_dir` and
    `headless`; `--sandbox` passes the replicas' URLs and credentials this way. `require` names the
    sites whose user name and password must be set (the organizations file may bring its own).
    """
    env = _environment(environ, env_file)
    return _settings_from(env, environ, overrides, set(require))


def _settings_from(env: Mapping[str, str], environ, overrides, require: set[str]) -> Settings:
    values: dict[str, Any] = {name: env.get(name) for name in ENV_VARS}
    options: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:  # None leaves the setting as the environment has it
            continue
        name = key.upper()
        if name in values:
            values[name] = value
        elif key in ("state_dir", "headless"):
            options[key] = value
        else:
            raise ValueError(f"unknown setting override {key!r}")
    for name in SECRET_VARS:  # registered for redaction before anything else can fail
        if isinstance(values[name], Secret):
            values[name] = values[name].reveal()
        if isinstance(values[name], str):
            _secrets.register(values[name])

    def get(name: str) -> str | None:
        value = values[name]
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if not isinstance(value, str):
            raise _bad(f"{name} must be a string: set it as text")
        return value

    def check(name: str, checker, *args):
        value = get(name)
        if value is None:
            return None
        try:
            return checker(value, *args)
        except _Invalid as exc:  # problems never quote a secret's value
            raise _bad(f"{name} {exc.problem}: {exc.fix}") from None

    out: dict[str, Any] = {
        "tfc_url": check("TFC_URL", _check_url, DEFAULT_TFC_URL) or DEFAULT_TFC_URL,
        "azure_devops_url": check("AZURE_DEVOPS_URL", _check_url, DEFAULT_AZURE_DEVOPS_URL)
        or DEFAULT_AZURE_DEVOPS_URL,
    }
    for site, prefix in (("tfc", "TFC"), ("azure", "AZURE")):
        for suffix in ("USERNAME", "PASSWORD"):
            name = f"{prefix}_{suffix}"
            if site in require and get(name) is None:
                raise _bad(f"{name} is not set: put it in the environment or in .env")
        out[f"{site}_username"] = check(f"{prefix}_USERNAME", _check_username)
        out[f"{site}_password"] = check(f"{prefix}_PASSWORD", _check_password)
        out[f"{site}_totp_secret"] = check(f"{prefix}_TOTP_SECRET", _check_totp)
    out["tfc_token"] = check("TFC_TOKEN", _check_token)
    if "state_dir" in options:
        out["state_dir"] = Path(options["state_dir"]).expanduser()
    else:
        out["state_dir"] = default_state_dir(os.environ if environ is None else environ)
    if "headless" in options:
        out["headless"] = bool(options["headless"])
    return Settings(**out)


# ---------------------------------------------------------------------------------------------
# The organizations file


@dataclass(frozen=True)
class Defaults:
    company_name: str = DEFAULT_COMPANY_NAME
    company_website: str | None = None  # default: the application website
    application_website: str | None = None  # default: the organization's Terraform Cloud URL
    description: str | None = None
    provider_name: str | None = None  # TFC display name of the provider; None leaves it blank
    route: str = "oauth-app"
    app_name: str = DEFAULT_APP_NAME  # template; {org} is the organization name
    azure_devops_organization: str | None = None  # the Azure DevOps organization (pat route)


@dataclass(frozen=True)
class OrgSpec:
    """One organization to connect, with every default and account resolved."""

    name: str
    app_name: str
    display_name: str | None
    route: str
    company_name: str
    company_website: str
    application_website: str
    description: str | None
    azure_devops_organization: str | None
    tfc: Account
    azure: Account
    line: int = 0  # where it is written in the file

    @property
    def tfc_url(self) -> str:
        return self.tfc.url


@dataclass(frozen=True)
class Plan:
    path: Path
    settings: Settings
    defaults: Defaults
    accounts: dict[str, Account]
    orgs: list[OrgSpec]
    _identities: dict = field(default_factory=dict, repr=False, compare=False)

    def names(self) -> list[str]:
        return [org.name for org in self.orgs]

    def org(self, name: str) -> OrgSpec:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)

    def identity(self, account: Account) -> Identity:
        """One Identity per account (so one TOTP source and one session per account)."""
        if account.key not in self._identities:
            self._identities[account.key] = account.identity(self.settings.state_dir)
        return self._identities[account.key]


_SCHEMA_CACHE: dict[str, Any] = {}


def orgs_schema() -> dict:
    if "schema" not in _SCHEMA_CACHE:
        _SCHEMA_CACHE["schema"] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _SCHEMA_CACHE["schema"]


def _field_path(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class _Lines:
    """Maps a JSON path in the YAML document to a line number, from the composed node tree."""

    def __init__(self, root):
        self.root = root

    def node(self, path: Sequence[Any]):
        """(node at path, its key node or None); the deepest node found when the path goes further."""
        import yaml

        node, last_key = self.root, None
        for part in path:
            last_key = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == part:
                        node, last_key = v, k
                        break
                else:
                    return node, None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                return node, None
        return node, last_key

    def line(self, path: Sequence[Any], key: bool = False) -> int:
        """The line of the value at `path` (or of its key, with key=True)."""
        node, key_node = self.node(path)
        target = key_node if (key and key_node is not None) else node
        return target.start_mark.line + 1 if target is not None else 1

    def key_line(self, path: Sequence[Any], name: str) -> int:
        """The line of key `name` inside the mapping at `path`."""
        node, _ = self.node(path)
        for k, _v in getattr(node, "value", []) or []:
            if getattr(k, "value", None) == name:
                return k.start_mark.line + 1
        return node.start_mark.line + 1


def _duplicate_keys(node, path: list):
    """The first duplicated mapping key in the document: (path, key, line, first line) or None."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    return path, k.value, k.start_mark.line + 1, seen[k.value]
                seen[k.value] = k.start_mark.line + 1
            found = _duplicate_keys(v, path + [getattr(k, "value", "?")])
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_keys(item, path + [i])
            if found:
                return found
    return None


_TYPE_NAMES = {"string": "a string", "object": "a mapping", "array": "a list", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "empty"}


def _type_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_FIXES = {
    "name": "use letters, digits, '-' and '_' only, exactly as the Terraform Cloud organization is named",
    "route": "use oauth-app or pat",
    "site": "use tfc or azure",
    "env": "use a variable name such as MY_PASSWORD (letters, digits and '_')",
}


class _FileErrors:
    def __init__(self, path: Path, lines: _Lines | None):
        self.path, self.lines = path, lines

    def at(self, line: int | None, field: str, problem: str, fix: str) -> BadInput:
        where = f"{self.path}:{line}" if line else f"{self.path}"
        return _bad(f"{where}: {field}: {problem}; {fix}" if field else f"{where}: {problem}; {fix}")

    def field(self, path: Sequence[Any], problem: str, fix: str, key: bool = False) -> BadInput:
        return self.at(self.lines.line(path, key=key), _field_path(path), problem, fix)


URL_FIELDS = ("url", "application_website", "company_website")


def _site_of(path: Sequence[Any], errors: _FileErrors) -> str | None:
    node, key = errors.lines.node(list(path[:2]) + ["site"])
    return node.value if key is not None and isinstance(node.value, str) else None


def _schema_error_to_badinput(err, errors: _FileErrors, schema: dict) -> BadInput:
    path = list(err.absolute_path)
    last = path[-1] if path else None
    instance = err.instance
    validator = err.validator
    if validator == "additionalProperties":
        allowed = sorted((err.schema.get("properties") or {}).keys())
        unknown = sorted(k for k in instance if k not in allowed) if isinstance(instance, dict) else []
        name = unknown[0] if unknown else "?"
        line = errors.lines.key_line(path, name)
        return errors.at(line, _field_path(path + [name]), f'unknown key "{name}"',
                         f"allowed keys are: {', '.join(allowed)}")
    if last in SECRET_FIELDS and isinstance(instance, str) and len(path) >= 3 and path[0] == "accounts":
        return errors.field(path, "secrets are not accepted as literals",
                            "write {env: VARIABLE_NAME} and set the variable")
    if last == "username" and len(path) >= 3 and path[0] == "accounts":
        return errors.field(path, f"must be a user name or {{env: VARIABLE_NAME}}, not {_type_of(instance)}",
                            "write the user name as text")
    if validator == "required":
        missing = [name for name in err.validator_value if name not in (instance or {})]
        name = missing[0] if missing else "?"
        hint = {"organizations": "add organizations: with at least one - name: ORG entry",
                "name": "add name: <Terraform Cloud organization name>",
                "site": "add site: tfc or site: azure",
                "username": "add username: <user name or email>",
                "password": "add password: {env: VARIABLE_NAME}",
                "env": "write {env: VARIABLE_NAME}"}.get(name, f"add {name}:")
        return errors.field(path, f'"{name}" is required', hint)
    if validator == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        want = " or ".join(_TYPE_NAMES.get(t, t) for t in expected if t != "null")
        fix = "quote it" if "string" in expected and isinstance(instance, (int, float, bool)) else \
            f"write {want}"
        if path == ["organizations"]:
            fix = "write a list of entries such as - name: ORG"
        elif len(path) == 2 and path[0] == "organizations" and isinstance(instance, (str, int)):
            fix = f"write - name: {instance}"
        if not path and not isinstance(instance, dict):
            return errors.at(1, "", f"the file must hold a mapping (defaults, accounts, organizations), "
                                    f"not {_type_of(instance)}", "start with organizations:")
        return errors.field(path, f"must be {want}, not {_type_of(instance)}", fix)
    if validator == "enum":
        options = ", ".join(str(v) for v in err.validator_value)
        return errors.field(path, f'"{instance}" is not one of {options}', f"use one of {options}")
    if validator == "minItems":
        if path == ["organizations"]:
            return errors.field(path, "the list is empty", "list at least one organization (- name: ORG)")
        return errors.field(path, "the list is empty", "add at least one entry")
    if validator == "minLength":
        return errors.field(path, "is empty", "write a value or remove the key")
    if validator == "maxLength":
        return errors.field(path, f"is longer than {err.validator_value} characters", "shorten it")
    if validator in ("pattern", "minLength") and last in URL_FIELDS and isinstance(instance, str):
        on_azure = path[0] == "accounts" and _site_of(path, errors) == "azure"
        example = DEFAULT_AZURE_DEVOPS_URL if on_azure else DEFAULT_TFC_URL
        try:
            _check_url(instance, example)
        except _Invalid as exc:
            return errors.field(path, exc.problem, exc.fix)
        return errors.field(path, f'"{instance}" is not an http(s) URL', f"use e.g. {example}")
    if validator == "pattern":
        shown = instance if last not in SECRET_FIELDS else "(hidden)"
        return errors.field(path, f'"{shown}" is not allowed here',
                            _FIXES.get(last, f"match the pattern {err.validator_value}"))
    if validator in ("oneOf", "anyOf") and last in SECRET_FIELDS + ("username",) and isinstance(instance, dict) \
            and isinstance(instance.get("env"), str) and not ENV_NAME_RE.match(instance["env"]) \
            and set(instance) == {"env"}:
        return errors.field(path, f'"{instance["env"]}" is not a valid variable name', _FIXES["env"])
    if validator in ("oneOf", "anyOf") and last in SECRET_FIELDS:
        return errors.field(path, f"must be {{env: VARIABLE_NAME}}, not {_type_of(instance)}",
                            "write {env: VARIABLE_NAME} and set the variable")
    if validator == "propertyNames" or (validator == "pattern" and path and path[0] == "accounts"):
        return errors.field(path, "invalid account name", "use letters, digits, '-' and '_'")
    if validator == "minProperties":
        return errors.field(path, "is empty", "remove it or fill it in")
    return errors.field(path, _secrets.redact(err.message) if last not in SECRET_FIELDS else "invalid value",
                        "see robot/orgs.schema.json")


def _resolve_ref(value: Any, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(value or None when the variable is unset, variable name) of an {env: VAR} / ${VAR} reference."""
    if isinstance(value, dict):
        name = value["env"]
    else:
        match = ENV_REF_STRING_RE.match(value)
        name = match.group(1)
    return env.get(name), name


def load_plan(
    path: Path,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    overrides: Mapping[str, Any] | None = None,
) -> Plan:
    """Reads and checks the organizations file and the settings; every problem is one-line BadInput."""
    import jsonschema
    import yaml

    path = Path(path)
    plain = _FileErrors(path, None)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise plain.at(None, "", "no such file", "check the path of the organizations file") from None
    except IsADirectoryError:
        raise plain.at(None, "", "is a directory, not a file", "give the path of the YAML file") from None
    except PermissionError:
        raise plain.at(None, "", "cannot read the file (permission denied)", "fix its permissions") from None
    except UnicodeDecodeError:
        raise plain.at(None, "", "is not UTF-8 text", "save it as UTF-8") from None
    except OSError as exc:
        raise plain.at(None, "", f"cannot read the file ({exc.strerror})", "check the path") from None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context} {problem}"
        col = f" (column {mark.column + 1})" if mark else ""
        raise plain.at(line, "", f"not valid YAML: {problem}{col}", "fix the YAML syntax on that line") from None
    except yaml.YAMLError as exc:
        raise plain.at(None, "", f"not valid YAML ({type(exc).__name__})", "fix the YAML syntax") from None
    if root is None or data is None:
        raise plain.at(None, "", "the file is empty", "list organizations: with at least one - name: ORG")
    lines = _Lines(root)
    errors = _FileErrors(path, lines)

    dup = _duplicate_keys(root, [])
    if dup:
        dpath, key, line, first = dup
        raise errors.at(line, _field_path(dpath + [key]), f'"{key}" is written twice (first at line {first})',
                        "keep only one")

    schema = orgs_schema()
    validator = jsonschema.Draft202012Validator(schema)
    found = list(validator.iter_errors(data))
    if found:
        def order(err):
            p = list(err.absolute_path)
            # secret literals and unknown keys are the most useful to show first on a line
            return (lines.line(p), 0 if err.validator == "additionalProperties" else 1, len(p))
        found.sort(key=order)
        raise _schema_error_to_badinput(found[0], errors, schema)

    env = _environment(environ, env_file)
    defaults_raw = data.get("defaults") or {}
    accounts_raw = data.get("accounts") or {}
    orgs_raw = data["organizations"]

    # which default accounts are needed (an org that names its own account does not need them)
    require = set()
    for org in orgs_raw:
        if not org.get("tfc_account"):
            require.add("tfc")
        if not org.get("azure_account"):
            require.add("azure")
    settings = _settings_from(env, environ, overrides, require)

    def checked(fpath: list, checker, value, *args):
        try:
            return checker(value, *args)
        except _Invalid as exc:
            raise errors.field(fpath, exc.problem, exc.fix) from None

    # defaults
    d = dict(defaults_raw)
    for key in ("application_website", "company_website"):
        if d.get(key) is not None:
            d[key] = checked(["defaults", key], _check_url, d[key], "https://app.terraform.io")
    if "app_name" in d and "{org}" not in d["app_name"]:
        raise errors.field(["defaults", "app_name"], "the template has no {org} placeholder",
                           'write e.g. "Terraform Cloud ({org})" so every app name is unique')
    if "app_name" in d:
        try:
            d["app_name"].format(org="x")
        except (KeyError, IndexError, ValueError):
            raise errors.field(["defaults", "app_name"], "the template has a placeholder other than {org}",
                               "use only {org} in braces") from None
    defaults = Defaults(**d)

    # accounts
    accounts: dict[str, Account] = {}
    for name, raw in accounts_raw.items():
        base = ["accounts", name]
        site = raw["site"]
        for secret_key in SECRET_FIELDS:
            if secret_key in raw:
                value, var = _resolve_ref(raw[secret_key], env)
                if value is not None:
                    _secrets.register(value)
        if site == "azure" and "token" in raw:
            raise errors.field(base + ["token"], "an API token is for Terraform Cloud accounts only",
                               "remove token: from this azure account")
        url = raw.get("url")
        if url is not None:
            url = checked(base + ["url"], _check_url, url,
                          DEFAULT_TFC_URL if site == "tfc" else DEFAULT_AZURE_DEVOPS_URL)
        else:
            url = settings.tfc_url if site == "tfc" else settings.azure_devops_url
        resolved: dict[str, Any] = {}
        for key in ("username",) + SECRET_FIELDS:
            if key not in raw:
                continue
            value = raw[key]
            if isinstance(value, dict) or ENV_REF_STRING_RE.match(value):
                value, var = _resolve_ref(value, env)
                if value is None or value.strip() == "":
                    raise errors.field(base + [key], f"environment variable {var} is not set",
                                       f"set {var} in the environment or in .env")
            checker = {"username": _check_username, "password": _check_password,
                       "totp_secret": _check_totp, "token": _check_token}[key]
            resolved[key] = checked(base + [key], checker, value)
        accounts[name] = Account(site, name, url, resolved["username"], resolved["password"],
                                 resolved.get("totp_secret"), resolved.get("token"))

    # organizations
    specs: list[OrgSpec] = []
    seen_names: dict[str, int] = {}
    seen_apps: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(orgs_raw):
        base = ["organizations", i]
        line = lines.line(base)
        name = raw["name"]
        folded = name.lower()
        if folded in seen_names:
            raise errors.field(base + ["name"], f'"{name}" is listed twice (first at line {seen_names[folded]})',
                               "remove one of the entries")
        seen_names[folded] = lines.line(base + ["name"])

        chosen: dict[str, Account] = {}
        for site in SITES:
            key = f"{site}_account"
            ref = raw.get(key)
            if ref is None:
                chosen[site] = settings.account(site)
                continue
            if ref not in accounts:
                known = ", ".join(sorted(accounts)) or "none"
                raise errors.field(base + [key], f'no account named "{ref}" (known: {known})',
                                   "add it under accounts: or fix the name")
            if accounts[ref].site != site:
                raise errors.field(base + [key], f'account "{ref}" is {"an" if accounts[ref].site == "azure" else "a"} {accounts[ref].site} account, '
                                                 f"not a {site} one",
                                   f"name an account with site: {site}")
            chosen[site] = accounts[ref]

        app_name = raw.get("app_name") or defaults.app_name.format(org=name)
        app_key = (chosen["azure"].key, app_name.lower())
        if app_key in seen_apps:
            where = base + ["app_name"] if "app_name" in raw else base + ["name"]
            raise errors.field(where, f'app name "{app_name}" is used twice in the same Azure DevOps account '
                                      f"(first at line {seen_apps[app_key]})",
                               "give each organization its own app_name")
        seen_apps[app_key] = lines.line(base + ["app_name"] if "app_name" in raw else base)

        route = raw.get("route") or defaults.route
        ado_org = raw.get("azure_devops_organization") or defaults.azure_devops_organization
        if route == "pat" and not ado_org:
            raise errors.field(base + ["route"] if "route" in raw else base,
                               "the pat route needs the Azure DevOps organization name",
                               "add azure_devops_organization: <name> to the organization or to defaults")
        app_site = raw.get("application_website") or defaults.application_website or chosen["tfc"].url
        if "application_website" in raw:
            app_site = checked(base + ["application_website"], _check_url, app_site, DEFAULT_TFC_URL)
        specs.append(OrgSpec(
            name=name,
            app_name=app_name,
            display_name=raw.get("display_name") or defaults.provider_name,
            route=route,
            company_name=raw.get("company_name") or defaults.company_name,
            company_website=defaults.company_website or app_site,
            application_website=app_site,
            description=raw.get("description") or defaults.description,
            azure_devops_organization=ado_org,
            tfc=chosen["tfc"],
            azure=chosen["azure"],
            line=line,
        ))
    return Plan(path=path, settings=settings, defaults=defaults, accounts=accounts, orgs=specs)


# ---------------------------------------------------------------------------------------------
# Shards and selection

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(spec: str) -> tuple[int, int]:
    """"K/N" -> (k, n) with 1 <= K <= N."""
    match = _SHARD_RE.match(spec or "") if isinstance(spec, str) else None
    if not match:
        raise _bad(f'--shard "{spec}" is not K/N: write e.g. --shard 1/4 (this machine takes part 1 of 4)')
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise _bad(f'--shard "{spec}" is out of range: K must be between 1 and N, e.g. --shard 1/{max(n, 1)}')
    return k, n


def shard_of(org_name: str, n: int) -> int:
    """The shard (1-based) of an organization: sha256 of its lower-cased name mod n; the same everywhere."""
    if n < 1:
        raise ValueError("n must be at least 1")
    digest = hashlib.sha256(org_name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def _name(org: Any) -> str:
    return org if isinstance(org, str) else org.name


def select_orgs(orgs: Sequence[Any], shard: str | tuple[int, int] | None = None,
                only: Iterable[str] | None = None) -> list:
    """The orgs this run handles: those named by --only (if any), then those of --shard K/N (if any).

    `orgs` are OrgSpecs (or names); the file's order is kept. Unknown --only names are BadInput.
    """
    selected = list(orgs)
    only = [o for o in (only or []) if o is not None]
    if only:
        by_name = {_name(o).lower(): o for o in selected}
        for wanted in only:
            if wanted.lower() not in by_name:
                known = [_name(o) for o in selected]
                shown = ", ".join(known[:10]) + (f", ... ({len(known)} in all)" if len(known) > 10 else "")
                raise _bad(f'--only "{wanted}" is not an organization of the file (known: {shown}): '
                           "check the spelling")
        wanted_set = {w.lower() for w in only}
        selected = [o for o in selected if _name(o).lower() in wanted_set]
    if shard is not None:
        k, n = parse_shard(shard) if isinstance(shard, str) else shard
        if n < 1 or not 1 <= k <= n:
            raise _bad(f"--shard {k}/{n} is out of range: K must be between 1 and N")
        selected = [o for o in selected if shard_of(_name(o), n) == k]
    return selected
