"""The markup switch (`SandboxOptions.markup`): every page the robot reads, in structurally different HTML
that shows exactly the same words.

  plain    what the sandbox always rendered (the docs screenshots depend on it)
  tables   key/value blocks and lists as tables, fields labelled by aria-labelledby, actions as links
           styled as buttons, a native <select> for drop-downs, hidden traps
  cards    label-and-value containers, <article> entries, placeholder-only fields, actions as
           <div role="button">, a custom ARIA combobox for drop-downs, no well-known ids, hidden traps
  mixed    one of the three per page, from the seed and the page's path (stable for both)

Templates get a `Markup` as `mk`; the macros of templates/_markup.html render each building block (a
key/value block, a list of entries, a text field, an action, a drop-down, the hidden traps) from data,
taking the plain markup, unchanged, as their body. Identifiers go through `mk` too: `mk.cls` / `mk.id`
(plain's own class or id in plain, an opaque per-variant one elsewhere, CSS included), `mk.own_id` (an id
only plain has), `mk.public_id` (an id the real site is known to use: dropped in cards only). Page scripts
find their elements with sbx.find / sbx.all (base.html): by `mk.hook` data attributes, whose names differ
per variant, or in plain by plain's own selectors.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from markupsafe import Markup as Html
from markupsafe import escape

MARKUPS = ("plain", "tables", "cards")
CHOICES = (*MARKUPS, "mixed")

# per variant: the data attribute page scripts find elements by, the attribute of controls enabled once
# the page is ready, and the prefix of its (opaque) ids
_PROFILES = {
    "plain": ("", "data-ready-enable", ""),
    "tables": ("data-t", "data-t-ready", "t"),
    "cards": ("data-k", "data-k-wait", "k"),
}


def check(choice: str) -> str:
    if choice not in CHOICES:
        raise ValueError(f"markup {choice!r} is not one of {', '.join(CHOICES)}")
    return choice


def pick(choice: str, seed: int, path: str) -> str:
    """The variant a page is rendered in: `choice` itself, or for "mixed" one chosen by seed and path."""
    check(choice)
    if choice != "mixed":
        return choice
    digest = hashlib.sha256(f"{seed}\0{path}".encode()).digest()
    return MARKUPS[digest[0] % len(MARKUPS)]


@dataclass(frozen=True)
class Markup:
    name: str

    def __post_init__(self) -> None:
        if self.name not in MARKUPS:
            raise ValueError(f"markup {self.name!r} is not one of {', '.join(MARKUPS)}")

    @property
    def plain(self) -> bool:
        return self.name == "plain"

    @property
    def tables(self) -> bool:
        return self.name == "tables"

    @property
    def cards(self) -> bool:
        return self.name == "cards"

    @property
    def hook_attr(self) -> str:
        return _PROFILES[self.name][0]

    @property
    def ready_attr(self) -> str:
        return _PROFILES[self.name][1]

    def hook(self, name: str, arg: object = None) -> Html:
        """` data-X="name"` (and ` data-X-arg="arg"`): what page scripts find an element by; nothing in plain."""
        if self.plain:
            return Html("")
        attr = self.hook_attr
        html = f' {attr}="{escape(name)}"'
        if arg is not None:
            html += f' {attr}-arg="{escape(arg)}"'
        return Html(html)

    def id(self, *parts: object) -> str:
        """An element id: the plain id itself in plain, an opaque one (stable, per variant) otherwise."""
        plain = "-".join(str(p) for p in parts)
        if self.plain:
            return plain
        digest = hashlib.sha1(f"{self.name}:{plain}".encode()).hexdigest()[:7]
        return f"{_PROFILES[self.name][2]}{digest}"

    def own_id(self, name: str) -> Html:
        """` id="name"`: one of the sandbox's own ids, which only plain has (dropped elsewhere)."""
        return Html(f' id="{escape(name)}"') if self.plain else Html("")

    def public_id(self, name: str) -> Html:
        """` id="name"`: an id the real site is known to use (public automation code relies on it): kept in
        plain and tables, dropped in cards."""
        return Html("") if self.cards else Html(f' id="{escape(name)}"')

    def cls(self, names: str) -> str:
        """Class names: plain's own in plain, renamed (opaque, per variant) otherwise; CSS uses the same."""
        if self.plain:
            return names
        return " ".join(self.id("class", name) for name in names.split())

    def ready(self, native: bool = True) -> Html:
        """Attributes of a control that is enabled only when the page is ready (base.html enables it)."""
        state = "disabled" if native else 'aria-disabled="true"'
        return Html(f" {self.ready_attr} {state}")

    def script_config(self) -> Html:
        """What base.html's script needs: the hook and ready attributes (JSON)."""
        return Html(json.dumps({"name": self.name, "hook": self.hook_attr, "ready": self.ready_attr}))
