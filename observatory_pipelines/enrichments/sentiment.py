"""Danish sentiment of a record: asent's rules over the AFINN Danish word list (spec §2.2).

- **Gate**: the record's language (declared by the source, else detected at ingest; the
  analyses' own rule: ``language``, else ``raw_metadata.detected_language``, primary subtag)
  is ``da`` and it has a title or text. Every other record gets a row too, marked not scored
  with the reason (``no_text``, ``not_danish``), so it counts as looked at.
- **Score**: asent 0.8.3 (MIT), a VADER-style rule engine, on spaCy's blank Danish tokenizer
  and its rule-based sentencizer (no trained model, nothing downloaded). Word valences are
  the AFINN Danish list shipped inside asent's wheel (``da_lexicon_afinn_v1.txt``, 3,552
  entries, -5…+5; ODbL data) plus asent's emoji list; negations (ikke, ik, ikk, aldrig,
  ingen) flip and dampen the next words, "men"/"dog" weight what follows 1.5× and what
  precedes 0.5×, intensifiers strengthen, "!" and upper case add emphasis. The compound of a
  sentence is in [-1, 1]; a text's score is the mean over its sentences (asent's document
  score), so long articles do not drift to the extremes.
- **Title and body** are scored apart when a record has both (news, Reddit posts, videos):
  ``title_score``, ``body_score``; ``sentiment_score`` is then the mean over the sentences of
  both (what asent gives for title and body as one document). A text is judged on its first
  ``MAX_CHARS`` characters.
- **Label**: positive above ``LABEL_THRESHOLD``, negative below its negative, else neutral
  (the original's ±0.1, for comparability).
- **afinn_raw**: the original's raw score, the sum of the AFINN valences of every entry found
  in the lower-cased title and text (multi-word entries such as "ikke god" included, longest
  entry first), with no rules: "Det er ikke godt" is +3 there. ``tanh(afinn_raw / 10)`` is
  the original's score.

Our one addition to asent's Danish rule set: the common Danish intensifiers its list (a
translation of VADER's English one) lacks, ``EXTRA_INTENSIFIERS`` ("meget", "rigtig" …).
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import asent  # noqa: F401  (registers asent's spaCy factories)
import psycopg
import spacy
from asent.constants import B_INCR
from matplotlib.figure import Figure
from psycopg.rows import dict_row
from spacy.language import Language
from spacy.tokens import Doc, Span

LEXICONS = files("asent") / "lexicons"
AFINN_FILE = LEXICONS / "da_lexicon_afinn_v1.txt"
EMOJI_FILE = LEXICONS / "emoji_v1.json"
LANGUAGE = "da"
LABEL_THRESHOLD = 0.1
MAX_CHARS = 10_000  # ~1,500 words: most articles whole, a very long one by its start
PIPE_BATCH = 256
METHOD = "asent_afinn_da"
NEGATIONS = sorted(asent.lexicons.get("negations_da_v1"))
CONTRASTIVE = sorted(asent.lexicons.get("contrastive_conj_da_v1"))
EXTRA_INTENSIFIERS = {
    word: B_INCR
    for word in ("meget", "rigtig", "rigtigt", "særdeles", "ekstremt", "enormt", "utroligt",
                 "virkeligt", "vanvittigt")
}  # fmt: skip
INTENSIFIERS = {**asent.lexicons.get("intensifiers_da_v1"), **EXTRA_INTENSIFIERS}
NO_TEXT = "no_text"
NOT_DANISH = "not_danish"
SQL_DIR = Path(__file__).resolve().parent / "sql"


def read_afinn() -> dict[str, int]:
    """The AFINN Danish list from asent's wheel: entry → integer valence."""
    entries = {}
    for line in AFINN_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            word, valence = line.split("\t")[:2]
            entries[word.strip()] = int(valence)
    return entries


AFINN = read_afinn()
_WORD = re.compile(r"\w+")
# Entries that are not one word ("ikke god", "fy-ord"): found first, longest first.
_PHRASES = re.compile(
    r"\b("
    + "|".join(
        re.escape(w) for w in sorted((w for w in AFINN if not _WORD.fullmatch(w)), key=len,
                                     reverse=True)
    )
    + r")\b"
)  # fmt: skip


def afinn_raw(text: str) -> int:
    """Sum of the AFINN valences of the entries in ``text``, matched as the original did.

    The original ran one regex, ``\\b(entry|entry|…)\\b`` longest entry first, over the
    lower-cased text with whitespace collapsed. The same matches, ~20× faster: a one-word
    entry can never overlap a phrase match (it has no inner word boundary, and at a phrase's
    start the longer phrase wins), so the phrases are taken out first and the remaining
    words looked up one by one.
    """
    lowered = " ".join(text.split()).lower()
    total = 0

    def take(match: re.Match) -> str:
        nonlocal total
        total += AFINN[match.group(1)]
        return " "

    rest = _PHRASES.sub(take, lowered)
    return total + sum(AFINN.get(word, 0) for word in _WORD.findall(rest))


EMOJI: dict[str, float] = json.loads(EMOJI_FILE.read_text(encoding="utf-8"))
VALENCES = {**{word: float(valence) for word, valence in AFINN.items()}, **EMOJI}


