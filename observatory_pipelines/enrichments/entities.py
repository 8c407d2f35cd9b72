"""Named entities without a model: the actor gazetteer and capitalised spans (spec §2.3).

No offline Danish NER model ships in a registry package (spaCy's Danish models install
from GitHub releases, DaCy's from Hugging Face), so nothing here is learned:

1. **Gazetteer** (``method = gazetteer``, confidence 1.0): every actor's canonical name and
   aliases (``actors``, ``actor_aliases``), NFC and casefolded, matched on whole words, the
   longest name first; a trailing genitive ``-s`` is also accepted (``Frederiksens`` →
   Mette Frederiksen's ``Frederiksen`` alias). Type from ``actor_type``, the match linked to
   ``actor_id``. Applied to every record, titles included.
2. **Capitalised spans** (``method = capitalised``, type ``UNKNOWN``, confidence 0.5): runs
   of 1-4 capitalised words not at a sentence start (particles such as von der, de la, af may
   sit inside), skipping Danish stop words, weekdays and months, #tags and @handles, and
   anything the gazetteer matched. Only in texts longer than 100 characters. In Danish only
   proper nouns are capitalised, so the rule is usable; it fails on sentence starts,
   all-caps posts, headline case and hashtags.

Role (the original's heuristic, on an entity's first occurrence): ``quoted_source`` when
"ifølge" or "udtaler sig til" precedes within 60 characters, else ``speaker`` when
sagde/siger/mener/udtaler/forklarede/tilføjer follows within 60, else ``mentioned``.
Words are matched by a dictionary of word tuples (the same result as Aho-Corasick over
words, without a dependency).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from observatory_pipelines.enrichments.links import MAX_TEXT_CHARS, URL_PATTERN

MIN_SPAN_TEXT = 100
MAX_SPAN_WORDS = 4
CONTEXT = 60
PARTICLES = frozenset({"von", "van", "der", "den", "de", "la", "le", "du", "af"})
SPEECH_VERBS = ("sagde", "siger", "mener", "udtaler", "forklarede", "tilføjer")
SOURCE_MARKERS = ("ifølge", "udtaler sig til")
# Danish stop words that are capitalised at a sentence start or in headline case, and the
# weekdays and months (not names in Danish, but capitalised in English-style headlines).
STOP_WORDS = frozenset(
    """og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har
    om vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal
    selv her alle vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne
    end dette mit også under have dig anden hende mine alt meget sit sine vor mod disse hvis
    din nogle hos blive mange ad bliver hendes været thi jer sådan så men hvem hvorfor nej ja
    mandag tirsdag onsdag torsdag fredag lørdag søndag januar februar marts april maj juni
    juli august september oktober november december""".split()
)
_WORD = re.compile(r"[#@]?\w+(?:[-'’]\w+)*")
_SENTENCE_END = re.compile(r"[.!?:]\s*$|\n\s*$")


@dataclass(frozen=True)
class Entity:
    ordinal: int
    name: str  # the canonical name (gazetteer) or the span as written
    entity_type: str
    actor_id: UUID | None
    start: int
    end: int
    role: str
    confidence: float
    method: str


@dataclass(frozen=True)
class Gazetteer:
    names: dict[tuple[str, ...], tuple[UUID, str, str]]  # words → (actor, canonical, type)
    longest: int
    digest: str


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


def build_gazetteer(rows: list[tuple[UUID, str, str | None, str]]) -> Gazetteer:
    """From (actor_id, canonical name, actor type, name or alias) rows."""
    names: dict[tuple[str, ...], tuple[UUID, str, str]] = {}
    for actor_id, canonical, actor_type, name in sorted(rows, key=lambda r: (str(r[0]), r[3])):
        words = tuple(_fold(w) for w, _, _ in _words(name) if not w.startswith(("#", "@")))
        if words and len("".join(words)) >= 2:
            names.setdefault(words, (actor_id, canonical, (actor_type or "ACTOR").upper()))
    digest = hashlib.sha256(repr(sorted((k, str(v)) for k, v in names.items())).encode())
    return Gazetteer(names, max((len(k) for k in names), default=0), digest.hexdigest()[:12])


def load_gazetteer(conn: psycopg.Connection) -> Gazetteer:
    rows = conn.execute(
        "SELECT a.id, a.canonical_name, a.actor_type, a.canonical_name FROM actors a "
        "UNION SELECT a.id, a.canonical_name, a.actor_type, l.alias "
        "FROM actor_aliases l JOIN actors a ON a.id = l.actor_id"
    ).fetchall()
    return build_gazetteer(rows)


def _role(text: str, start: int, end: int) -> str:
    after = _fold(text[end : end + CONTEXT])
    before = _fold(text[max(0, start - CONTEXT) : start])
    if any(marker in before for marker in SOURCE_MARKERS):
        return "quoted_source"
    if any(re.search(rf"\b{verb}\b", after) for verb in SPEECH_VERBS):
        return "speaker"
    return "mentioned"


def _gazetteer_hits(words, gazetteer: Gazetteer) -> list[tuple[int, int, tuple]]:
    """(first word, past last word, entry) of each longest match, left to right."""
    folded = [_fold(w) for w, _, _ in words]
    hits, i = [], 0
    while i < len(words):
        found = None
        for length in range(min(gazetteer.longest, len(words) - i), 0, -1):
            key = tuple(folded[i : i + length])
            entry = gazetteer.names.get(key)
            if entry is None and key[-1].endswith("s") and len(key[-1]) > 2:
                entry = gazetteer.names.get((*key[:-1], key[-1][:-1]))  # genitive -s
            if entry is not None and not words[i][0].startswith(("#", "@")):
                found = (i, i + length, entry)
                break
        if found:
            hits.append(found)
            i = found[1]
        else:
            i += 1
    return hits


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.startswith(("#", "@"))


def _span_hits(text: str, words, taken: set[int]) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(words):
        word, start, _ = words[i]
        at_sentence_start = i == 0 or bool(_SENTENCE_END.search(text[:start]))
        if i in taken or at_sentence_start or not _capitalised(word) or _fold(word) in STOP_WORDS:
            i += 1
            continue
        j = i + 1
        while j < len(words) and j - i < MAX_SPAN_WORDS and j not in taken:
            next_word = words[j][0]
            gap = text[words[j - 1][2] : words[j][1]]
            if gap.strip() or _SENTENCE_END.search(text[: words[j][1]]):
                break
            if _capitalised(next_word) and _fold(next_word) not in STOP_WORDS:
                j += 1
            else:
                k = j  # particles (von der, de la) count only when a name follows them
                while k < len(words) and _fold(words[k][0]) in PARTICLES:
                    k += 1
                if k == j or k >= len(words) or not _capitalised(words[k][0]):
                    break
                j = k + 1
        spans.append((i, min(j, i + MAX_SPAN_WORDS)))
        i = j
    return spans


def record_entities(row: dict[str, Any], gazetteer: Gazetteer) -> list[Entity]:
    """The entities of one record: gazetteer matches, then capitalised spans, in text order."""
    text = "\n".join(t for t in (row.get("title"), row.get("text_content")) if t)[:MAX_TEXT_CHARS]
    text = URL_PATTERN.sub(lambda m: " " * len(m.group(0)), text)  # offsets kept
    words = _words(text)
    found: list[tuple[int, str, str, UUID | None, int, int, float, str]] = []
    taken: set[int] = set()
    seen_actor: set[UUID] = set()
    for first, past, (actor_id, canonical, actor_type) in _gazetteer_hits(words, gazetteer):
        taken.update(range(first, past))
        start, end = words[first][1], words[past - 1][2]
        found.append((start, canonical, actor_type, actor_id, start, end, 1.0, "gazetteer"))
        seen_actor.add(actor_id)
    if len(text) > MIN_SPAN_TEXT:
        for first, past in _span_hits(text, words, taken):
            start, end = words[first][1], words[past - 1][2]
            name = text[start:end]
            if len(name) >= 2:
                found.append((start, name, "UNKNOWN", None, start, end, 0.5, "capitalised"))
    found.sort()
    entities, first_seen = [], {}
    for _, name, entity_type, actor_id, start, end, confidence, method in found:
        identity = actor_id or _fold(name)
        role = first_seen.setdefault(identity, _role(text, start, end))
        entities.append(
            Entity(
                len(entities) + 1, name, entity_type, actor_id, start, end, role, confidence, method
            )
        )
    return entities
