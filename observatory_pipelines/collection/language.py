"""Language of a record whose source declares none: lingua over the languages we expect.

Only records without a declared language come here, so the cost stays small. The
detector (spec: enrichments §2.1) knows {da, en, sv, nb, nn, de}; it is built once per
process, on first use. Short Danish texts often come out as Norwegian: when nb or nn is
on top and Danish is within ``SCANDINAVIAN_MARGIN``, the answer is ``da`` (flagged).
A text shorter than ``MIN_CHARS`` once URLs, @mentions, #tags and emoji are removed is too
short to judge: None.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = (
    Language.DANISH,
    Language.ENGLISH,
    Language.SWEDISH,
    Language.BOKMAL,
    Language.NYNORSK,
    Language.GERMAN,
)
MIN_CHARS = 20
SCANDINAVIAN_MARGIN = 0.15
# Enough text to decide; a 100,000-character article costs no more than its start.
MAX_CHARS = 2_000

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[@#][\w.-]+|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]",
)
_lock = threading.Lock()
_detector: LanguageDetector | None = None


@dataclass(frozen=True)
class Detected:
    language: str  # ISO 639-1, lower case
    confidence: float
    ambiguous_scandinavian: bool = False


def _get_detector() -> LanguageDetector:
    global _detector
    with _lock:
        if _detector is None:
            _detector = LanguageDetectorBuilder.from_languages(*LANGUAGES).build()
        return _detector


def judged_text(text: str | None) -> str:
    """The text the detector judges: URLs, mentions, tags and emoji removed."""
    return " ".join(_NOISE.sub(" ", text or "").split())


def detect(text: str | None) -> Detected | None:
    """The language of ``text``, or None when it is too short or the detector has no answer."""
    cleaned = judged_text(text[:MAX_CHARS] if text else text)
    if len(cleaned) < MIN_CHARS:
        return None
    values = _get_detector().compute_language_confidence_values(cleaned)
    if not values or values[0].value <= 0:
        return None
    scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    top = values[0].language.iso_code_639_1.name.lower()
    if top in ("nb", "nn") and scores[top] - scores.get("da", 0.0) <= SCANDINAVIAN_MARGIN:
        return Detected("da", round(scores.get("da", 0.0), 4), ambiguous_scandinavian=True)
    return Detected(top, round(values[0].value, 4))
