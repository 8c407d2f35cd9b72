"""The enrichments, in the order they run: each one's columns, tables, version and step."""

from __future__ import annotations

import hashlib

import psycopg

from observatory_pipelines.collection.url_normalize import TRACKING_PARAMETERS
from observatory_pipelines.enrichments import (
    engagement,
    entities,
    links,
    neardup,
    sentiment,
    tags,
)
from observatory_pipelines.enrichments.framework import (
    Enrichment,
    Page,
    copy_rows,
    method_version,
)
from observatory_pipelines.enrichments.terms import TERMS

KEY_COLUMNS = ("c.id", "c.published_at")


def _file_hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# --- URLs ---

URL_COLUMNS = ("ordinal", "url_type", "url_raw", "url_clean", "url_key", "host",
               "registered_domain", "outlet", "is_shortener", "domain_only")  # fmt: skip
MARKER_COLUMNS = ("method", "method_version", "computed_at")


def _process_urls(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    url_rows, records = [], []
    for row in page.rows:
        found = links.record_links(row)
        key = (row["id"], row["published_at"])
        url_rows += [(*key, *(getattr(link, c) for c in URL_COLUMNS)) for link in found]
        records.append((*key, len(found), page.method, page.method_version, page.computed_at))
    return {
        "enrichment_urls": copy_rows(
            conn, "enrichment_urls", ("record_id", "published_at", *URL_COLUMNS), url_rows
        ),
        "enrichment_url_records": copy_rows(
            conn,
            "enrichment_url_records",
            ("record_id", "published_at", "url_count", *MARKER_COLUMNS),
            records,
        ),
    }


URLS = Enrichment(
    name="record_urls",
    description="Links of each record (own URL, links in title/text, Bluesky link facets "
    "and embeds): clean URL, page key, host, registered domain (public-suffix snapshot), "
    "Danish outlet; shorteners and domain-only links flagged.",
    method_version=method_version(
        ("tldextract",),
        revision=1,
        parameters={
            "tracking_parameters": sorted(TRACKING_PARAMETERS),
            "shorteners": sorted(links.SHORTENERS),
            "outlets": _file_hash(links.OUTLETS_FILE),
        },
    ),
    columns=(
        *KEY_COLUMNS,
        "c.platform",
        "c.content_type",
        "c.url",
        "c.title",
        "c.text_content",
        "CASE WHEN c.platform = 'bluesky' THEN c.raw_metadata -> 'facets' END AS facets",
        "CASE WHEN c.platform = 'bluesky' THEN c.raw_metadata -> 'embed' END AS embed",
    ),
    marker_table="enrichment_url_records",
    tables=("enrichment_urls", "enrichment_url_records"),
    process=_process_urls,
)


# --- hashtags and mentions ---


def _process_tags(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    rows = []
    for row in page.rows:
        found = tags.record_tags(row)
        rows.append(
            (row["id"], row["published_at"], found.hashtags, found.mentions, found.mention_ids,
             found.subreddit_refs, page.method, page.method_version, page.computed_at)
        )  # fmt: skip
    columns = ("record_id", "published_at", "hashtags", "mentions", "mention_ids",
               "subreddit_refs", *MARKER_COLUMNS)  # fmt: skip
    return {"enrichment_tags": copy_rows(conn, "enrichment_tags", columns, rows)}


TAGS = Enrichment(
    name="record_tags",
    description="Hashtags (Unicode letters: #Grønland stays grønland), @mentions (full "
    "Bluesky and Mastodon handles, no e-mail addresses), Bluesky facet tags and mention "
    "DIDs, Reddit u/ mentions and r/ subreddit references.",
    method_version=method_version(
        (),
        revision=1,
        parameters={
            "hashtag": tags._HASHTAG.pattern,
            "mention": tags._MENTION.pattern,
            "reddit_user": tags._REDDIT_USER.pattern,
            "subreddit": tags._SUBREDDIT.pattern,
            "url": links.URL_PATTERN.pattern,
        },
    ),  # fmt: skip
    columns=(
        *KEY_COLUMNS,
        "c.platform",
        "c.title",
        "c.text_content",
        "CASE WHEN c.platform = 'bluesky' THEN c.raw_metadata -> 'facets' END AS facets",
    ),
    marker_table="enrichment_tags",
    tables=("enrichment_tags",),
    process=_process_tags,
)


# --- engagement ---


def _process_engagement(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    rows = []
    for row in page.rows:
        found = engagement.engagement(row)
        rows.append(
            (row["id"], row["published_at"], row["platform"], found.likes_shares_comments,
             found.composite, found.weighted, found.score, page.method, page.method_version,
             page.computed_at)
        )  # fmt: skip
    columns = ("record_id", "published_at", "platform", "eng_likes_shares_comments",
               "eng_composite", "eng_weighted", "eng_score", *MARKER_COLUMNS)  # fmt: skip
    return {"enrichment_engagement": copy_rows(conn, "enrichment_engagement", columns, rows)}


ENGAGEMENT = Enrichment(
    name="record_engagement",
    description="Engagement figures, each named: likes+shares+comments, the composite "
    "(views included), and the per-platform weighted log score 0-100; NULL where the "
    "platform reports no counts. Percentile within platform and month: view "
    "enrichment_engagement_pct.",
    method_version=method_version(
        (),
        revision=1,
        parameters={"weights": engagement.WEIGHTS, "default": engagement.DEFAULT_WEIGHTS},
    ),
    columns=(
        *KEY_COLUMNS,
        "c.platform",
        "c.views_count",
        "c.likes_count",
        "c.shares_count",
        "c.comments_count",
    ),  # fmt: skip
    marker_table="enrichment_engagement",
    tables=("enrichment_engagement",),
    process=_process_engagement,
)


# --- near-duplicates ---

NEAR_DUP_COLUMNS = ("record_id", "published_at", "signature", "group_id", "jaccard",
                    *MARKER_COLUMNS)  # fmt: skip


def _process_near_dup(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    grouped = neardup.group_page(conn, page.rows)
    regrouped = neardup.write_groups(conn, grouped)
    rows = (
        (*row.key, row.signature, row.group_id, row.jaccard, page.method, page.method_version,
         page.computed_at)
        for row in grouped.rows
    )  # fmt: skip
    return {
        "enrichment_near_dup": copy_rows(conn, "enrichment_near_dup", NEAR_DUP_COLUMNS, rows),
        "enrichment_near_dup_buckets": copy_rows(
            conn,
            "enrichment_near_dup_buckets",
            ("bucket", "record_id", "published_at"),
            ((bucket, *key) for bucket, key in grouped.buckets),
        ),
        "enrichment_near_dup_groups": len(grouped.groups),
        "regrouped_rows": regrouped,
    }


NEAR_DUPLICATES = Enrichment(
    name="record_near_duplicates",
    description="Near-duplicate groups: MinHash (128 permutations, seed 1) over character "
    "5-grams of the normalised title and text, LSH 14 bands x 9 rows, pairs verified at "
    "estimated Jaccard >= 0.7, connected components; cluster id = earliest member (view "
    "enrichment_near_dup_clusters). New records are matched against the stored buckets.",
    method_version=method_version(
        ("datasketch",),
        revision=1,
        parameters={
            "num_perm": neardup.NUM_PERM,
            "seed": neardup.SEED,
            "shingle": neardup.SHINGLE,
            "threshold": neardup.THRESHOLD,
            "min_chars": neardup.MIN_CHARS,
            "max_chars": neardup.MAX_TEXT_CHARS,
            "bands": [neardup.BANDS, neardup.ROWS],
            "tries_per_group": neardup.MAX_TRIES_PER_GROUP,
        },
    ),  # fmt: skip
    columns=(*KEY_COLUMNS, "c.title", "c.text_content"),
    marker_table="enrichment_near_dup",
    tables=("enrichment_near_dup_buckets", "enrichment_near_dup_groups", "enrichment_near_dup"),
    unkeyed_tables=("enrichment_near_dup_groups",),
    after_prune=neardup.repair_after_prune,
    process=_process_near_dup,
)


# --- named entities (gazetteer + capitalised spans) ---

ENTITY_COLUMNS = ("ordinal", "name", "entity_type", "actor_id", "start", "end", "role",
                  "confidence", "method")  # fmt: skip


def _process_entities(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    gazetteer = entities.load_gazetteer(conn)
    entity_rows, records = [], []
    for row in page.rows:
        found = entities.record_entities(row, gazetteer)
        key = (row["id"], row["published_at"])
        entity_rows += [(*key, *(getattr(e, c) for c in ENTITY_COLUMNS)) for e in found]
        records.append((*key, len(found), page.method, page.method_version, page.computed_at))
    columns = ("record_id", "published_at", "ordinal", "name", "entity_type", "actor_id",
               "start_offset", "end_offset", "role", "confidence", "method")  # fmt: skip
    return {
        "enrichment_entities": copy_rows(conn, "enrichment_entities", columns, entity_rows),
        "enrichment_entity_records": copy_rows(
            conn,
            "enrichment_entity_records",
            ("record_id", "published_at", "entity_count", *MARKER_COLUMNS),
            records,
        ),
    }


ENTITIES = Enrichment(
    name="record_entities",
    description="Named entities without a model: the actors' names and aliases (gazetteer, "
    "linked to actor_id, genitive -s accepted) and capitalised word runs not at a sentence "
    "start (type UNKNOWN, texts over 100 characters), with the original's role heuristic "
    "(speaker / quoted_source / mentioned).",
    method_version=method_version(
        (),
        revision=1,
        parameters={
            "stop_words": sorted(entities.STOP_WORDS),
            "particles": sorted(entities.PARTICLES),
            "speech": entities.SPEECH_VERBS,
            "sources": entities.SOURCE_MARKERS,
            "max_words": entities.MAX_SPAN_WORDS,
            "min_text": entities.MIN_SPAN_TEXT,
            "context": entities.CONTEXT,
        },
    ),  # fmt: skip
    columns=(*KEY_COLUMNS, "c.title", "c.text_content"),
    marker_table="enrichment_entity_records",
    tables=("enrichment_entities", "enrichment_entity_records"),
    process=_process_entities,
    data_version=lambda conn: entities.load_gazetteer(conn).digest,
)


# --- Danish sentiment (asent's rules over the AFINN Danish list) ---

SENTIMENT_COLUMNS = ("platform", "language", "scored", "skip_reason", "sentiment_score",
                     "sentiment_label", "title_score", "body_score", "afinn_raw",
                     "sentiment_method")  # fmt: skip


def _process_sentiment(conn: psycopg.Connection, page: Page) -> dict[str, int]:
    found = sentiment.score_rows(page.rows)
    rows = (
        (row["id"], row["published_at"], row["platform"], s.language, s.skip_reason is None,
         s.skip_reason, s.score, s.label, s.title_score, s.body_score, s.afinn_raw, s.method,
         page.method, page.method_version, page.computed_at)
        for row, s in zip(page.rows, found, strict=True)
    )  # fmt: skip
    columns = ("record_id", "published_at", *SENTIMENT_COLUMNS, *MARKER_COLUMNS)
    return {"enrichment_sentiment": copy_rows(conn, "enrichment_sentiment", columns, rows)}


SENTIMENT = Enrichment(
    name="record_sentiment",
    description="Danish sentiment of Danish records (declared or detected language da): "
    "asent's VADER-style rules (negation, men/dog contrast, intensifiers, !, capitals) over "
    "the AFINN Danish word list and emoji, on spaCy's blank Danish tokenizer; compound "
    "score in [-1, 1], label at +-0.1, title and body apart, and the original's AFINN raw "
    "sum. Other records are marked not scored. An indicator, not stance.",
    method_version=method_version(
        ("asent", "spacy"),
        revision=1,
        parameters={
            "afinn": _file_hash(sentiment.AFINN_FILE),
            "emoji": _file_hash(sentiment.EMOJI_FILE),
            "intensifiers": sentiment.INTENSIFIERS,
            "negations": sentiment.NEGATIONS,
            "contrastive": sentiment.CONTRASTIVE,
            "language": sentiment.LANGUAGE,
            "label_threshold": sentiment.LABEL_THRESHOLD,
            "max_chars": sentiment.MAX_CHARS,
        },
    ),
    columns=(
        *KEY_COLUMNS,
        "c.platform",
        "split_part(lower(coalesce(c.language, c.raw_metadata ->> 'detected_language')), "
        "'-', 1) AS language",
        "c.title",
        "c.text_content",
    ),
    marker_table="enrichment_sentiment",
    tables=("enrichment_sentiment",),
    process=_process_sentiment,
    report=sentiment.report,
)


ENRICHMENTS: tuple[Enrichment, ...] = (
    URLS,
    TAGS,
    ENGAGEMENT,
    NEAR_DUPLICATES,
    ENTITIES,
    SENTIMENT,
    TERMS,
)
