"""Finding things the way a person does, whatever the HTML: by role, label and visible text.

- `find` waits for the first of several candidates (role, label, placeholder, text, CSS) to show, with
  no sleeping: locate.js reads the page for them (again whenever the page changes) and tags the element
  found, so the action on it needs no role or text engine; each second it finds nothing, Playwright's
  own engines look too. CSS candidates win over the others; a hidden or off-screen match never wins
  over a shown one. When nothing matches it raises `DriftError` naming the site, page, step, element,
  every candidate and the nearest words shown on the page. `first_of` waits for whichever of several
  things shows first, `find_each` finds a form's fields in one look.
- `value_next_to` reads the value shown next to a label: a labelled element, a `dt`/`dd` pair, a row
  header and its cell, a column header and the cell below, or a label followed by its value.
- `entries` finds the rows, items or cards that each hold one thing (a provider, a secret, a token),
  and `describe` reads one.
The page-side work is in robot/data/locate.js, one `evaluate` per question. By concern: words.py (the
patterns words are matched with), candidates.py, page.py (the page-side half, documents, addresses),
waiting.py, finding.py, reading.py, screens.py; this module is what the page objects import.
"""
from __future__ import annotations

from .candidates import (
    Candidate,
    Role,
    Scope,
    Where,
    control,
    control_matching,
    css,
    having,
    inside,
    label,
    role,
    role_alert,
    role_matching,
    text,
    text_field,
    text_matching,
    visible_label,
)
from .finding import (
    checkboxes_to_set,
    choose_option,
    click_or_enter,
    drift,
    find,
    find_each,
    first_of,
    nearest_words,
    present,
    shown_now,
    strict_matching,
    wait_shown,
)
from .page import DEFAULT_TIMEOUT_MS, document_of, install, is_ready, mark_ready, origin, page_of, plain_url, read
from .reading import (
    EntryView,
    block_around,
    block_of,
    describe,
    described_entries,
    entries,
    entry_named,
    value_element,
    value_next_to,
    wait_enabled,
    wait_for_entries,
    wait_for_filtered_list,
    wait_for_value,
)
from .screens import Screen, error_texts, next_screen, screen_of
from .waiting import race, until
from .words import (
    FAMILIES,
    containing,
    containing_cue,
    cue,
    family,
    field_cue,
    field_names,
    field_phrase,
    names,
    phrase,
)

__all__ = [
    "click_or_enter",
    "Candidate", "control", "control_matching", "css", "having", "inside", "label", "Role", "role", "role_alert",
    "role_matching", "Scope", "text", "text_field", "text_matching", "visible_label", "Where", "checkboxes_to_set",
    "choose_option", "drift", "find", "find_each", "first_of", "nearest_words", "present", "shown_now",
    "strict_matching", "wait_shown", "DEFAULT_TIMEOUT_MS", "document_of", "install", "is_ready", "mark_ready",
    "origin", "page_of", "plain_url", "read", "block_around", "block_of", "describe", "described_entries", "entries",
    "entry_named", "EntryView", "value_element", "value_next_to", "wait_enabled", "wait_for_entries",
    "wait_for_filtered_list", "wait_for_value", "error_texts", "next_screen", "Screen", "screen_of", "race", "until",
    "containing", "containing_cue", "cue", "FAMILIES", "family", "field_cue", "field_names", "field_phrase", "names",
    "phrase",
]
