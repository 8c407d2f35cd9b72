"""The synthetic corpus: deterministic, and shaped like public debate (no database needed)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date
from itertools import islice

from observatory_pipelines.arenas.base import SearchTerm
from observatory_pipelines.arenas.matching import match_terms
from observatory_pipelines.demo.corpus import Corpus, CorpusConfig, public_actor_presences

CONFIG = CorpusConfig(end=date(2026, 6, 30), days=90)


def _fingerprint(items) -> list[tuple]:
    return [(i.kind, i.item_id, i.published_at, i.author.user_id, i.text, i.likes) for i in items]


def test_the_same_config_gives_the_same_corpus_and_another_seed_another():
    first = _fingerprint(Corpus(CONFIG).iter_items())
    assert first == _fingerprint(Corpus(CONFIG).iter_items())
    other = _fingerprint(Corpus(CorpusConfig(seed=7, end=CONFIG.end, days=90)).iter_items())
    assert other != first
    # asking for fewer kinds leaves the others' items as they were
    news = [f for f in first if f[0] == "news"]
    assert _fingerprint(Corpus(CONFIG).iter_items(("news",))) == news


def test_activity_terms_engagement_links_and_the_spike():
    corpus = Corpus(CONFIG)
    items = list(corpus.iter_items())
    assert {i.kind for i in items} == {"news", "bluesky", "reddit", "x_twitter"}
    assert all(CONFIG.start <= i.published_at.date() <= CONFIG.end for i in items)
    assert len({i.item_id for i in items}) == len(items)

    bluesky = Counter(i.author.rank for i in items if i.kind == "bluesky")
    assert bluesky[1] > 0.1 * sum(bluesky.values())  # Zipf: rank 1 writes a tenth or more
    assert len(bluesky) > 100  # and a long tail of occasional authors

    # What ingest will record: the design's terms the search-term matcher finds.
    search = [SearchTerm(t, "phrase" if " " in t else "keyword") for t in corpus.search_terms]
    with_terms = [i for i in items if i.terms]
    assert len(with_terms) > 0.8 * len(items)
    for item in with_terms:
        found = match_terms(f"{item.title or ''} {item.text}", search)
        assert set(item.terms) <= set(found), (item.terms, found, item.text)
    assert sum(len(i.terms) >= 2 for i in with_terms) > 0.3 * len(with_terms)  # co-occurrence

    likes = sorted(i.likes for i in items if i.likes is not None)
    assert likes[-1] > 50 * max(1, statistics.median(likes))  # heavy tail

    shared = Counter(i.shared_url for i in items if i.shared_url)
    article_urls = {i.url for i in items if i.kind == "news"}
    assert set(shared) <= article_urls and shared.most_common(1)[0][1] >= 3

    per_day = Counter(i.published_at.date() for i in items)
    for day in CONFIG.spike_dates:
        assert per_day[day] > 3 * statistics.median(per_day.values())
    spike_topics = Counter(i.topic for i in items if i.published_at.date() in CONFIG.spike_dates)
    assert spike_topics.most_common(1)[0][0] == "grønland"


def test_public_actors_post_on_every_social_platform_under_stable_ids():
    presences = public_actor_presences(CONFIG)
    assert len(presences) == 8 * 3
    ids = {(platform, user_id) for _name, _kind, platform, user_id in presences}
    posted = {
        (i.kind, i.author.user_id)
        for i in islice(Corpus(CONFIG).iter_items(), 3000)
        if i.author.public_actor
    }
    assert posted and posted <= ids
