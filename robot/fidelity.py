"""Fidelity: the pages the robot uses, recorded as ARIA snapshots (live or sandbox), scrubbed, compared.

A recording (`vcs-robot check --record DIR`, robot/check/record.py) is a folder with index.yaml and one
YAML file per site / page / step: the page's address, the distinct snapshots of its main region taken
after each lookup of the robot there, and those lookups (the element, the words, the roles). The words
the robot relies on are exactly its lookups' words: they come from the page objects as they run.

`compare` matches two recordings page by page and tells, for each lookup, whether each side shows its
words in the wanted role. A lookup shown on one side only (missing, renamed, another role) would break
that locator; the same lookup shown with another accepted variant, or elsewhere on the page, is harmless;
other lines that differ are words the robot does not use (harmless).
"""
from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config.files import InputFileError, load_yaml_file
from .errors import BadInput
from .secrets import registered_values

MARKER = "vcs-robot-recording"
FORMAT = 1
INDEX = "index.yaml"
MAX_PAGE_BYTES = 4 * 1024 * 1024  # a recorded page: its snapshots

# ---- snapshots ------------------------------------------------------------------------------------
FIELD_ROLES = ("textbox", "searchbox", "spinbutton", "combobox", "checkbox", "radio", "switch", "slider", "listbox")
_FIELD_VALUE = re.compile(r'^(\s*- (?:textbox|searchbox|spinbutton)(?: "(?:[^"\\]|\\.)*")?(?: \[[^\]]*\])*):(?:\s.*)?$')
# states that change while a page finishes loading (a button enabled when ready, the focused element)
_VOLATILE = re.compile(r" \[(?:disabled|active)\]")


def normalize(snapshot: str) -> str:
    """A snapshot without field values (what was typed or read is data, not the page's words, and may be
    private) and without load-time states, so that two visits of a page compare equal."""
    out: list[str] = []
    skip_deeper: int | None = None
    for line in snapshot.rstrip().splitlines():
        indent = len(line) - len(line.lstrip())
        if skip_deeper is not None and indent > skip_deeper:
            continue  # a field's value shown as its child
        skip_deeper = None
        line = _VOLATILE.sub("", line.rstrip())
        field_value = _FIELD_VALUE.match(line)
        if field_value:  # `- textbox "Name": value` -> `- textbox "Name"`, and no value lines under it
            line, skip_deeper = field_value.group(1), indent
        out.append(line)
    return "\n".join(out)


# ---- scrubbing ------------------------------------------------------------------------------------
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\bhttps?://[^\s\"')\]]+")
GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# Terraform Cloud's ids (oc-..., ot-..., ws-...), hex and numeric ids, long random tokens (digits, upper and
# lower case letters)
TFC_ID = re.compile(r"\b(?:oc|ot|at|ws|user|org|run|sv|prj|pol|polset|mod|apply|plan|var|team)-"
                    r"(?=[0-9A-Za-z]*[0-9A-Z])[0-9A-Za-z]{8,}\b")
HEX_ID = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b|\b\d{6,}\b")
TOKEN = re.compile(r"(?<![\w<])(?=[\w.~+/=-]*\d)(?=[\w.~+/=-]*[A-Z])(?=[\w.~+/=-]*[a-z])[\w.~+/=-]{24,}")
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
DATE = re.compile("|".join((
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    rf"\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b",
    rf"\b\d{{1,2}} {_MONTH},? \d{{4}}\b",
    r"\b(?:about |over |almost |less than )?(?:an?|\d+) (?:second|minute|hour|day|week|month|year)s? ago\b",
)), re.IGNORECASE)
TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?(?:\s?(?:UTC|GMT))?\b", re.IGNORECASE)
_QUERY_VALUE = re.compile(r"=[^&#\s]*")
# organization names in addresses: Azure DevOps' /<org>/[<project>/]_<route> and Terraform Cloud's /app/<org>/<area>
_ADO_ORG = re.compile(r"^/((?:[^/_][^/]*/){1,2})_\w")
_TFC_ORG = re.compile(r"/app/([^/\s?#<>\"']+)/(?:settings|workspaces|projects|registry|policy-sets|varsets|explorer|"
                      r"health|usage)\b")


