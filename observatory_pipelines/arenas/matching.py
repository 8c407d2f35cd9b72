"""Search-term matching shared by the RSS filter and ingest's ``search_terms_matched``.

Rules (spec, arenas.md "Matching"): case-insensitive; a term's spaces match any
whitespace; terms longer than 2 characters need only a left word boundary
(``grønland`` matches ``grønlandspolitik``), terms of 1-2 characters need both;
Danish letters æ ø å count as word letters (Python's ``\\w`` is Unicode-aware).
Hashtag terms match the tag with its ``#``. Terms sharing a ``group`` are ANDed,
groups (and ungrouped terms) are ORed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from observatory_pipelines.arenas.base import SearchTerm

# The left word boundary is checked after the term's first character ("no word character
# before it" = the two characters before the position after it are not a word character and
# anything): a lookbehind in front of a pattern is tried at every position of the text, which
# made matching 2.5× slower on an article (the ingest matches every record).
_LEFT_AFTER_FIRST = r"(?<!\w[\s\S])"
_RIGHT = r"(?!\w)"


def _term_text(term: SearchTerm) -> str:
    text = " ".join(term.term.split())
    if term.term_type == "hashtag" and text and not text.startswith("#"):
        text = "#" + text
    return text


@lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in text[1:].split(" "))
    core = text.lstrip("#")
    right = _RIGHT if len(core) <= 2 else ""
    return re.compile(re.escape(text[0]) + _LEFT_AFTER_FIRST + body + right, re.IGNORECASE)


def term_matches(text: str | None, term: SearchTerm) -> bool:
    needle = _term_text(term)
    if not text or not needle:
        return False
    return _pattern(needle).search(text) is not None


def match_terms(text: str | None, terms: list[SearchTerm]) -> list[str]:
    """The terms (as given, in order, no duplicates) that occur in ``text``."""
    matched: list[str] = []
    for term in terms:
        if term.term not in matched and term_matches(text, term):
            matched.append(term.term)
    return matched


def quoted_term(term: SearchTerm) -> str:
    """A term as the search APIs (Bluesky, Reddit, GDELT, YouTube) read it.

    Whitespace runs become one space; a phrase, or any term holding a space, goes in
    double quotes so the API searches the words together and in order. Hashtags are
    never quoted (Bluesky adds their ``#``; the others search the bare word).
    """
    text = " ".join(term.term.split())
    if term.term_type != "hashtag" and (term.term_type == "phrase" or " " in text):
        return f'"{text}"'
    return text


def term_groups(terms: list[SearchTerm]) -> list[list[SearchTerm]]:
    """Terms grouped for querying: one list per group id, each ungrouped term on its own."""
    groups: dict[object, list[SearchTerm]] = {}
    for index, term in enumerate(terms):
        if not term.term.strip():
            continue
        key = ("g", term.group) if term.group is not None else ("t", index)
        groups.setdefault(key, []).append(term)
    return list(groups.values())


def matches_groups(text: str | None, terms: list[SearchTerm]) -> bool:
    """True when every term of at least one group occurs (no terms = everything matches)."""
    groups = term_groups(terms)
    if not groups:
        return True
    return any(all(term_matches(text, t) for t in group) for group in groups)
