"""Each record's words and two-word phrases with their counts (enrichment ``record_terms``).

The tokeniser is ``enrichments/tokens.py`` (Danish-aware, stop words dropped, bigrams only
across spaces). A record is tokenised once, when it is first enriched, and its n-grams are
stored compactly in ``enrichment_terms``: the kept-token count and two parallel arrays
(``terms``: each run's unigrams, then its space-joined bigrams, in order of first
appearance; ``counts``).
The emergent-terms analysis then sums them per calendar slice in SQL: no text is read or
tokenised at analysis time. The design's search terms differ per design, so they are not
removed here but after the aggregation (``research/sql/emergent_terms_counts.sql``).
"""

from __future__ import annotations

from collections import Counter

import psycopg

from observatory_pipelines.enrichments import tokens
from observatory_pipelines.enrichments.framework import Enrichment, Page, copy_rows, method_version

COLUMNS = ("record_id", "published_at", "token_count", "terms", "counts", "method",
           "method_version", "computed_at")  # fmt: skip


def gram_counts(text: str | None) -> tuple[int, list[str], list[int]]:
    """Kept tokens of ``text``, and its unigrams and bigrams with their counts."""
    grams: list[str] = []
    size = 0
    for run in tokens.token_runs(text):
        size += len(run)
        grams += run
        if len(run) > 1:
            grams += map(" ".join, zip(run, run[1:], strict=False))
    counts = Counter(grams)  # counted in C, keys in order of first appearance
    return size, list(counts), list(counts.values())


def _process_terms(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    def rows():
        for row in page.rows:
            size, terms, counts = gram_counts(row["text"])
            yield (row["id"], row["published_at"], size, terms, counts, page.method,
                   page.method_version, page.computed_at)  # fmt: skip

    return {"enrichment_terms": copy_rows(conn, "enrichment_terms", COLUMNS, rows())}


TERMS = Enrichment(
    name="record_terms",
    description="Words and two-word phrases of each record's title and text with their "
    "counts (Danish-aware tokens: æøå/é/ü kept, hyphenated compounds one token, links, "
    "mentions and numbers dropped, spaCy's Danish and English stop words removed, bigrams "
    "only across spaces), stored once so emergent terms sum them in SQL.",
    method_version=method_version(
        ("spacy",),  # the stop-word lists come from spaCy's wheel
        revision=1,
        parameters={
            "link": tokens._LINK.pattern,
            "mention": tokens._MENTION.pattern,
            "token": tokens._TOKEN_PATTERN,
            "token_joined": tokens._TOKEN_JOINED.pattern,
            "min_length": tokens.MIN_LENGTH,
            "stop_words": sorted(tokens.stop_words()),
        },
    ),
    columns=("c.id", "c.published_at", "concat_ws(E'\\n', c.title, c.text_content) AS text"),
    marker_table="enrichment_terms",
    tables=("enrichment_terms",),
    process=_process_terms,
)