@dataclass
class Scrubber:
    """Replaces private values with stable placeholders: every registered secret (robot.secrets), the values
    it is given (`private`: value -> placeholder, such as the organization or the user), and by their shape:
    emails, URLs (origin, ids, query values), GUIDs, ids, dates and times, long random tokens."""

    private: dict[str, str] = field(default_factory=dict)

    def scrub(self, text: str) -> str:
        for value in sorted(registered_values(), key=len, reverse=True):
            if value:
                text = text.replace(value, "<secret>")
        for value, placeholder in sorted(self.private.items(), key=lambda kv: len(kv[0]), reverse=True):
            if value:
                text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", placeholder, text, flags=re.IGNORECASE)
        text = EMAIL.sub("<email>", text)
        text = URL.sub(lambda m: self.scrub_url(m.group(0)), text)
        text = re.sub(r"(/url: )(\S+)", lambda m: m.group(1) + self.scrub_url(m.group(2)), text)
        return self._shapes(text)

    def learn(self, texts: Iterable[str]) -> None:
        """Adds the organization names that the addresses in `texts` show (Azure DevOps' `/<org>/_settings`,
        Terraform Cloud's `/app/<org>/settings`), so that the text around them loses them too."""
        for text in texts:
            for path in re.findall(r"(?:https?://[^/\s]+)?(/[^\s?#\"'<>]*)", text):
                for m in _ADO_ORG.finditer(path):
                    for name in m.group(1).strip("/").split("/"):
                        self.private.setdefault(name, "<ado-org>")
                for name in _TFC_ORG.findall(path):
                    self.private.setdefault(name, "<org>")

    def keep(self, words: Iterable[str]) -> None:
        """Never replaces a word of the robot's own (a user called "admin" must not turn "Need admin
        approval" into "Need <user> approval"): user names guessed from an account that are such a word go."""
        public = " ".join(words).lower()
        for value, placeholder in list(self.private.items()):
            if placeholder == "<user>" and re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", public):
                del self.private[value]

    def _shapes(self, text: str) -> str:
        text = GUID.sub("<guid>", text)
        text = TFC_ID.sub("<id>", text)
        text = DATE.sub("<date>", text)
        text = TIME.sub("<time>", text)
        text = TOKEN.sub("<secret>", text)
        return HEX_ID.sub("<id>", text)

    def scrub_url(self, url: str) -> str:
        """The address without its origin (sandbox ports and live hosts differ), ids and query values."""
        if url.startswith("<"):
            return url
        path = re.sub(r"^https?://[^/?#]+", "<origin>", url)
        path, _, query = path.partition("?")
        path = "/".join(self._shapes(part) for part in path.split("/"))
        return path + ("?" + _QUERY_VALUE.sub("=<value>", query) if query else "")

    def scrub_lookup(self, lookup: dict) -> dict:
        return {**lookup, "element": self.scrub(lookup["element"]), "words": [self.scrub(w) for w in lookup["words"]]}


def private_values(org: str = "", usernames: Iterable[str] = (), names: dict[str, Iterable[str]] | None = None,
                   extra: Iterable[str] = ()) -> dict[str, str]:
    """The private values a walk knows, with their placeholders: the organization, the accounts (an
    email, its local part and that part as a person's name: "jane.doe" -> "Jane Doe"), the names it read
    (`names`: placeholder -> values, such as "<app>" -> the apps listed), and what the user asks to scrub."""
    values: dict[str, str] = {}
    for value in extra:
        values[value] = "<private>"
    for placeholder, found in (names or {}).items():
        for value in found:
            values[value] = placeholder
    for username in usernames:
        local = username.split("@")[0]
        parts = [p for p in re.split(r"[._+-]+", local) if p]
        if len(local) >= 3:
            values[local] = "<user>"
        if len(parts) >= 2:
            values[" ".join(p.capitalize() for p in parts)] = "<user>"
        values[username] = "<email>" if "@" in username else "<user>"
    if org:
        values[org] = "<org>"
    return values


# ---- files ----------------------------------------------------------------------------------------
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def page_path(site: str, page: str, step: str) -> str:
    return f"{slug(site)}/{slug(page)}/{slug(step)}.yaml"


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_yaml(data: Any) -> str:
    """YAML with multi-line strings (the snapshots) as literal blocks, readable in a diff."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)


def clear(folder: Path) -> None:
    """Before recording again into `folder`: removes an earlier recording's YAML files (nothing else)."""
    if (folder / INDEX).is_file() and MARKER in (folder / INDEX).read_text(errors="replace"):
        for path in folder.rglob("*.yaml"):
            path.unlink()


