"""robot.config: settings, the organizations file, shards. No browser."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from robot import config
from robot.config import load_plan, load_settings, parse_shard, select_orgs, shard_of
from robot.config.orgs_errors import orgs_schema
from robot.errors import BadInput
from robot.model import Settings
from robot.secrets import Secret
from robot.totp import TotpSource

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "orgs.yaml"
SCHEMA_PATH = ROOT / "robot" / "data" / "orgs.schema.json"

TFC_PW = "tfc-Pa55word-SENTINEL"
AZ_PW = "azure-Pa55word-SENTINEL"
TFC_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AZ_TOTP = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
TOKEN = "abcdef0123456.atlasv1.TOKEN-SENTINEL-xyz"
OTHER_PW = "other-Pa55word-SENTINEL"
SECRET_VALUES = [TFC_PW, AZ_PW, TFC_TOTP, AZ_TOTP, TOKEN, OTHER_PW]


def base_env(**extra) -> dict[str, str]:
    env = {
        "TFC_USERNAME": "tfc-user", "TFC_PASSWORD": TFC_PW, "TFC_TOTP_SECRET": TFC_TOTP, "TFC_TOKEN": TOKEN,
        "AZURE_USERNAME": "admin@contoso.example", "AZURE_PASSWORD": AZ_PW, "AZURE_TOTP_SECRET": AZ_TOTP,
        "XDG_CACHE_HOME": "/tmp/xdg-cache-test",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def assert_one_clean_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message
    for value in SECRET_VALUES:
        assert value not in message, f"secret leaked in {message!r}"
        assert value.lower() not in message.lower()


def settings_error(env: dict, **kw) -> str:
    with pytest.raises(BadInput) as info:
        load_settings(environ=env, env_file=kw.pop("env_file", None), **kw)
    message = str(info.value)
    assert_one_clean_line(message)
    return message


def write(tmp_path: Path, text: str, name: str = "orgs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def plan_error(tmp_path: Path, text: str | None, env: dict | None = None, path: Path | None = None,
               line: int | None = None, field: str | None = None, contains: str | None = None) -> str:
    if path is None:
        path = write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        load_plan(path, environ=base_env() if env is None else env, env_file=None)
    message = str(info.value)
    assert_one_clean_line(message)
    assert message.startswith(str(path)), message
    if line is not None:
        assert message.startswith(f"{path}:{line}: "), message
    if field is not None:
        assert f": {field}: " in message, message
    if contains is not None:
        assert contains in message, message
    # the promised shape: "<file>[:<line>]: [<field>: ]<problem>; <fix>"
    assert "; " in message, message
    return message


# ---------------------------------------------------------------------------------------------
# Settings: good cases

def test_settings_from_environment():
    s = load_settings(environ=base_env(), env_file=None)
    assert s.tfc_url == "https://app.terraform.io"
    assert s.azure_devops_url == "https://aex.dev.azure.com"
    assert s.tfc_username == "tfc-user"
    assert isinstance(s.tfc_password, Secret) and s.tfc_password.reveal() == TFC_PW
    assert isinstance(s.azure_totp_secret, Secret) and s.azure_totp_secret.reveal() == AZ_TOTP
    assert s.tfc_token.reveal() == TOKEN
    assert s.headless is True
    assert s.state_dir == Path("/tmp/xdg-cache-test/vcs-robot")
    for value in SECRET_VALUES[:5]:
        assert value not in repr(s)


def test_optional_settings_absent():
    env = base_env(TFC_TOTP_SECRET=None, TFC_TOKEN=None, AZURE_TOTP_SECRET=None)
    s = load_settings(environ=env, env_file=None)
    assert s.tfc_totp_secret is None and s.tfc_token is None and s.azure_totp_secret is None
    assert s.tfc_identity().totp is None


def test_urls_trailing_slash_http_and_path():
    s = load_settings(environ=base_env(TFC_URL="http://127.0.0.1:8081/", AZURE_DEVOPS_URL="http://localhost:9/me/"),
                      env_file=None)
    assert s.tfc_url == "http://127.0.0.1:8081"
    assert s.azure_devops_url == "http://localhost:9/me"
    s = load_settings(environ=base_env(TFC_URL="https://tfe.example.com"), env_file=None)
    assert s.tfc_url == "https://tfe.example.com"


def test_env_file_fills_what_environment_lacks(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"TFC_PASSWORD={TFC_PW}\nTFC_URL=https://from-dotenv.example\nAZURE_USERNAME=dotenv@x.y\n")
    env = base_env(TFC_PASSWORD=None, AZURE_USERNAME="")  # empty counts as unset
    before = dict(os.environ)
    s = load_settings(environ=env, env_file=env_file)
    assert s.tfc_password.reveal() == TFC_PW
    assert s.tfc_url == "https://from-dotenv.example"
    assert s.azure_username == "dotenv@x.y"
    assert dict(os.environ) == before  # os.environ is not mutated


def test_environment_wins_over_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TFC_URL=https://from-dotenv.example\nTFC_USERNAME=dotenv-user\n")
    s = load_settings(environ=base_env(TFC_URL="https://from-env.example"), env_file=env_file)
    assert s.tfc_url == "https://from-env.example"
    assert s.tfc_username == "tfc-user"


def test_missing_env_file_is_fine(tmp_path):
    s = load_settings(environ=base_env(), env_file=tmp_path / "nope.env")
    assert s.tfc_username == "tfc-user"


def test_overrides_win_and_accept_variable_or_field_names(tmp_path):
    s = load_settings(environ=base_env(), env_file=None,
                      overrides={"TFC_URL": "http://127.0.0.1:1234", "azure_username": "sandbox@x.y",
                                 "AZURE_PASSWORD": Secret("sandbox-pw-1234"), "state_dir": tmp_path,
                                 "headless": False})
    assert s.tfc_url == "http://127.0.0.1:1234"
    assert s.azure_username == "sandbox@x.y"
    assert s.azure_password.reveal() == "sandbox-pw-1234"
    assert s.state_dir == tmp_path and s.headless is False
    with pytest.raises(ValueError):
        load_settings(environ=base_env(), env_file=None, overrides={"nonsense": 1})


def test_state_dir_defaults(monkeypatch):
    assert config.default_state_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/vcs-robot")
    assert config.default_state_dir({}) == Path("~/.cache/vcs-robot").expanduser()
    assert config.default_state_dir({"VCS_ROBOT_STATE_DIR": "/y"}) == Path("/y")


def test_totp_secret_normalized():
    spaced = " ".join(TFC_TOTP[i:i + 4] for i in range(0, 32, 4)).lower()
    s = load_settings(environ=base_env(TFC_TOTP_SECRET=spaced), env_file=None)
    assert s.tfc_totp_secret.reveal() == TFC_TOTP
    uri = f"otpauth://totp/TFC:me?secret={AZ_TOTP}&issuer=TFC"
    s = load_settings(environ=base_env(AZURE_TOTP_SECRET=uri), env_file=None)
    assert s.azure_totp_secret.reveal() == AZ_TOTP


def test_identities(tmp_path):
    s = load_settings(environ=base_env(), env_file=None, overrides={"state_dir": tmp_path})
    tfc = s.tfc_identity()
    assert tfc.username == "tfc-user" and tfc.password.reveal() == TFC_PW
    assert isinstance(tfc.totp, TotpSource) and tfc.totp.ledger == tmp_path / "totp-ledger.json"
    azure = s.azure_identity()
    assert azure.username == "admin@contoso.example" and azure.totp.secret.reveal() == AZ_TOTP
    assert s.account("tfc").key != s.account("azure").key
    assert s.account("tfc").key == s.account("tfc").key


def test_settings_is_frozen():
    s = load_settings(environ=base_env(), env_file=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.tfc_url = "x"  # type: ignore[misc]
    assert isinstance(s, Settings)


def test_require_subset_allows_missing_credentials():
    s = load_settings(environ=base_env(TFC_USERNAME=None, TFC_PASSWORD=None), env_file=None, require=("azure",))
    assert s.tfc_username is None
    with pytest.raises(BadInput, match="TFC_USERNAME is not set"):
        s.tfc_identity()


# ---------------------------------------------------------------------------------------------
# Settings: bad input

@pytest.mark.parametrize("missing", ["TFC_USERNAME", "TFC_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD"])
def test_missing_credential(missing):
    message = settings_error(base_env(**{missing: None}))
    assert message == f"{missing} is not set: put it in the environment or in .env"


def test_blank_password_counts_as_missing():
    assert settings_error(base_env(TFC_PASSWORD="   ")).startswith("TFC_PASSWORD is not set")


@pytest.mark.parametrize("name,value,expected", [
    ("TFC_URL", "ftp://x", 'TFC_URL "ftp://x" is not an http(s) URL: use e.g. https://app.terraform.io'),
    ("TFC_URL", "app.terraform.io", "is not an http(s) URL"),
    ("TFC_URL", "https://", "TFC_URL"),
    ("AZURE_DEVOPS_URL", "not a url", "AZURE_DEVOPS_URL"),
    ("AZURE_DEVOPS_URL", "https://host:99999", "AZURE_DEVOPS_URL"),
    ("TFC_URL", "https://tfe.example.com/?x=1", "query"),
])
def test_bad_urls(name, value, expected):
    message = settings_error(base_env(**{name: value}))
    assert message.startswith(name) and expected in message


def test_url_with_credentials_does_not_leak_them():
    message = settings_error(base_env(TFC_URL="https://me:url-Pa55-SENTINEL@tfe.example.com"))
    assert "TFC_URL" in message and "url-Pa55-SENTINEL" not in message


@pytest.mark.parametrize("name", ["TFC_TOTP_SECRET", "AZURE_TOTP_SECRET"])
@pytest.mark.parametrize("value", ["not-base32!!1-SENTINEL", "JBSWY3DP", "0189018901890189018901", "otpauth://hotp/x"])
def test_bad_totp_secret(name, value):
    message = settings_error(base_env(**{name: value}))
    assert message == f"{name} is not a valid base32 TOTP secret: copy the key shown when two-factor was set up"
    assert value not in message


def test_bad_token():
    message = settings_error(base_env(TFC_TOKEN="abc def-SENTINEL"))
    assert message.startswith("TFC_TOKEN") and "SENTINEL" not in message


def test_unreadable_env_file(tmp_path):
    env_dir = tmp_path / ".env"
    env_dir.mkdir()
    message = settings_error(base_env(), env_file=env_dir)
    assert ".env" in message


def test_non_utf8_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"TFC_PASSWORD=\xff\xfe\n")
    assert ".env" in settings_error(base_env(), env_file=env_file)


# ---------------------------------------------------------------------------------------------
# The organizations file: good cases

def test_example_file_loads():
    plan = load_plan(EXAMPLE, environ=base_env(), env_file=None)
    names = [o.name for o in plan.orgs]
    assert 3 <= len(names) <= 5
    assert all(re.fullmatch(r"example-org-[1-5]", n) for n in names)
    org = plan.orgs[0]
    assert org.task.app_name == f"Terraform Cloud ({org.name})"
    assert org.task.route == "oauth-app" and org.task.company_name == "HashiCorp"
    assert org.task.application_website == "https://app.terraform.io"
    assert org.tfc.username == "tfc-user" and org.azure.username == "admin@contoso.example"
    assert org.line > 1


def test_example_file_has_no_secrets_and_a_schema_comment():
    text = EXAMPLE.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    schema_ref = text.splitlines()[0].split("$schema=", 1)[1].strip()
    assert (EXAMPLE.parent / schema_ref).resolve() == SCHEMA_PATH.resolve()


def test_schema_is_valid_and_validates_example():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(EXAMPLE.read_text()))
    # titles and descriptions for editors
    for name in ("organization", "account", "defaults"):
        assert schema["$defs"][name]["title"]
        for prop in schema["$defs"][name]["properties"].values():
            assert prop.get("description") or prop.get("$ref"), prop


def test_schema_rejects_literal_secret_and_unknown_key():
    validator = jsonschema.Draft202012Validator(orgs_schema())
    assert not validator.is_valid({"organizations": [{"name": "a", "nmae": "b"}]})
    assert not validator.is_valid({"accounts": {"x": {"site": "tfc", "username": "u", "password": "lit"}},
                                   "organizations": [{"name": "a"}]})


FULL = """
# yaml-language-server: $schema=../robot/data/orgs.schema.json
defaults:
  company_name: Example Corp
  application_website: https://tfe.example.com/
  provider_name: Azure DevOps Services
  route: oauth-app
  app_name: "TFE ({org})"
