"""Settings from the environment, a `.env` file filling what it lacks, and overrides over both."""
from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .. import secrets as _secrets
from ..clock import RunClock
from ..model import (
    DEFAULT_AUTHORITY_HOST,
    DEFAULT_AZURE_DEVOPS_ORG_URL,
    DEFAULT_AZURE_DEVOPS_URL,
    DEFAULT_ENTRA_URL,
    DEFAULT_GRAPH_URL,
    DEFAULT_TFC_URL,
    Settings,
)
from ..secrets import Secret
from .files import InputFileError, read_text
from .values import (
    Invalid,
    bad,
    check_day,
    check_guid,
    check_password,
    check_readable_file,
    check_tenant,
    check_token,
    check_totp,
    check_url,
    check_username,
)

SITES = ("tfc", "azure")
# The environment variables of the settings; the field of `Settings` is the lower-cased name.
ENV_VARS = (
    "TFC_URL", "TFC_USERNAME", "TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN",
    "AZURE_DEVOPS_URL", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TOTP_SECRET",
    "AZURE_DEVOPS_ORG_URL", "ENTRA_URL", "GRAPH_URL", "AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "REQUESTS_CA_BUNDLE",
)
SECRET_VARS = {"TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN", "AZURE_PASSWORD", "AZURE_TOTP_SECRET",
               "AZURE_CLIENT_SECRET"}
STATE_DIR_VAR = "VCS_ROBOT_STATE_DIR"
TODAY_VAR = "VCS_ROBOT_TODAY"  # a fixed day for the run (robot/clock.py)


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get(STATE_DIR_VAR):
        return Path(environ[STATE_DIR_VAR]).expanduser()
    base = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "vcs-robot"


def read_env_file(env_file: Path | None) -> dict[str, str]:
    """The variables of a `.env` file (empty when there is none); os.environ is not touched."""
    if env_file is None or not os.path.lexists(env_file):
        return {}
    try:
        text = read_text(Path(env_file))
    except InputFileError as exc:
        where = f"{env_file}:{exc.line}" if exc.line else f"{env_file}"
        raise bad(f"{where}: the .env file {exc.problem}: {exc.fix} (or remove it)") from None
    values = dotenv_values(stream=io.StringIO(text))
    return {k: v for k, v in values.items() if v is not None}


def environment(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
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
    return settings_from(environment(environ, env_file), environ, overrides, set(require))


def settings_from(env: Mapping[str, str], environ: Mapping[str, str] | None,
                  overrides: Mapping[str, Any] | None, require: set[str]) -> Settings:
    values: dict[str, Any] = {name: env.get(name) for name in ENV_VARS}
    options: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:  # None leaves the setting as the environment has it
            continue
        if key.upper() in values:
            values[key.upper()] = value
        elif key in ("state_dir", "headless", "today"):
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
            raise bad(f"{name} must be a string: set it as text")
        return value

    def check(name: str, checker: Callable[..., Any], *args: Any) -> Any:
        value = get(name)
        if value is None:
            return None
        try:
            return checker(value, *args)
        except Invalid as exc:  # problems never quote a secret's value
            raise bad(f"{name} {exc.problem}: {exc.fix}") from None

    out: dict[str, Any] = {
        "tfc_url": check("TFC_URL", check_url, DEFAULT_TFC_URL) or DEFAULT_TFC_URL,
        "azure_devops_url": check("AZURE_DEVOPS_URL", check_url, DEFAULT_AZURE_DEVOPS_URL) or DEFAULT_AZURE_DEVOPS_URL,
    }
    for site, prefix in (("tfc", "TFC"), ("azure", "AZURE")):
        for suffix in ("USERNAME", "PASSWORD"):
            name = f"{prefix}_{suffix}"
            if site in require and get(name) is None:
                raise bad(f"{name} is not set: put it in the environment or in .env")
        out[f"{site}_username"] = check(f"{prefix}_USERNAME", check_username)
        out[f"{site}_password"] = check(f"{prefix}_PASSWORD", check_password)
        out[f"{site}_totp_secret"] = check(f"{prefix}_TOTP_SECRET", check_totp)
    out["tfc_token"] = check("TFC_TOKEN", check_token)
    for name, default in (("AZURE_DEVOPS_ORG_URL", DEFAULT_AZURE_DEVOPS_ORG_URL), ("ENTRA_URL", DEFAULT_ENTRA_URL),
                          ("GRAPH_URL", DEFAULT_GRAPH_URL), ("AZURE_AUTHORITY_HOST", DEFAULT_AUTHORITY_HOST)):
        out[name.lower()] = check(name, check_url, default) or default
    out["azure_tenant_id"] = check("AZURE_TENANT_ID", check_tenant)
    out["azure_client_id"] = check("AZURE_CLIENT_ID", check_guid)
    out["azure_client_secret"] = check("AZURE_CLIENT_SECRET", check_token)
    out["ca_bundle"] = check("REQUESTS_CA_BUNDLE", check_readable_file)
    state_dir = options.get("state_dir")
    out["state_dir"] = Path(state_dir).expanduser() if state_dir else default_state_dir(environ)
    if "headless" in options:
        out["headless"] = bool(options["headless"])
    day = options.get("today") or env.get(TODAY_VAR, "").strip()
    if day:
        try:
            out["clock"] = RunClock(check_day(day) if isinstance(day, str) else day)
        except Invalid as exc:
            raise bad(f"{TODAY_VAR} {exc.problem}: {exc.fix}") from None
    return Settings(**out)