# ---- reading recordings ---------------------------------------------------------------------------
Key = tuple[str, str, str]  # site, page, step


@dataclass
class Recording:
    folder: Path
    index: dict
    pages: dict[Key, dict]

    @property
    def label(self) -> str:
        return f"{self.folder.name or self.folder} ({self.index.get('mode', '?')})"


def load(folder: Path) -> Recording:
    """A recording; BadInput naming the folder and the fix when it is missing or not a recording."""
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder (give a folder written by `vcs-robot check --record DIR`)")
    index = _yaml(folder / INDEX, folder)
    if not isinstance(index, dict) or index.get(MARKER) != FORMAT or not isinstance(index.get("pages"), list):
        raise BadInput(f"{folder} is not a recording: its {INDEX} was not written by `vcs-robot check --record`")
    pages: dict[Key, dict] = {}
    for entry in index["pages"]:
        path = folder / str(entry.get("file", "") if isinstance(entry, dict) else "")
        if not path.resolve().is_relative_to(folder.resolve()) or path.suffix != ".yaml":
            raise BadInput(f"{folder}/{INDEX}: a page outside the recording ({entry!r})")
        data = _yaml(path, folder)
        if not _is_page(data):
            raise BadInput(f"{path}: not a recorded page (site, page, step, lookups, snapshots)")
        pages[(data["site"], data["page"], data["step"])] = data
    return Recording(folder, index, pages)


def _is_page(data: Any) -> bool:
    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def is_lookup(lk: Any) -> bool:
        return (isinstance(lk, dict) and isinstance(lk.get("element"), str) and strings(lk.get("words"))
                and strings(lk.get("roles")) and isinstance(lk.get("field"), bool) and isinstance(lk.get("text"), bool))

    return (isinstance(data, dict) and all(isinstance(data.get(k), str) for k in ("site", "page", "step"))
            and strings(data.get("snapshots")) and isinstance(data.get("lookups"), list)
            and all(is_lookup(lk) for lk in data["lookups"]))


def _yaml(path: Path, folder: Path) -> Any:
    try:
        return load_yaml_file(path, limit=MAX_PAGE_BYTES)
    except InputFileError as e:
        raise BadInput(f"{path}: {e.problem} ({folder} is not a readable recording)") from None