accounts:
  second-tfc:
    site: tfc
    url: https://tfe2.example.com
    username: someone
    password: {env: OTHER_TFC_PASSWORD}
    totp_secret: ${OTHER_TFC_TOTP}
    token: {env: OTHER_TFC_TOKEN}
  second-azure:
    site: azure
    username: {env: OTHER_AZ_USER}
    password: ${OTHER_AZ_PASSWORD}
organizations:
  - name: example-org-1
  - name: example-org-2
    display_name: Custom Name
    app_name: "Special app"
    tfc_account: second-tfc
    azure_account: second-azure
  - name: example_org_3
    route: pat
    azure_devops_organization: contoso
"""


def full_env(**extra):
    return base_env(OTHER_TFC_PASSWORD=OTHER_PW, OTHER_TFC_TOTP=AZ_TOTP.lower(), OTHER_TFC_TOKEN="t.atlasv1.other-1234",
                    OTHER_AZ_USER="other@contoso.example", OTHER_AZ_PASSWORD="other-az-pw-9999", **extra)


def test_full_file(tmp_path):
    path = write(tmp_path, FULL)
    plan = load_plan(path, environ=full_env(), env_file=None)
    one, two, three = plan.orgs
    assert one.task.app_name == "TFE (example-org-1)" and two.task.app_name == "Special app"
    assert one.task.provider_name == "Azure DevOps Services" and two.task.provider_name == "Custom Name"
    assert one.task.application_website == "https://tfe.example.com" and one.task.company_name == "Example Corp"
    assert one.task.company_website == "https://tfe.example.com"
    assert one.task.description == "Terraform Cloud VCS provider for the organization example-org-1"
    assert two.tfc.name == "second-tfc" and two.tfc.url == "https://tfe2.example.com"
    assert two.tfc.password.reveal() == OTHER_PW and two.tfc.totp_secret.reveal() == AZ_TOTP
    assert two.tfc.token.reveal() == "t.atlasv1.other-1234"
    assert two.azure.username == "other@contoso.example" and two.azure.password.reveal() == "other-az-pw-9999"
    assert two.azure.url == plan.settings.azure_devops_url
    assert three.task.route == "pat" and three.task.azure_devops_organization == "contoso"
    assert one.tfc.name == "default" and one.tfc.username == "tfc-user"
    task, settings = plan.job(two)
    assert task is two.task
    assert settings.tfc_username == "someone" and settings.azure_username == "other@contoso.example"
    assert settings.tfc_token.reveal() == "t.atlasv1.other-1234"


def test_account_references_resolve_from_env_file(tmp_path):
    path = write(tmp_path, FULL)
    env_file = tmp_path / ".env"
    env_file.write_text(f"OTHER_TFC_PASSWORD={OTHER_PW}\n")
    env = full_env()
    del env["OTHER_TFC_PASSWORD"]
    plan = load_plan(path, environ=env, env_file=env_file)
    assert plan.orgs[1].tfc.password.reveal() == OTHER_PW


def test_default_credentials_not_needed_when_every_org_has_accounts(tmp_path):
    path = write(tmp_path, """
        accounts:
          t: {site: tfc, username: u, password: {env: OTHER_TFC_PASSWORD}}
        organizations:
          - {name: a, tfc_account: t}
        """)
    env = base_env(TFC_USERNAME=None, TFC_PASSWORD=None, OTHER_TFC_PASSWORD=OTHER_PW)
    plan = load_plan(path, environ=env, env_file=None)
    assert plan.orgs[0].tfc.username == "u"


# ---------------------------------------------------------------------------------------------
# The organizations file: bad input (each: BadInput, one line, file:line, field, no secret)

def test_missing_file(tmp_path):
    message = plan_error(tmp_path, None, path=tmp_path / "nope.yaml")
    assert "no such file" in message


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    plan_error(tmp_path, None, path=tmp_path / "dir.yaml", contains="directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "organizations: [{name: a}]\n")
    path.chmod(0)
    plan_error(tmp_path, None, path=path, contains="permission")


def test_not_utf8(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_bytes(b"organizations:\n  - name: \xff\xfe\n")
    plan_error(tmp_path, None, path=path, contains="UTF-8")


def test_not_yaml(tmp_path):
    message = plan_error(tmp_path, """
        organizations:
          - name: a
            route: [oauth-app
        """, line=4, contains="not valid YAML")
    assert "column" in message


def test_tab_indentation(tmp_path):
    plan_error(tmp_path, "organizations:\n\t- name: a\n", line=2, contains="not valid YAML")


def test_two_documents(tmp_path):
    plan_error(tmp_path, "organizations: [{name: a}]\n---\norganizations: [{name: b}]\n", line=2,
               contains="expected a single document")


def test_empty_file(tmp_path):
    plan_error(tmp_path, "# nothing\n", contains="empty")


def test_top_level_list(tmp_path):
    plan_error(tmp_path, "- name: a\n", line=1, contains="mapping")


def test_top_level_scalar(tmp_path):
    plan_error(tmp_path, "just words\n", line=1, contains="mapping")


def test_no_organizations_key(tmp_path):
    plan_error(tmp_path, "defaults:\n  route: pat\n", line=1, contains='"organizations" is required')


def test_empty_org_list(tmp_path):
    plan_error(tmp_path, "defaults: {}\norganizations: []\n", line=2, field="organizations", contains="empty")


def test_organizations_not_a_list(tmp_path):
    plan_error(tmp_path, "organizations:\n  name: a\n", line=2, field="organizations", contains="a list")


def test_org_entry_not_a_mapping(tmp_path):
    plan_error(tmp_path, "organizations:\n  - a\n", line=2, field="organizations[0]", contains="write - name: a")


def test_unknown_top_level_key(tmp_path):
    message = plan_error(tmp_path, "organisations: []\norganizations: [{name: a}]\n", line=1,
                         field="organisations", contains='unknown key "organisations"')
    assert "accounts, defaults, organizations" in message


def test_unknown_org_key(tmp_path):
    message = plan_error(tmp_path, """
        organizations:
          - name: a
          - name: b
            nmae: c
        """, line=4, field="organizations[1].nmae", contains='unknown key "nmae"')
    assert "allowed keys are:" in message and "app_name" in message


def test_unknown_defaults_key(tmp_path):
    plan_error(tmp_path, "defaults:\n  colour: red\norganizations: [{name: a}]\n", line=2,
               field="defaults.colour")


def test_unknown_account_key(tmp_path):
    plan_error(tmp_path, """
        accounts:
          x:
            site: tfc
            username: u
            password: {env: P}
            pasword: {env: P}
        organizations: [{name: a}]
        """, env=base_env(P=OTHER_PW), line=6, field="accounts.x.pasword")


def test_missing_org_name(tmp_path):
    plan_error(tmp_path, "organizations:\n  - display_name: x\n", line=2, field="organizations[0]",
               contains='"name" is required')


def test_org_name_wrong_type(tmp_path):
    plan_error(tmp_path, "organizations:\n  - name: 2024\n", line=2, field="organizations[0].name",
               contains="must be a string")


@pytest.mark.parametrize("name", ["bad name", "bad/org", "dots.org", "ünï"])
def test_bad_org_name_chars(tmp_path, name):
    plan_error(tmp_path, f'organizations:\n  - name: "{name}"\n', line=2, field="organizations[0].name",
               contains="letters, digits")


def test_duplicate_org_names(tmp_path):
    plan_error(tmp_path, """
        organizations:
          - name: example-org-1
          - name: example-org-2
          - name: Example-Org-1
        """, line=4, field="organizations[2].name", contains="listed twice (first at line 2)")


def test_duplicate_app_names(tmp_path):
    plan_error(tmp_path, """
        organizations:
          - name: a
          - name: b
            app_name: "Terraform Cloud (a)"
        """, line=4, field="organizations[1].app_name", contains="used twice")


def test_same_app_name_in_other_azure_account_is_fine(tmp_path):
    path = write(tmp_path, """
        accounts:
          z: {site: azure, username: z@x.y, password: {env: P}}
        organizations:
          - {name: a, app_name: same}
          - {name: b, app_name: same, azure_account: z}
        """)
    assert len(load_plan(path, environ=base_env(P=OTHER_PW), env_file=None).orgs) == 2


def test_duplicate_yaml_key(tmp_path):
    plan_error(tmp_path, """
        organizations:
          - name: a
            route: pat
            route: oauth-app
        """, line=4, field="organizations[0].route", contains="written twice")


def test_unknown_account_reference(tmp_path):
    plan_error(tmp_path, """
        organizations:
          - name: a
            tfc_account: nobody
        """, line=3, field="organizations[0].tfc_account", contains='no account named "nobody"')


def test_account_on_wrong_site(tmp_path):
    plan_error(tmp_path, """
        accounts:
          az: {site: azure, username: u, password: {env: P}}
        organizations:
          - name: a
            tfc_account: az
        """, env=base_env(P=OTHER_PW), line=5, field="organizations[0].tfc_account", contains="site: tfc")


@pytest.mark.parametrize("key", ["password", "totp_secret", "token"])
def test_literal_secret(tmp_path, key):
    lines = {"password": f"password: {OTHER_PW}"}
    if key != "password":
        lines["password"] = "password: {env: P}"
        lines[key] = f"{key}: {OTHER_PW}"
    body = "\n".join(f"    {v}" for v in lines.values())
    text = f"accounts:\n  second-tfc:\n    site: tfc\n    username: u\n{body}\norganizations: [{{name: a}}]\n"
    line = 5 if key == "password" else 6
    message = plan_error(tmp_path, text, env=base_env(P="p-12345"), line=line, field=f"accounts.second-tfc.{key}")
    assert message.endswith(f"accounts.second-tfc.{key}: secrets are not accepted as literals; "
                             "write {env: VARIABLE_NAME} and set the variable")


def test_literal_secret_is_not_echoed_even_when_short(tmp_path):
    message = plan_error(tmp_path, """
        accounts:
          t: {site: tfc, username: u, password: "hunter2-SENTINEL"}
        organizations: [{name: a}]
        """, line=2)
    assert "hunter2" not in message


def test_bad_env_reference_name(tmp_path):
    plan_error(tmp_path, """
        accounts:
          t:
            site: tfc
            username: u
            password: {env: "1-bad"}
        organizations: [{name: a}]
        """, line=5, field="accounts.t.password", contains='"1-bad" is not a valid variable name')


def test_missing_env_var(tmp_path):
    message = plan_error(tmp_path, """
        accounts:
          second-tfc:
            site: tfc
            username: u
            password: {env: OTHER_TFC_PASSWORD}
        organizations: [{name: a, tfc_account: second-tfc}]
        """, line=5, field="accounts.second-tfc.password", contains="OTHER_TFC_PASSWORD is not set")
    assert ".env" in message


def test_missing_account_password(tmp_path):
    plan_error(tmp_path, """
        accounts:
          t: {site: tfc, username: u}
        organizations: [{name: a}]
        """, line=2, field="accounts.t", contains='"password" is required')


def test_invalid_totp_secret_in_account(tmp_path):
    message = plan_error(tmp_path, """
        accounts:
          t:
            site: tfc
            username: u
            password: {env: P}
            totp_secret: {env: T}
        organizations: [{name: a}]
        """, env=base_env(P=OTHER_PW, T="NOT-BASE32-0000-1111-SENTINEL"), line=6, field="accounts.t.totp_secret",
        contains="not a valid base32 TOTP secret")
    assert "NOT-BASE32" not in message


def test_token_on_azure_account(tmp_path):
    plan_error(tmp_path, """
        accounts:
          z:
            site: azure
            username: u
            password: {env: P}
            token: {env: P}
        organizations: [{name: a}]
        """, env=base_env(P=OTHER_PW), line=6, field="accounts.z.token")


def test_bad_site(tmp_path):
    plan_error(tmp_path, """
        accounts:
          z: {site: github, username: u, password: {env: P}}
        organizations: [{name: a}]
        """, env=base_env(P=OTHER_PW), line=2, field="accounts.z.site", contains="tfc, azure")


@pytest.mark.parametrize("value,expected", [("ftp://tfe.example.com", "is not an http(s) URL"),
                                            ("tfe.example.com", "is not an http(s) URL"),
                                            ("https://", "has no host name")])
def test_bad_url_in_defaults(tmp_path, value, expected):
    plan_error(tmp_path, f'defaults:\n  application_website: "{value}"\norganizations: [{{name: a}}]\n',
               line=2, field="defaults.application_website", contains=expected)


def test_bad_url_in_account(tmp_path):
    plan_error(tmp_path, """
        accounts:
          t:
            site: tfc
            url: "gopher://x"
            username: u
            password: {env: P}
        organizations: [{name: a}]
        """, env=base_env(P=OTHER_PW), line=4, field="accounts.t.url", contains="URL")


def test_bad_route(tmp_path):
    plan_error(tmp_path, "organizations:\n  - name: a\n    route: patt\n", line=3, field="organizations[0].route",
               contains='"patt" is not one of oauth-app, entra-app, pat')


def test_bad_default_route(tmp_path):
    plan_error(tmp_path, "defaults:\n  route: github\norganizations: [{name: a}]\n", line=2, field="defaults.route")


def test_pat_route_needs_azure_org(tmp_path):
    plan_error(tmp_path, "organizations:\n  - name: a\n    route: pat\n", line=3, field="organizations[0].route",
               contains="azure_devops_organization")


def test_app_name_template_without_placeholder(tmp_path):
    plan_error(tmp_path, "defaults:\n  app_name: Terraform\norganizations: [{name: a}]\n", line=2,
               field="defaults.app_name", contains="{org}")


def test_empty_string_value(tmp_path):
    plan_error(tmp_path, 'organizations:\n  - name: a\n    display_name: ""\n', line=3,
               field="organizations[0].display_name", contains="empty")


def test_settings_errors_still_reported_with_a_file(tmp_path):
    path = write(tmp_path, "organizations: [{name: a}]\n")
    with pytest.raises(BadInput) as info:
        load_plan(path, environ=base_env(AZURE_PASSWORD=None), env_file=None)
    assert str(info.value) == "AZURE_PASSWORD is not set: put it in the environment or in .env"


def test_secret_from_environment_never_in_messages(tmp_path):
    # the user pasted a password where a URL belongs: the error must not echo it
    message = plan_error(tmp_path, f'defaults:\n  application_website: "{TFC_PW}"\norganizations: [{{name: a}}]\n',
                         line=2, field="defaults.application_website")
    assert "********" in message


# ---------------------------------------------------------------------------------------------
# Shards and selection

@pytest.mark.parametrize("spec,expected", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 4 / 4 ", (4, 4)), ("10/12", (10, 12))])
def test_parse_shard(spec, expected):
    assert parse_shard(spec) == expected


@pytest.mark.parametrize("spec", ["0/3", "4/3", "1/0", "0/0", "a/b", "", "1-3", "1/2/3", "-1/2", "1.5/2", "/2"])
def test_bad_shard(spec):
    with pytest.raises(BadInput) as info:
        parse_shard(spec)
    message = str(info.value)
    assert message.startswith(f'--shard "{spec}" ') and "\n" not in message
    assert "write e.g. --shard 1/4" in message or "K must be between 1 and N" in message


def test_shard_of_is_stable_and_a_partition():
    # pinned values: the same on every machine and Python version (sha256, not hash())
    assert [shard_of(f"example-org-{i}", 4) for i in range(1, 6)] == \
        [int.from_bytes(__import__("hashlib").sha256(f"example-org-{i}".encode()).digest()[:8], "big") % 4 + 1
         for i in range(1, 6)]
    assert shard_of("Example-Org-1", 7) == shard_of("example-org-1", 7)
    names = [f"org-{i}" for i in range(200)]
    for n in (1, 2, 3, 8):
        buckets = {k: [x for x in names if shard_of(x, n) == k] for k in range(1, n + 1)}
        assert sorted(sum(buckets.values(), [])) == sorted(names)
        assert all(buckets.values())  # 200 names fill every shard
    assert all(shard_of(x, 1) == 1 for x in names)


def test_shard_of_pinned():
    assert shard_of("example-org-1", 2) == shard_of("example-org-1", 2)
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "from robot.config import shard_of;"
                          "print([shard_of(f'example-org-{i}', 3) for i in range(1, 6)])"],
                         capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert out == str([shard_of(f"example-org-{i}", 3) for i in range(1, 6)])


def test_select_orgs(tmp_path):
    plan = load_plan(EXAMPLE, environ=base_env(), env_file=None)
    assert select_orgs(plan.orgs) == plan.orgs
    only = select_orgs(plan.orgs, only=["example-org-2", "EXAMPLE-ORG-1"])
    assert [o.name for o in only] == ["example-org-1", "example-org-2"]  # file order kept
    parts = [select_orgs(plan.orgs, shard=f"{k}/3") for k in (1, 2, 3)]
    assert sorted(o.name for part in parts for o in part) == sorted(o.name for o in plan.orgs)
    assert select_orgs(plan.orgs, shard=(1, 1)) == plan.orgs
    both = select_orgs(plan.orgs, shard="1/2", only=["example-org-1", "example-org-2", "example-org-3"])
    assert all(shard_of(o.name, 2) == 1 for o in both)
    assert select_orgs(["a", "b"], only=["b"]) == ["b"]


def test_select_orgs_unknown_only():
    with pytest.raises(BadInput) as info:
        select_orgs(["example-org-1", "example-org-2"], only=["example-org-9"])
    message = str(info.value)
    assert message.startswith('--only "example-org-9"') and "example-org-1" in message and "\n" not in message


def test_select_orgs_bad_shard():
    with pytest.raises(BadInput):
        select_orgs(["a"], shard="3/2")


def test_sandbox_style_overrides():
    sandbox = {"TFC_URL": "http://127.0.0.1:41001", "TFC_USERNAME": "sandbox-admin", "TFC_PASSWORD": "sandbox-pw-1",
               "TFC_TOTP_SECRET": AZ_TOTP, "TFC_TOKEN": "sandbox.atlasv1.0123", "AZURE_DEVOPS_URL": "http://127.0.0.1:41002/me",
               "AZURE_USERNAME": "admin@contoso.onmicrosoft.com", "AZURE_PASSWORD": "sandbox-pw-2",
               "AZURE_TOTP_SECRET": TFC_TOTP, "headless": None}
    s = load_settings(environ={}, env_file=None, overrides=sandbox)
    assert s.tfc_url == "http://127.0.0.1:41001" and s.azure_devops_url == "http://127.0.0.1:41002/me"
    assert s.tfc_token.reveal() == "sandbox.atlasv1.0123" and s.headless is True
    plan = load_plan(EXAMPLE, environ={}, env_file=None, overrides=sandbox)
    assert plan.orgs[0].task.application_website == "http://127.0.0.1:41001"
    assert plan.orgs[0].tfc.url == "http://127.0.0.1:41001"
