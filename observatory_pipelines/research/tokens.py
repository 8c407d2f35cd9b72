"""Danish-aware word tokens for term statistics (spec enrichments.md §3.4, tokeniser pitfalls).

- NFC, lower-cased; letters of every script kept (æøå, é, ü, ö: "café", "München");
- a hyphenated compound is ONE token ("CO2-afgift" → ``co2-afgift``): the original's
  ``[a-z0-9æøå]{2,}`` split it into ``co2`` and ``afgift`` and dropped é/ü/ö;
- links (``http(s)://…``, ``www.…``) and ``@mentions`` removed; a ``#hashtag`` counts as
  its word (4CAT drops the ``#`` with the rest of the punctuation);
- tokens without a letter (``2026``, ``10-12``) and one-character tokens dropped;
- Danish and English stop words removed: spaCy's lists (``spacy.lang.da`` / ``spacy.lang.en``,
  inside the spaCy wheel: nothing is downloaded); English because Danish debate quotes it;
- bigrams join two kept tokens separated by spaces (or a ``#``) only: punctuation, a line
  break, a removed link,
  stop word or number between them breaks the pair ("afgift på benzin" gives no
  "afgift benzin" — sklearn forms n-grams after dropping stop words and would).

Search terms are excluded as n-grams (``SearchTermFilter``): a one-word term removes every
unigram and bigram containing it, a two-word term removes that bigram, so neither the
design's own terms nor their obvious extensions come back as "emergent".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+")
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_JOINS = re.compile(r"[ \t\u00a0#]*")  # what may stand between the two words of a bigram
_BREAK = "\u2029"  # what a removed link or mention leaves: no bigram spans it
MIN_LENGTH = 2


@cache
def stop_words() -> frozenset[str]:
    from spacy.lang.da.stop_words import STOP_WORDS as DANISH
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH

    return frozenset(w.lower() for w in (*DANISH, *ENGLISH))


def _kept(token: str, stops: frozenset[str]) -> bool:
    return len(token) >= MIN_LENGTH and token not in stops and any(ch.isalpha() for ch in token)


def token_runs(text: str | None) -> list[list[str]]:
    """The kept tokens of ``text`` in runs: tokens of one run follow each other with only
    white space between them (bigrams are formed inside runs only)."""
    if not text:
        return []
    stops = stop_words()
    text = unicodedata.normalize("NFC", text).lower()
    text = _MENTION.sub(_BREAK, _LINK.sub(_BREAK, text))
    runs: list[list[str]] = []
    current: list[str] = []
    last_end = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if current and not _JOINS.fullmatch(text, last_end, match.start()):
            runs.append(current)
            current = []
        if _kept(token, stops):
            current.append(token)
        elif current:
            runs.append(current)
            current = []
        last_end = match.end()
    if current:
        runs.append(current)
    return runs


def tokens(text: str | None) -> list[str]:
    """The kept unigrams of ``text`` in order."""
    return [token for run in token_runs(text) for token in run]


@dataclass(frozen=True)
class SearchTermFilter:
    """The design's search terms, tokenised like the texts."""

    unigrams: frozenset[str]
    bigrams: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, terms: Iterable[str]) -> SearchTermFilter:
        unigrams: set[str] = set()
        bigrams: set[tuple[str, str]] = set()
        for term in terms:
            words = _TOKEN.findall(unicodedata.normalize("NFC", term).lower())
            if len(words) == 1:
                unigrams.add(words[0])
            elif len(words) == 2:
                bigrams.add((words[0], words[1]))
        return cls(frozenset(unigrams), frozenset(bigrams))

    def ngrams(self, runs: list[list[str]]) -> list[str]:
        """Unigrams and bigrams (space-joined) of ``runs`` that are not search terms."""
        out: list[str] = []
        excluded = self.unigrams
        for run in runs:
            for index, token in enumerate(run):
                if token in excluded:
                    continue
                out.append(token)
                if index + 1 < len(run):
                    following = run[index + 1]
                    if following not in excluded and (token, following) not in self.bigrams:
                        out.append(f"{token} {following}")
        return out
