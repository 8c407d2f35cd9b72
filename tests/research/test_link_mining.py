"""Link mining on a hand-countable corpus: every count, share, date and edge asserted."""

from __future__ import annotations

import io

import networkx as nx
import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research.framework import ResearchInputError
from observatory_pipelines.research.link_mining import ANALYSIS, mine_links
from tests.research.conftest import BASE, enrich
from tests.research.published import run_with_empty


def _at(minutes: float) -> str:
    from datetime import timedelta

    return (BASE + timedelta(minutes=minutes)).isoformat()


@pytest.fixture()
def link_corpus(corpus, database_url):
    add = corpus.add
    add(0, author="a", text="Se https://www.dr.dk/nyheder/1 og https://nyheder.tv2.dk/x")
    add(10, author="b", text="Læs https://dr.dk/nyheder/1")
    add(20, platform="reddit", author="a", text="https://dr.dk/nyheder/2 https://t.me/Klimakanal")
    add(
        30,
        platform="x_twitter",
        author="c",
        text="https://t.me/klimakanal og https://bsky.app/profile/someone.bsky.social",
    )
    add(
        -60,
        platform="rss_feeds",
        arena="news_media",
        author="feed_dr",
        title="DR artikel",
        url="https://www.dr.dk/nyheder/1",
        text="Ingen links her",
    )
    add(
        40,
        author="a",
        text="https://discord.gg/AbC123 https://reddit.com/r/Denmark",
        raw_metadata={"published_at_source": "collected_at"},
    )
    add(50, author="b", text="https://youtu.be/dQw4w9WgXcQ https://www.reddit.com/r/denmark/x")
    add(5, author="d", text="https://dr.dk/nyheder/9", raw_metadata={"duplicate_of": "x"})
    add(6, author="e", text="https://dr.dk/nyheder/9", design=corpus.new_design())
    enrich(database_url, "record_urls")
    return corpus


def _params(conn, corpus, **scope):
    return check_scope(conn, AnalysisScope(query_design_id=corpus.design, **scope))


def _cols(rows, *names):
    return [tuple(r[n] for n in names) for r in rows]


def test_domains_urls_matrix_and_targets_are_hand_counted(link_corpus, conn):
    out = mine_links(conn, _params(conn, link_corpus))
    # six records carry links of their own (the RSS article's own URL is a self-reference)
    domains = out.tables["top_domains"].rows
    assert _cols(domains, "registered_domain", "n_records", "n_actors", "n_platforms",
                 "share_of_records") == [
        ("dr.dk", 3, 3, 2, 0.5), ("reddit.com", 2, 2, 1, 0.3333), ("t.me", 2, 2, 2, 0.3333),
        ("bsky.app", 1, 1, 1, 0.1667), ("discord.gg", 1, 1, 1, 0.1667),
        ("tv2.dk", 1, 1, 1, 0.1667), ("youtu.be", 1, 1, 1, 0.1667),
    ]  # fmt: skip
    dr, reddit = domains[0], domains[1]
    assert (dr["first_published_at"], dr["last_published_at"]) == (_at(0), _at(20))
    assert dr["platforms"] == {"bluesky": 2, "reddit": 1}
    # the undated record (stored at its collection time) counts, but never dates a domain
    assert (reddit["first_published_at"], reddit["last_published_at"]) == (_at(50), _at(50))
    assert domains[4]["first_published_at"] is None  # discord.gg: only the undated record
    urls = out.tables["top_urls"].rows
    assert urls[0] == {
        "url_key": "dr.dk/nyheder/1", "url_clean": "https://dr.dk/nyheder/1",
        "registered_domain": "dr.dk", "title": "DR artikel", "n_records": 2, "n_actors": 2,
        "platforms": {"bluesky": 2}, "first_published_at": _at(0), "first_platform": "bluesky",
    }  # fmt: skip
    assert len(urls) == 10 and all(u["n_records"] == 1 and u["title"] is None for u in urls[1:])
    assert _cols(out.tables["platform_domains"].rows, "platform", "registered_domain",
                 "n_records", "row_pct") == [
        ("bluesky", "dr.dk", 2, 28.57), ("bluesky", "reddit.com", 2, 28.57),
        ("bluesky", "discord.gg", 1, 14.29), ("bluesky", "tv2.dk", 1, 14.29),
        ("bluesky", "youtu.be", 1, 14.29), ("reddit", "dr.dk", 1, 50.0),
        ("reddit", "t.me", 1, 50.0), ("x_twitter", "bsky.app", 1, 50.0),
        ("x_twitter", "t.me", 1, 50.0),
    ]  # fmt: skip
    # two spellings of one Telegram channel are one target; single-source targets dropped
    assert out.tables["link_targets"].rows == [
        {"target_platform": "reddit", "target_kind": "subreddit", "target": "r/denmark",
         "n_records": 2, "n_actors": 2, "n_source_platforms": 1,
         "first_published_at": _at(50), "last_published_at": _at(50),
         "example_urls": ["https://reddit.com/r/Denmark", "https://www.reddit.com/r/denmark/x"],
         "first_url": "https://www.reddit.com/r/denmark/x"},
        {"target_platform": "telegram", "target_kind": "channel", "target": "klimakanal",
         "n_records": 2, "n_actors": 2, "n_source_platforms": 2,
         "first_published_at": _at(20), "last_published_at": _at(30),
         "example_urls": ["https://t.me/Klimakanal", "https://t.me/klimakanal"],
         "first_url": "https://t.me/Klimakanal"},
    ]  # fmt: skip
    assert out.summary == {"links_in_scope": 12, "domains_listed": 7, "urls_listed": 10,
                           "link_targets": 2}  # fmt: skip


