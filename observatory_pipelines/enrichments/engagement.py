"""Engagement figures of a record, each named by what it is (spec §2.6).

The original had three definitions under one name; we store three, each explicit:

- ``eng_likes_shares_comments``: likes + shares + comments, a missing count as 0 (the
  original's ``total_engagement`` of descriptive statistics and top actors; views excluded);
- ``eng_composite``: views + likes + shares + comments, positive counts only (the input of
  the original's enrichment score, and of the percentile view ``enrichment_engagement_pct``:
  the rank within platform and calendar month, computed when read);
- ``eng_weighted`` and ``eng_score``: the per-platform weighted sum of positive counts and
  ``min(100, ln(1 + weighted) × scale)`` (2 dp), the original's ingest formula with its
  published weights. Fixed weights, so a score never drifts; the original's weekly refitted
  Yeo-Johnson score moved every week and is not reproduced.

A record whose platform reports no count at all (RSS, GDELT, Wikipedia, …) gets NULL in
every figure, never 0. Reddit's net score can be negative: only positive counts add.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

COUNTS = ("views", "likes", "shares", "comments")
# Per platform: weight of each count, and the scale of the logarithm (spec §2.6, "ingest").
WEIGHTS: dict[str, tuple[dict[str, float], float]] = {
    "reddit": ({"likes": 1, "comments": 2}, 8),
    "youtube": ({"views": 0.001, "likes": 0.1, "comments": 1}, 6),
    "bluesky": ({"likes": 1, "shares": 2, "comments": 1}, 8),
    "x_twitter": ({"likes": 0.5, "shares": 2, "comments": 1}, 7),
    "facebook": ({"likes": 1, "shares": 3, "comments": 2}, 7),
    "instagram": ({"likes": 0.5, "comments": 2}, 7),
    "tiktok": ({"views": 0.001, "likes": 0.1, "shares": 1, "comments": 1}, 5),
}
DEFAULT_WEIGHTS: tuple[dict[str, float], float] = ({"likes": 1, "shares": 2, "comments": 1}, 8)


@dataclass(frozen=True)
class Engagement:
    likes_shares_comments: int | None
    composite: int | None
    weighted: float | None
    score: float | None


def engagement(row: dict[str, Any]) -> Engagement:
    """The figures of one record from its ``*_count`` columns and platform."""
    counts = {name: row.get(f"{name}_count") for name in COUNTS}
    if all(value is None for value in counts.values()):
        return Engagement(None, None, None, None)
    positive = {name: value for name, value in counts.items() if value is not None and value > 0}
    weights, scale = WEIGHTS.get((row.get("platform") or "").lower(), DEFAULT_WEIGHTS)
    weighted = sum(weights.get(name, 0) * value for name, value in positive.items())
    return Engagement(
        likes_shares_comments=sum(counts[n] or 0 for n in ("likes", "shares", "comments")),
        composite=sum(positive.values()),
        weighted=round(weighted, 4),
        score=round(min(100.0, math.log1p(weighted) * scale), 2),
    )
