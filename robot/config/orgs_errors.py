"""Where a problem is in the organizations file: YAML paths mapped to lines, duplicate keys, and the
JSON Schema's findings turned into one line that names the file, line and field, and the fix."""
from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import BadInput
from ..model import DEFAULT_AZURE_DEVOPS_URL, DEFAULT_TFC_URL
from ..secrets import redact
from .values import ENV_NAME_RE, Invalid, bad, check_url

SECRET_FIELDS = ("password", "totp_secret", "token")


@cache
def orgs_schema() -> dict:
    """The JSON Schema of the organizations file (robot/data/orgs.schema.json)."""
    return json.loads(resources.files("robot").joinpath("data/orgs.schema.json").read_text(encoding="utf-8"))


def field_path(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class Lines:
    """Maps a JSON path in the YAML document to a line number, from the composed node tree."""

    def __init__(self, root: yaml.Node):
        self.root = root

    def node(self, path: Sequence[Any]) -> tuple[yaml.Node, yaml.Node | None]:
        """(node at path, its key node or None); the deepest node found when the path goes further."""
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


def duplicate_keys(node: yaml.Node, path: list) -> tuple[list, Any, int, int] | None:
    """The first duplicated mapping key in the document: (path, key, line, first line) or None."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    return path, k.value, k.start_mark.line + 1, seen[k.value]
                seen[k.value] = k.start_mark.line + 1
            found = duplicate_keys(v, path + [getattr(k, "value", "?")])
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = duplicate_keys(item, path + [i])
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


class FileErrors:
    """Builds the one-line BadInput for a problem at a place in the file."""

    def __init__(self, path: Path, lines: Lines | None):
        self.path, self.lines = path, lines

    def line(self, path: Sequence[Any]) -> int:
        return self.lines.line(path) if self.lines else 1

    def at(self, line: int | None, field: str, problem: str, fix: str) -> BadInput:
        where = f"{self.path}:{line}" if line else f"{self.path}"
        return bad(f"{where}: {field}: {problem}; {fix}" if field else f"{where}: {problem}; {fix}")

    def field(self, path: Sequence[Any], problem: str, fix: str, key: bool = False) -> BadInput:
        line = self.lines.line(path, key=key) if self.lines else None
        return self.at(line, field_path(path), problem, fix)


URL_FIELDS = ("url", "application_website", "company_website")


def _site_of(path: Sequence[Any], errors: FileErrors) -> str | None:
    if errors.lines is None:
        return None
    node, key = errors.lines.node(list(path[:2]) + ["site"])
    return node.value if key is not None and isinstance(node.value, str) else None


def schema_error(err: Any, errors: FileErrors, schema: dict) -> BadInput:
    """The one line for a jsonschema ValidationError `err` (its fields are loosely typed)."""
    path = list(err.absolute_path)
    last = path[-1] if path else None
    instance = err.instance
    validator = err.validator
    if validator == "additionalProperties":
        allowed = sorted((err.schema.get("properties") or {}).keys())
        unknown = sorted(k for k in instance if k not in allowed) if isinstance(instance, dict) else []
        name = unknown[0] if unknown else "?"
        line = errors.lines.key_line(path, name) if errors.lines else None
        return errors.at(line, field_path(path + [name]), f'unknown key "{name}"',
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
        want = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected if t != "null")
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
            check_url(instance, example)
        except Invalid as exc:
            return errors.field(path, exc.problem, exc.fix)
        return errors.field(path, f'"{instance}" is not an http(s) URL', f"use e.g. {example}")
    if validator == "pattern":
        shown = instance if last not in SECRET_FIELDS else "(hidden)"
        return errors.field(path, f'"{shown}" is not allowed here',
                            _FIXES.get(str(last), f"match the pattern {err.validator_value}"))
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
    return errors.field(path, redact(err.message) if last not in SECRET_FIELDS else "invalid value",
                        "see robot/data/orgs.schema.json")
