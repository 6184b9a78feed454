"""The organizations file of `vcs-robot provision` (and rotate, migrate, doctor): checked, resolved,
turned into one `OrgTask` per organization with the accounts it signs in with.

Every problem raises `BadInput` with one line naming the file, line and field and saying how to fix
it; secrets are accepted only as `{env: VARIABLE}` references and registered for redaction at once.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from .. import secrets as _secrets
from ..model import (
    DEFAULT_APP_NAME,
    DEFAULT_AZURE_DEVOPS_URL,
    DEFAULT_COMPANY_NAME,
    DEFAULT_ENTRA_APP_NAME,
    DEFAULT_PROVIDER_NAME,
    DEFAULT_TFC_URL,
    Account,
    OrgTask,
    Settings,
)
from .files import InputFileError, load_yaml, read_text
from .orgs_errors import SECRET_FIELDS, FileErrors, Lines, duplicate_keys, field_path, orgs_schema, schema_error
from .settings import environment, settings_from
from .values import Invalid, check_password, check_token, check_totp, check_url, check_username

ENV_REF_STRING_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_CHECKERS: dict[str, Callable[[str], Any]] = {"username": check_username, "password": check_password,
                                              "totp_secret": check_totp, "token": check_token}


@dataclass(frozen=True)
class OrgSpec:
    """One organization of the file: its task (every default resolved) and the accounts it uses."""

    task: OrgTask
    tfc: Account
    azure: Account
    line: int = 0  # where it is written in the file

    @property
    def name(self) -> str:
        return self.task.org


@dataclass(frozen=True)
class Plan:
    path: Path
    settings: Settings
    orgs: list[OrgSpec]

    def job(self, spec: OrgSpec) -> tuple[OrgTask, Settings]:
        """The org's task and its settings, signing in with the org's own accounts."""
        return spec.task, self.settings.with_accounts(spec.tfc, spec.azure)


def load_plan(path: Path, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env"),
              overrides: Mapping[str, Any] | None = None) -> Plan:
    """Reads and checks the organizations file and the settings; every problem is one-line BadInput."""
    path = Path(path)
    data, errors = _read(path)
    env = environment(environ, env_file)
    require = {site for org in data["organizations"] for site in ("tfc", "azure") if not org.get(f"{site}_account")}
    settings = settings_from(env, environ, overrides, require)
    defaults = _defaults(data.get("defaults") or {}, errors)
    accounts = {name: _account(name, raw, env, settings, errors) for name, raw in (data.get("accounts") or {}).items()}
    orgs = _organizations(data["organizations"], defaults, accounts, settings, errors)
    return Plan(path=path, settings=settings, orgs=orgs)


def _read(path: Path) -> tuple[dict, FileErrors]:
    """The file's data, checked against the schema, and where its parts are written."""
    plain = FileErrors(path, None)
    try:
        root, data = load_yaml(read_text(path))
    except InputFileError as exc:
        fix = "check the path of the organizations file" if exc.problem == "no such file" else exc.fix
        raise plain.at(exc.line, "", exc.problem, fix) from None
    if root is None or data is None:
        raise plain.at(None, "", "the file is empty", "list organizations: with at least one - name: ORG")
    errors = FileErrors(path, Lines(root))
    dup = duplicate_keys(root, [])
    if dup:
        dpath, key, line, first = dup
        raise errors.at(line, field_path(dpath + [key]), f'"{key}" is written twice (first at line {first})',
                        "keep only one")
    schema = orgs_schema()
    found = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if found:
        def order(err: jsonschema.ValidationError) -> tuple:
            where = list(err.absolute_path)
            # secret literals and unknown keys are the most useful to show first on a line
            return errors.line(where), 0 if err.validator == "additionalProperties" else 1, len(where)
        raise schema_error(min(found, key=order), errors, schema)
    return data, errors


def _checked(errors: FileErrors, where: list, checker: Callable[..., Any], value: Any, *args: Any) -> Any:
    try:
        return checker(value, *args)
    except Invalid as exc:
        raise errors.field(where, exc.problem, exc.fix) from None


def _defaults(raw: dict, errors: FileErrors) -> dict[str, Any]:
    values = dict(raw)
    for key in ("application_website", "company_website"):
        if values.get(key) is not None:
            values[key] = _checked(errors, ["defaults", key], check_url, values[key], DEFAULT_TFC_URL)
    template = values.get("app_name")
    if template is not None:
        if "{org}" not in template:
            raise errors.field(["defaults", "app_name"], "the template has no {org} placeholder",
                               f'write e.g. "{DEFAULT_APP_NAME}" so every app name is unique')
        try:
            template.format(org="x")
        except (KeyError, IndexError, ValueError):
            raise errors.field(["defaults", "app_name"], "the template has a placeholder other than {org}",
                               "use only {org} in braces") from None
    return values


