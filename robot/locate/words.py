"""Words as a person reads them: the patterns names and labels are matched with."""
from __future__ import annotations

import re


def _words(variant: str) -> str:
    """A variant's words as a pattern, spaces relaxed; "/" escaped too (Playwright writes patterns as /.../)."""
    return r"\s+".join(re.escape(word).replace("/", r"\/") for word in variant.split())


def names(*variants: str) -> re.Pattern:
    """An accessible-name pattern matching any variant exactly, case-insensitively, spaces relaxed."""
    alternatives = "|".join(_words(v) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*$", re.IGNORECASE)


def field_names(*variants: str) -> re.Pattern:
    """A field's label: any variant, tolerating a required marker ("*" or "(required)") after it."""
    alternatives = "|".join(_words(v) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*:?\s*(?:\*|\(required\))?\s*$", re.IGNORECASE)
