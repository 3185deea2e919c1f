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