# ---- matching lookups in snapshots ----------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One element of a snapshot: its role, name, own text, the elements around it and the heading it is
    under (its place on the page)."""

    role: str
    name: str
    text: str
    place: str


_KEY = re.compile(r'^([\w/-]+)(?: "((?:[^"\\]|\\.)*)")?((?: \[[^\]]*\])*)$')


def nodes(snapshot: str) -> list[Node]:
    """The elements of an ARIA snapshot (itself YAML: a list of `role "name" [states]: text` entries)."""
    try:
        tree = yaml.safe_load(snapshot)
    except yaml.YAMLError:
        return []
    found: list[Node] = []
    _walk(tree if isinstance(tree, list) else [], "", [""], found)
    return found


def _walk(items: list, path: str, heading: list[str], found: list[Node]) -> None:
    for item in items:
        key, value = next(iter(item.items())) if isinstance(item, dict) and item else (item, None)
        m = _KEY.match(str(key))
        if not m or m.group(1) == "/url":
            continue
        role, name = m.group(1), " ".join((m.group(2) or "").replace('\\"', '"').split())
        text = " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""
        if role == "heading":
            heading[0] = name or text
        under = f", under heading '{heading[0]}'" if heading[0] and role != "heading" else ""
        found.append(Node(role, name, text, (path or "the page") + under))
        if isinstance(value, list):
            _walk(value, f"{path} > {role}{f' {name!r}' if name else ''}".lstrip(" >"), heading, found)


def _same_words(shown: str, word: str, field: bool = False) -> bool:
    """As robot.locate matches names: whole, case-insensitive, spaces relaxed; a field's label may end with
    ":" and a required marker."""
    shown, word = " ".join(shown.split()).lower(), " ".join(word.split()).lower()
    if field:
        shown = re.sub(r"\s*:?\s*(?:\*|\(required\))?$", "", shown)
    return shown == word


@dataclass(frozen=True)
class Match:
    word: str
    role: str
    place: str


def match(lookup: dict, snapshot_nodes: list[Node]) -> Match | None:
    """Where a snapshot shows what the lookup looks for: the wanted role with one of its words, a field
    labelled with one, or (for a text lookup) any element whose name or text is one."""
    for node in snapshot_nodes:
        for word in lookup["words"]:
            if ((node.role in lookup["roles"] and _same_words(node.name, word))
                    or (lookup["field"] and node.role in FIELD_ROLES and _same_words(node.name, word, field=True))
                    or (lookup["text"] and (_same_words(node.name, word) or _same_words(node.text, word)))):
                return Match(word, node.role, node.place)
    return None


def near(lookup: dict, shown: list[Node], other: list[Node]) -> str:
    """What a snapshot shows instead of a lookup's words: the words in another role, else the most similar
    words, else the elements of the wanted roles that only this side shows."""
    for node in shown:
        if any(_same_words(node.name, w) or _same_words(node.text, w) for w in lookup["words"]):
            return f'shown as {node.role} "{node.name or node.text}" (the robot looks for {_wanted(lookup)})'
    roles = set(lookup["roles"]) | (set(FIELD_ROLES) if lookup["field"] else set())
    candidates = [n for n in shown if (n.name or n.text) and (not roles or n.role in roles)]
    best, score = None, 0.6
    for node in candidates:
        for word in lookup["words"]:
            ratio = difflib.SequenceMatcher(None, word.lower(), (node.name or node.text).lower()).ratio()
            if ratio > score:
                best, score = node, ratio
    if best:
        return f'renamed: {best.role} "{best.name or best.text}"'
    elsewhere = {(n.role, n.name) for n in other}
    new = [f'{n.role} "{n.name}"' for n in candidates if n.name and (n.role, n.name) not in elsewhere]
    return "missing" + (f" (new here: {', '.join(dict.fromkeys(new[:3]))})" if new else "")


def _wanted(lookup: dict) -> str:
    kinds = [*lookup["roles"], *(["field"] if lookup["field"] else []), *(["text"] if lookup["text"] else [])]
    return "/".join(kinds) or "any element"


# ---- comparing ------------------------------------------------------------------------------------
@dataclass
class Difference:
    what: str  # the element, as the robot names it
    detail: str
    breaks: bool


@dataclass
class PageComparison:
    key: Key
    left: dict | None
    right: dict | None
    differences: list[Difference] = field(default_factory=list)
    other_lines: int = 0  # lines that differ beyond the robot's words
    unreached: str = ""  # the side that has no such page (its walk did not get there)

    @property
    def breaks(self) -> bool:
        """Touches a locator: a lookup that differs, or a page one side never reached (its lookups unchecked)."""
        return bool(self.unreached) or any(d.breaks for d in self.differences)

    @property
    def title(self) -> str:
        return " / ".join(self.key)


def compare(left: Recording, right: Recording) -> list[PageComparison]:
    """Every page of either recording, in the left one's order, with its differences."""
    keys = list(dict.fromkeys([*left.pages, *right.pages]))
    return [compare_page(key, left.pages.get(key), right.pages.get(key), left.label, right.label) for key in keys]