def test_every_target_rule(corpus, conn, database_url):
    links = [
        ("https://t.me/s/Kanal_1", "telegram", "channel", "kanal_1"),
        ("https://discord.com/invite/XyZ9", "discord", "invite", "XyZ9"),
        ("https://www.youtube.com/@DRNyheder/videos", "youtube", "channel", "@drnyheder"),
        ("https://youtube.com/channel/UCaBc", "youtube", "channel", "channel/UCaBc"),
        ("https://old.reddit.com/user/Someone", "reddit", "user", "u/someone"),
        ("https://bsky.app/profile/Navn.bsky.social/post/3k", "bluesky", "profile",
         "navn.bsky.social"),
        ("https://gab.com/Person", "gab", "account", "person"),
        ("https://x.com/Politiker/status/1", "x_twitter", "account", "politiker"),
        ("https://www.instagram.com/konto.dk/", "instagram", "account", "konto.dk"),
        ("https://www.tiktok.com/@tik.tok/video/2", "tiktok", "account", "tik.tok"),
    ]  # fmt: skip
    for minutes, (url, *_) in enumerate(links):
        corpus.add(minutes, text=f"link {url} og https://twitter.com/i/web/status/9")
    enrich(database_url, "record_urls")
    out = mine_links(conn, _params(conn, corpus), min_target_records=1)
    found = {
        (r["target_platform"], r["target_kind"], r["target"])
        for r in out.tables["link_targets"].rows
    }
    assert found == {tuple(link[1:]) for link in links}  # twitter.com/i/… is no account


def test_networks(link_corpus, conn):
    out = mine_links(conn, _params(conn, link_corpus), network_domains=2)
    graph = out.networks["actor_domain"]
    assert sorted((e["source"], e["target"], e["weight"]) for e in graph["edges"]) == [
        ("bluesky:a", "domain:dr.dk", 1), ("bluesky:a", "domain:reddit.com", 1),
        ("bluesky:b", "domain:dr.dk", 1), ("bluesky:b", "domain:reddit.com", 1),
        ("reddit:a", "domain:dr.dk", 1),
    ]  # fmt: skip
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["domain:dr.dk"]["n_records"] == 3 and nodes["bluesky:a"]["label"] == "Name of a"
    assert nodes["domain:dr.dk"]["degree"] == 3 and graph["directed"] is False
    top_actor = mine_links(conn, _params(conn, link_corpus), network_domains=2, network_actors=1)
    assert sorted(
        (e["source"], e["target"]) for e in top_actor.networks["actor_domain"]["edges"]
    ) == [("bluesky:a", "domain:dr.dk"), ("bluesky:a", "domain:reddit.com")]  # 2 records, a < b
    out = mine_links(conn, _params(conn, link_corpus))
    pairs = out.networks["domain_cooccurrence"]
    assert sorted((e["source"], e["target"], e["weight"]) for e in pairs["edges"]) == [
        ("bsky.app", "t.me", 1), ("discord.gg", "reddit.com", 1), ("dr.dk", "t.me", 1),
        ("dr.dk", "tv2.dk", 1), ("reddit.com", "youtu.be", 1),
    ]  # fmt: skip
    assert pairs["metrics"]["nodes"] == 7 and pairs["metrics"]["components"] == 2