def _resolve_ref(value: Any, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(value or None when the variable is unset, variable name) of an {env: VAR} / ${VAR} reference."""
    if isinstance(value, dict):
        name = value["env"]
    else:
        match = ENV_REF_STRING_RE.match(value)
        assert match is not None  # the schema admits only references for secrets
        name = match.group(1)
    return env.get(name), name


def _account(name: str, raw: dict, env: Mapping[str, str], settings: Settings, errors: FileErrors) -> Account:
    base = ["accounts", name]
    site = raw["site"]
    for key in SECRET_FIELDS:  # registered before any message can be written
        if key in raw and (value := _resolve_ref(raw[key], env)[0]) is not None:
            _secrets.register(value)
    if site == "azure" and "token" in raw:
        raise errors.field(base + ["token"], "an API token is for Terraform Cloud accounts only",
                           "remove token: from this azure account")
    example = DEFAULT_TFC_URL if site == "tfc" else DEFAULT_AZURE_DEVOPS_URL
    url = raw.get("url")
    url = _checked(errors, base + ["url"], check_url, url, example) if url is not None else \
        (settings.tfc_url if site == "tfc" else settings.azure_devops_url)
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
        resolved[key] = _checked(errors, base + [key], _CHECKERS[key], value)
    return Account(site, name, url, resolved["username"], resolved["password"], resolved.get("totp_secret"),
                   resolved.get("token"))


def _organizations(raw_orgs: list[dict], defaults: dict[str, Any], accounts: dict[str, Account],
                   settings: Settings, errors: FileErrors) -> list[OrgSpec]:
    specs: list[OrgSpec] = []
    seen_names: dict[str, int] = {}
    seen_apps: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(raw_orgs):
        base: list = ["organizations", i]
        name = raw["name"]
        if name.lower() in seen_names:
            raise errors.field(base + ["name"], f'"{name}" is listed twice (first at line {seen_names[name.lower()]})',
                               "remove one of the entries")
        seen_names[name.lower()] = errors.line(base + ["name"])
        tfc, azure = (_chosen_account(raw, site, accounts, settings, errors, base) for site in ("tfc", "azure"))
        task = _task(raw, defaults, tfc, errors, base)
        where = base + ["app_name"] if "app_name" in raw else base
        app_key = (azure.key, task.app_name.lower())
        if app_key in seen_apps:
            raise errors.field(where if "app_name" in raw else base + ["name"],
                               f'app name "{task.app_name}" is used twice in the same Azure DevOps account '
                               f"(first at line {seen_apps[app_key]})", "give each organization its own app_name")
        seen_apps[app_key] = errors.line(where)
        specs.append(OrgSpec(task, tfc, azure, line=errors.line(base)))
    return specs


def _chosen_account(raw: dict, site: str, accounts: dict[str, Account], settings: Settings, errors: FileErrors,
                    base: list) -> Account:
    key = f"{site}_account"
    ref = raw.get(key)
    if ref is None:
        return settings.account("tfc" if site == "tfc" else "azure")
    if ref not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise errors.field(base + [key], f'no account named "{ref}" (known: {known})',
                           "add it under accounts: or fix the name")
    account = accounts[ref]
    if account.site != site:
        article = "an" if account.site == "azure" else "a"
        raise errors.field(base + [key], f'account "{ref}" is {article} {account.site} account, not a {site} one',
                           f"name an account with site: {site}")
    return account


def _task(raw: dict, defaults: dict[str, Any], tfc: Account, errors: FileErrors, base: list) -> OrgTask:
    """The organization's task: its own values, else the file's defaults, else the built-in ones."""
    def value(key: str, fallback: Any = None) -> Any:
        return raw.get(key) or defaults.get(key) or fallback

    name = raw["name"]
    route = value("route", "oauth-app")
    ado_org = value("azure_devops_organization", "")
    if route in ("pat", "entra-app") and not ado_org:
        raise errors.field(base + ["route"] if "route" in raw else base,
                           f"the {route} route needs the Azure DevOps organization name",
                           "add azure_devops_organization: <name> to the organization or to defaults")
    entra = raw.get("entra") or defaults.get("entra") or {}
    websites = {}
    for key in ("application_website", "company_website"):
        websites[key] = _checked(errors, base + [key], check_url, raw[key], DEFAULT_TFC_URL) if key in raw \
            else defaults.get(key)
    application_website = websites["application_website"] or tfc.url
    default_app = DEFAULT_ENTRA_APP_NAME if route == "entra-app" else DEFAULT_APP_NAME
    return OrgTask(org=name,
                   app_name=raw.get("app_name") or defaults.get("app_name", default_app).format(org=name),
                   provider_name=value("display_name") or defaults.get("provider_name") or DEFAULT_PROVIDER_NAME,
                   company_name=value("company_name", DEFAULT_COMPANY_NAME),
                   company_website=websites["company_website"] or application_website,
                   application_website=application_website,
                   description=value("description", ""),
                   route=route, azure_devops_organization=ado_org, entra_via=entra.get("via", "portal"))
