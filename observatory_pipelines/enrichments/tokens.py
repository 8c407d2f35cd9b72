"""Danish-aware word tokens for term statistics (spec enrichments.md §3.4, tokeniser pitfalls);
the enrichment record_terms (enrichments/terms.py) stores each record's n-grams once.

- NFC, lower-cased; letters of every script kept (æøå, é, ü, ö: "café", "München");
- a hyphenated compound is ONE token ("CO2-afgift" → ``co2-afgift``): the original's
  ``[a-z0-9æøå]{2,}`` split it into ``co2`` and ``afgift`` and dropped é/ü/ö;
- links (``http(s)://…``, ``www.…``) and ``@mentions`` removed; a ``#hashtag`` counts as
  its word (4CAT drops the ``#`` with the rest of the punctuation);
- tokens without a letter (``2026``, ``10-12``) and one-character tokens dropped;
- Danish and English stop words removed: spaCy's lists (``spacy.lang.da`` / ``spacy.lang.en``,
  inside the spaCy wheel: nothing is downloaded); English because Danish debate quotes it;
- bigrams join two kept tokens separated by spaces (or a ``#``) only: punctuation, a line
  break, a removed link, a stop word or a number between them breaks the pair ("afgift på
  benzin" gives no "afgift benzin"; sklearn forms n-grams after dropping stop words and
  would).

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
_TOKEN_PATTERN = r"[^\W_]+(?:-[^\W_]+)*"
_TOKEN = re.compile(_TOKEN_PATTERN)
# one pass over the text: each token, and whether only spaces (or a #) separate it from
# the next one (then both are in one run: the candidates for bigrams)
_TOKEN_JOINED = re.compile(rf"({_TOKEN_PATTERN})([ \t\u00a0#]+(?=[^\W_]))?")
_BREAK = "\u2029"  # what a removed link or mention leaves: no bigram spans it
MIN_LENGTH = 2
_VERDICT_CACHE = 500_000  # tokens whose keep/drop verdict is remembered (bounded memory)
_verdicts: dict[str, bool] = {}


@cache
def stop_words() -> frozenset[str]:
    from spacy.lang.da.stop_words import STOP_WORDS as DANISH
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH

    return frozenset(w.lower() for w in (*DANISH, *ENGLISH))


def _verdict(token: str) -> bool:
    if len(_verdicts) >= _VERDICT_CACHE:
        _verdicts.clear()
    verdict = _verdicts[token] = (
        len(token) >= MIN_LENGTH and token not in stop_words() and any(ch.isalpha() for ch in token)
    )
    return verdict


def token_runs(text: str | None) -> list[list[str]]:
    """The kept tokens of ``text`` in runs: tokens of one run follow each other with only
    spaces (or a ``#``) between them (bigrams are formed inside runs only)."""
    if not text:
        return []
    text = unicodedata.normalize("NFC", text).lower()
    if "http" in text or "www." in text:
        text = _LINK.sub(_BREAK, text)
    if "@" in text:
        text = _MENTION.sub(_BREAK, text)
    verdicts = _verdicts
    runs: list[list[str]] = []
    current: list[str] = []
    for token, joined in _TOKEN_JOINED.findall(text):
        keep = verdicts.get(token)
        if keep is None:
            keep = _verdict(token)
        if keep:
            current.append(token)
            if joined:
                continue
        if current:  # a dropped token, or anything but spaces before the next, ends the run
            runs.append(current)
            current = []
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

    def sql_parameters(self) -> dict[str, list[str]]:
        """The exclusions as ``research/sql/emergent_terms_counts.sql`` takes them (stored
        bigrams are their two tokens joined by one space)."""
        return {
            "excluded_words": sorted(self.unigrams),
            "excluded_pairs": sorted(f"{first} {second}" for first, second in self.bigrams),
        }

    def ngrams(self, runs: list[list[str]]) -> list[str]:
        """Unigrams and bigrams (space-joined) of ``runs`` that are not search terms."""
        out: list[str] = []
        excluded, pairs = self.unigrams, self.bigrams
        for run in runs:
            out.extend(token for token in run if token not in excluded)
            out.extend(
                f"{first} {second}"
                for first, second in zip(run, run[1:], strict=False)
                if first not in excluded and second not in excluded
                and (first, second) not in pairs
            )  # fmt: skip
        return out