def test_domain_counts_add_up_over_authors(corpus, conn, database_url):
    """The per-domain figures are sums over (domain, platform, author) groups: a record
    linking two pages of one domain counts once, an author with two such records is one
    author of weight 2, the same pseudonym on another platform is another author, and a
    record without an author counts as a record, never as an author."""
    corpus.add(0, author="a", text="https://ex.dk/1 https://ex.dk/2")
    corpus.add(10, author="a", text="https://ex.dk/3")
    corpus.add(20, platform="reddit", author="a", text="https://ex.dk/1")
    corpus.add(30, author=None, text="https://ex.dk/1 https://other.dk/1")
    enrich(database_url, "record_urls")
    out = mine_links(conn, _params(conn, corpus))
    [ex, other] = out.tables["top_domains"].rows
    figures = (ex["registered_domain"], ex["n_records"], ex["n_actors"], ex["n_platforms"])
    assert figures == ("ex.dk", 4, 2, 2)
    assert ex["platforms"] == {"bluesky": 3, "reddit": 1} and ex["share_of_records"] == 1.0
    assert (ex["first_published_at"], ex["last_published_at"]) == (_at(0), _at(30))
    assert (other["n_records"], other["n_actors"], other["share_of_records"]) == (1, 0, 0.25)
    edges = out.networks["actor_domain"]["edges"]
    assert sorted((e["source"], e["target"], e["weight"]) for e in edges) == [
        ("bluesky:a", "domain:ex.dk", 2), ("reddit:a", "domain:ex.dk", 1),
    ]  # fmt: skip
    assert [(c["platform"], c["registered_domain"], c["n_records"])
            for c in out.tables["platform_domains"].rows] == [
        ("bluesky", "ex.dk", 3), ("bluesky", "other.dk", 1), ("reddit", "ex.dk", 1),
    ]  # fmt: skip


def test_the_matrix_counts_a_record_once_among_the_other_domains(corpus, conn, database_url):
    """With one matrix domain (a.dk), a record linking b.dk and c.dk is one record of its
    platform's '(other domains)' cell; row_pct shares the platform's row."""
    corpus.add(0, text="https://a.dk/1 https://b.dk/1 https://c.dk/1")
    corpus.add(1, text="https://a.dk/2")
    corpus.add(2, text="https://a.dk/3 https://b.dk/2")
    corpus.add(3, platform="reddit", text="https://c.dk/2")
    enrich(database_url, "record_urls")
    rows = mine_links(conn, _params(conn, corpus), matrix_domains=1).tables["platform_domains"]
    assert [tuple(r.values()) for r in rows.rows] == [
        ("bluesky", "a.dk", 3, 60.0), ("bluesky", "(other domains)", 2, 40.0),
        ("reddit", "(other domains)", 1, 100.0),
    ]  # fmt: skip


def test_self_references_on_request_filtered_scope_and_bad_parameters(link_corpus, conn):
    out = mine_links(conn, _params(conn, link_corpus), include_self_references=True)
    dr = out.tables["top_domains"].rows[0]
    assert (dr["n_records"], dr["n_actors"], dr["platforms"]) == (
        4,
        4,
        {"bluesky": 2, "reddit": 1, "rss_feeds": 1},
    )
    assert dr["first_published_at"] == _at(-60)
    reddit_only = mine_links(conn, _params(conn, link_corpus, platforms=["reddit"]))
    assert _cols(reddit_only.tables["top_domains"].rows, "registered_domain", "n_records",
                 "share_of_records") == [("dr.dk", 1, 1.0), ("t.me", 1, 1.0)]  # fmt: skip
    for bad, name in (({"top_domains": 0}, "top_domains"), ({"top_urls": 2.5}, "top_urls"),
                      ({"include_self_references": "yes"}, "include_self_references"),
                      ({"window": 3}, "window")):  # fmt: skip
        with pytest.raises(ResearchInputError, match=name):
            mine_links(conn, _params(conn, link_corpus), **bad)


def test_the_asset_and_an_empty_design(link_corpus, postgres, s3_object_store_resource):
    meta, document, empty = run_with_empty(
        "link_mining", link_corpus, postgres, s3_object_store_resource
    )
    assert meta["top_domains_rows"] == 7 and meta["version"] == ANALYSIS.version
    assert meta["top_domains_chart"].startswith("![top domains chart](data:image/png;base64,")
    assert {name: t["rows"] for name, t in document["tables"].items()} == {
        "top_domains": [], "top_urls": [], "platform_domains": [], "link_targets": []}  # fmt: skip
    store = s3_object_store_resource.outputs()
    csv = store.get_bytes(f"analysis/{empty}/standard/research/link_mining/top_urls.csv")
    assert csv.decode("utf-8-sig").startswith("url_key,")
    gexf = store.get_bytes(
        f"exports/{link_corpus.owner}/{empty}/standard/link_mining-actor_domain.gexf"
    )
    assert nx.read_gexf(io.BytesIO(gexf)).number_of_nodes() == 0
    assert document["summary"]["links_in_scope"] == 0