def compare_page(key: Key, left: dict | None, right: dict | None, left_label: str, right_label: str
                 ) -> PageComparison:
    result = PageComparison(key, left, right)
    if left is None or right is None:
        result.unreached = left_label if left is None else right_label
        return result
    sides = [(left_label, [nodes(s) for s in left["snapshots"]]), (right_label, [nodes(s) for s in right["snapshots"]])]
    lookups = {(lk["element"], tuple(lk["words"])): lk for lk in [*left["lookups"], *right["lookups"]]}
    found = {side: {(lk["element"], tuple(lk["words"])): lk.get("found", True) for lk in page["lookups"]}
             for side, page in ((left_label, left), (right_label, right))}
    for ident, lookup in lookups.items():
        if difference := _lookup_difference(lookup, sides, [found[label].get(ident) for label, _ in sides]):
            result.differences.append(difference)
    a, b = ("\n".join(page["snapshots"]).splitlines() for page in (left, right))
    result.other_lines = sum(1 for line in difflib.unified_diff(a, b, n=0, lineterm="")
                             if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return result


def _lookup_difference(lookup: dict, sides: list[tuple[str, list[list[Node]]]], found: list[bool | None]
                       ) -> Difference | None:
    matches = [next((m for ns in snapshots if (m := match(lookup, ns))), None) for _, snapshots in sides]
    what = lookup["element"]
    if matches[0] is None and matches[1] is None:
        return None  # shown on neither side (a later state of the page): nothing to compare
    shown = [[n for ns in snapshots for n in ns] for _, snapshots in sides]
    for i, m in enumerate(matches):
        other = matches[1 - i]
        if m is None and other is not None:
            instead = near(lookup, shown[i], shown[1 - i])
            return Difference(what, f'{other.role} "{other.word}" is {instead} on {sides[i][0]}', True)
    a, b = matches
    assert a is not None and b is not None
    if None not in found and found[0] != found[1]:
        failed = sides[found.index(False)][0]
        return Difference(what, f"shown on both sides, but the robot's lookup failed on {failed}", True)
    if (a.word.lower(), a.role) != (b.word.lower(), b.role):
        return Difference(what, f'{a.role} "{a.word}" is {b.role} "{b.word}" on {sides[1][0]}: both accepted', False)
    if a.place != b.place:
        return Difference(what, f'moved: in {a.place}, now in {b.place} on {sides[1][0]}: the robot finds it '
                                f"anywhere on the page", False)
    return None


# ---- telling ----------------------------------------------------------------------------------------
def summary_lines(pages: list[PageComparison], left: Recording, right: Recording) -> list[str]:
    """Per page with a difference: each lookup that differs, marked BREAKS or harmless; the pages one side
    did not reach; then the totals."""
    lines = []
    for page in pages:
        if page.differences or page.other_lines:
            lines.append(page.title)
        for d in page.differences:
            lines.append(f"  {'BREAKS  ' if d.breaks else 'harmless'}  {d.what}: {d.detail}")
        if page.other_lines:
            lines.append(f"  harmless  {page.other_lines} other snapshot lines differ (not words the robot looks up)")
    for side in (left, right):
        unreached = [p.title for p in pages if p.unreached == side.label]
        if unreached:
            lines.append(f"not reached on {side.label} (its walk: {side.index.get('walk', '?')}); BREAKS: their "
                         f"lookups are unchecked:")
            lines += [f"  {title}" for title in unreached]
    broken = sum(p.breaks for p in pages)
    same = sum(not p.breaks and not p.differences and not p.other_lines for p in pages)
    lines.append(f"{len(pages)} pages: {same} the same, {len(pages) - same - broken} with harmless differences only, "
                 f"{broken} touching a locator of the robot's")
    return lines


_STYLE = """body { font-family: sans-serif; margin: 24px; } h2 { font-size: 16px; margin-top: 32px; }
.breaks { color: #b00020; font-weight: bold; } .harmless { color: #555; } table.diff { font: 12px monospace; }
.diff_add { background: #dfd; } .diff_chg { background: #ffa; } .diff_sub { background: #fdd; }
td { vertical-align: top; } .same { color: #2a7; }"""


def report_html(pages: list[PageComparison], left: Recording, right: Recording) -> str:
    """Every page: its differences, then both sides' snapshots side by side (changes highlighted)."""
    differ = difflib.HtmlDiff(wrapcolumn=90)
    parts = [f"<!doctype html><meta charset='utf-8'><title>vcs-robot fidelity</title><style>{_STYLE}</style>",
             f"<h1>Fidelity: {html.escape(left.label)} vs {html.escape(right.label)}</h1>",
             "<p>" + html.escape(summary_lines(pages, left, right)[-1]) + "</p>"]
    for page in pages:
        parts.append(f"<h2>{html.escape(page.title)}</h2><ul>")
        if page.unreached:
            parts.append(f"<li class='breaks'>breaks: not reached on {html.escape(page.unreached)}; "
                         f"its lookups are unchecked</li>")
        for d in page.differences:
            kind = "breaks" if d.breaks else "harmless"
            parts.append(f"<li class='{kind}'>{'breaks a locator' if d.breaks else 'harmless'}: "
                         f"{html.escape(d.what)}: {html.escape(d.detail)}</li>")
        if not page.differences and not page.unreached:
            parts.append("<li class='same'>the robot's words: the same on both sides</li>")
        parts.append("</ul>")
        a, b = ("\n".join((side or {}).get("snapshots", [])).splitlines() for side in (page.left, page.right))
        parts.append(differ.make_table(a, b, html.escape(left.label), html.escape(right.label)))
    return "\n".join(parts)
