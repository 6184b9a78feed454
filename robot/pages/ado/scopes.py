"""Azure DevOps' OAuth scopes, as the app registration form and an app's details page name them, and the
reading of an app's scope list: each line recognised by what it says, whatever else it holds.

The vocabulary is public (learn.microsoft.com, "Authorize access to REST APIs with OAuth 2.0": Scopes): each
scope's id (vso.code) and label (Code (read)). A line names a scope by its id, or by its label with anything
around it (an id, a description, a bullet); the longest label it holds wins ("Code (read and write)" is not
"Code (read)"). A line that names no scope, or two different ones, is not recognised: reported, never
counted as a scope the app has or lacks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# (id, label): the legacy registration form's "Authorized scopes"
SCOPES: tuple[tuple[str, str], ...] = (
    ("vso.agentpools_manage", "Agent Pools (read, manage)"),
    ("vso.analytics", "Analytics (read)"),
    ("vso.auditlog", "Audit Log (read)"),
    ("vso.build", "Build (read)"),
    ("vso.build_execute", "Build (read and execute)"),
    ("vso.code", "Code (read)"),
    ("vso.code_write", "Code (read and write)"),
    ("vso.code_manage", "Code (read, write, and manage)"),
    ("vso.code_full", "Code (full)"),
    ("vso.code_status", "Code (status)"),
    ("vso.connected_server", "Connected Server"),
    ("vso.entitlements", "Entitlements (read)"),
    ("vso.extension", "Extensions (read)"),
    ("vso.extension_manage", "Extensions (read and manage)"),
    ("vso.extension.data", "Extension data (read)"),
    ("vso.extension.data_write", "Extension data (read and write)"),
    ("vso.graph", "Graph (read)"),
    ("vso.graph_manage", "Graph (manage)"),
    ("vso.identity", "Identity (read)"),
    ("vso.identity_manage", "Identity (manage)"),
    ("vso.machinegroup_manage", "Deployment group (read, manage)"),
    ("vso.memberentitlementmanagement", "MemberEntitlement Management (read)"),
    ("vso.memberentitlementmanagement_write", "MemberEntitlement Management (write)"),
    ("vso.notification", "Notifications (read)"),
    ("vso.notification_write", "Notifications (write)"),
    ("vso.notification_manage", "Notifications (manage)"),
    ("vso.notification_diagnostics", "Notifications (diagnostics)"),
    ("vso.packaging", "Packaging (read)"),
    ("vso.packaging_write", "Packaging (read and write)"),
    ("vso.packaging_manage", "Packaging (read, write, and manage)"),
    ("vso.profile", "User profile (read)"),
    ("vso.profile_write", "User profile (write)"),
    ("vso.project", "Project and team (read)"),
    ("vso.project_write", "Project and team (read and write)"),
    ("vso.project_manage", "Project and team (read, write and manage)"),
    ("vso.release", "Release (read)"),
    ("vso.release_execute", "Release (read, write and execute)"),
    ("vso.release_manage", "Release (read, write, execute and manage)"),
    ("vso.securefiles_read", "Secure Files (read)"),
    ("vso.security_manage", "Security (manage)"),
    ("vso.serviceendpoint", "Service Endpoints (read)"),
    ("vso.serviceendpoint_query", "Service Endpoints (read and query)"),
    ("vso.serviceendpoint_manage", "Service Endpoints (read, query and manage)"),
    ("vso.symbols", "Symbols (read)"),
    ("vso.taskgroups_read", "Task Groups (read)"),
    ("vso.test", "Test management (read)"),
    ("vso.test_write", "Test management (read and write)"),
    ("vso.tokenadministration", "Token Administration"),
    ("vso.tokens", "Delegated Authorization Tokens"),
    ("vso.variablegroups_read", "Variable Groups (read)"),
    ("vso.wiki", "Wiki (read)"),
    ("vso.wiki_write", "Wiki (read and write)"),
    ("vso.work", "Work items (read)"),
    ("vso.work_write", "Work items (read and write)"),
    ("vso.work_full", "Work items (full)"),
)
LABELS = {label.lower(): scope for scope, label in SCOPES}
IDS = {scope.lower(): scope for scope, _ in SCOPES}
ID_PATTERN = re.compile(r"(?<![\w.])(vso\.[a-z_.]+?)(?=[\s,;:)\]]|$)", re.IGNORECASE)


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower()


def scope_of(line: str) -> str | None:
    """The scope id `line` names (by its id, or by its label with anything around it), or None when it names
    none or two different ones."""
    text = _plain(line)
    named = {IDS[m.group(1).lower()] for m in ID_PATTERN.finditer(text) if m.group(1).lower() in IDS}
    labelled = [label for label in LABELS if label in text]
    if labelled:
        longest = max(labelled, key=len)
        # a shorter label inside the longest one is the same words ("Code (read)" in "Code (read) vso.code")
        named.add(LABELS[longest])
        named.update(LABELS[label] for label in labelled if label not in longest)
    return next(iter(named)) if len(named) == 1 else None


def label_of(scope: str) -> str:
    return next(label for sid, label in SCOPES if sid == scope)


@dataclass(frozen=True)
class ScopeReading:
    """An app's scope list as read: every line, and the scope each names (None: not recognised)."""

    lines: tuple[str, ...]
    scopes: tuple[str | None, ...]

    @classmethod
    def of(cls, lines: list[str]) -> ScopeReading:
        kept = [line for line in lines if line.strip()]
        return cls(tuple(kept), tuple(scope_of(line) for line in kept))

    @property
    def unrecognised(self) -> list[str]:
        return [line for line, scope in zip(self.lines, self.scopes) if scope is None]

    @property
    def known(self) -> set[str]:
        return {scope for scope in self.scopes if scope}

    @property
    def complete(self) -> bool:
        """Every line recognised, and at least one: a reading to act on."""
        return bool(self.lines) and not self.unrecognised
