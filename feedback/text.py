"""Text no database can store: NUL characters (PostgreSQL refuses them) and unpaired
UTF-16 surrogates (they have no UTF-8 form). JSON and forms can carry both, so every
way in checks here before anything is stored or queried."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired surrogates."


def has_unstorable_text(value: object) -> bool:
    """Whether any string in ``value`` (nested dicts and lists included, keys too) is
    one a database cannot store."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


# Characters XML 1.0 forbids anywhere in a document (its production "Char" allows tab,
# line feed, carriage return and the rest of Unicode but surrogates, U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids: one report with a U+0001 in its
    title would otherwise make a whole feed unreadable for every subscriber."""
    return _NOT_XML.sub("", text)


def folded_for_search(*parts: str | None) -> str:
    """The parts as search compares them: case-folded (any script: "Ё" finds "ё", "ß"
    finds "SS") and joined by line breaks, which a search box cannot hold, so a match
    never spans two parts."""
    return "\n".join(part.casefold() for part in parts if part)


# A title's trailing " — Site", " | Site" or " - Site": the separators sites put before
# their own name. The dash needs a space on both sides so "Jean-Luc" stays whole.
_TITLE_SEPARATORS = (" — ", " \u2013 ", " | ", " - ", " · ", " :: ")  # — en dash | - · ::


def title_without_suffix(title: str, site_name: str, extra_suffix: str = "") -> str:
    """``title`` without the site's own name at its end (after one of the usual
    separators) and without ``extra_suffix`` (the site's setting), in either order,
    ignoring case; never left empty."""
    original = (title or "").strip()
    endings = [separator + site_name.strip() for separator in _TITLE_SEPARATORS]
    if not (site_name or "").strip():
        endings = []
    if extra_suffix.strip():
        endings.append(extra_suffix.strip())
    folded_endings = [(ending, ending.casefold()) for ending in endings]
    shown = original
    trimmed = True
    while trimmed:
        trimmed = False
        folded = shown.casefold()
        for ending, folded_ending in folded_endings:
            # The cheap test on the whole folded title first (lists call this per row).
            if not folded.endswith(folded_ending) or len(shown) <= len(ending):
                continue
            if shown[-len(ending) :].casefold() == folded_ending:
                shown = shown[: -len(ending)].rstrip(" —\u2013|-·:")
                trimmed = True
                break
    return shown or original