def asent_config() -> dict[str, Any]:
    """asent's generic component set up as its Danish one, plus ``EXTRA_INTENSIFIERS``."""
    return {
        "lexicon": VALENCES,
        "intensifiers": INTENSIFIERS,
        "negations": NEGATIONS,
        "contrastive_conj": CONTRASTIVE,
        "lowercase": True,
        "lemmatize": False,
        "force": True,
    }


_lock = threading.Lock()
_nlp: Language | None = None


def pipeline() -> Language:
    """spaCy's blank Danish tokenizer + sentencizer + asent, built once per process."""
    global _nlp
    with _lock:
        if _nlp is None:
            nlp = spacy.blank(LANGUAGE)
            nlp.add_pipe("sentencizer")
            nlp.add_pipe("asent_v1", config=asent_config())
            # Adding the component sets asent's token and span getters; its own pass over
            # each document (every token's result turned into objects and back) is not
            # needed: the document score is read from the sentences (``document_compound``).
            nlp.disable_pipe("asent_v1")
            _nlp = nlp
        return _nlp


@dataclass(frozen=True)
class Sentiment:
    language: str | None
    skip_reason: str | None  # None: scored
    score: float | None = None
    label: str | None = None
    title_score: float | None = None
    body_score: float | None = None
    afinn_raw: int | None = None
    method: str | None = None


def label(score: float) -> str:
    if score > LABEL_THRESHOLD:
        return "positive"
    if score < -LABEL_THRESHOLD:
        return "negative"
    return "neutral"


def _parts(row: dict[str, Any]) -> tuple[str | None, str | None]:
    title, body = ((row.get(k) or "").strip() or None for k in ("title", "text_content"))
    return title, body


def skip_reason(row: dict[str, Any]) -> str | None:
    """Why the record is not scored, or None."""
    if _parts(row) == (None, None):
        return NO_TEXT
    if row.get("language") != LANGUAGE:
        return NOT_DANISH
    return None


def _sentence_compound(sentence: Span) -> float:
    """asent's compound of one sentence. Without a word of the lexicon it is exactly 0 (no
    valence, so nothing for the rules to change), and asent's per-token work is skipped."""
    if not any(token.lower_ in VALENCES for token in sentence):
        return 0.0
    return sentence._.polarity.compound


def document_compound(doc: Doc) -> tuple[float, int]:
    """asent's document score (the mean of its sentences' compounds) and the sentences."""
    compounds = [_sentence_compound(sentence) for sentence in doc.sents]
    return (sum(compounds) / len(compounds) if compounds else 0.0), len(compounds)


def score_rows(rows: Sequence[dict[str, Any]]) -> list[Sentiment]:
    """Sentiment of each record (in order), every text of the rows in one ``nlp.pipe``."""
    reasons = [skip_reason(row) for row in rows]
    texts = [
        part[:MAX_CHARS]
        for row, reason in zip(rows, reasons, strict=True)
        if reason is None
        for part in _parts(row)
        if part
    ]
    # docs are dropped as soon as they are read: memory holds one batch
    judged = iter(document_compound(doc) for doc in pipeline().pipe(texts, batch_size=PIPE_BATCH))
    results = []
    for row, reason in zip(rows, reasons, strict=True):
        if reason is not None:
            results.append(Sentiment(row.get("language"), reason))
            continue
        title, body = _parts(row)
        scored = [next(judged) if part else None for part in (title, body)]
        present = [s for s in scored if s is not None]
        sentences = sum(n for _, n in present)
        score = sum(c * n for c, n in present) / sentences if sentences else 0.0
        both = len(present) == 2
        results.append(
            Sentiment(
                language=row.get("language"),
                skip_reason=None,
                score=round(score, 4),
                label=label(score),
                title_score=round(scored[0][0], 4) if both else None,
                body_score=round(scored[1][0], 4) if both else None,
                afinn_raw=afinn_raw(" ".join(p for p in (title, body) if p)),
                method=METHOD,
            )
        )
    return results


# --- the figure in the asset's metadata ---


def by_platform(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Per platform: records looked at, scored, per label, and the mean score."""
    sql = (SQL_DIR / "sentiment_by_platform.sql").read_text(encoding="utf-8")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql).fetchall()
    return [
        {**row, "mean_score": None if row["mean_score"] is None else float(row["mean_score"])}
        for row in rows
    ]


def platform_chart(rows: Sequence[dict[str, Any]]) -> bytes:
    """PNG: share of positive / neutral / negative among each platform's scored records."""
    shown = [row for row in rows if row["scored"]]
    fig = Figure(figsize=(7, 0.6 * max(len(shown), 1) + 1.2))
    ax = fig.subplots()
    if shown:
        names = [row["platform"] for row in shown]
        left = [0.0] * len(shown)
        for name, colour in (("negative", "#c0392b"), ("neutral", "#bdc3c7"),
                             ("positive", "#27ae60")):  # fmt: skip
            shares = [row[name] / row["scored"] for row in shown]
            ax.barh(names, shares, left=left, color=colour, label=name)
            left = [a + b for a, b in zip(left, shares, strict=True)]
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of scored (Danish) records")
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no Danish records scored", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("Sentiment by platform (lexicon indicator, not stance)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def report(conn: psycopg.Connection) -> dict[str, Any]:
    """What the asset's metadata shows: the per-platform table and its chart."""
    rows = by_platform(conn)
    return {"by_platform": rows, "sentiment_by_platform": platform_chart(rows)}
