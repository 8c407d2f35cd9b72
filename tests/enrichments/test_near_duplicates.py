"""Near-duplicate groups of a known corpus, built at once and built incrementally."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from observatory_pipelines.enrichments import neardup
from observatory_pipelines.enrichments.catalog import NEAR_DUPLICATES
from observatory_pipelines.enrichments.framework import run_enrichment
from observatory_pipelines.enrichments.service import enrich

from .conftest import BASE, insert_record

WIRE = (
    "Regeringen vil indføre en afgift på landbrugets udledning af drivhusgasser fra 2030, "
    "oplyser skatteministeren til Ritzau torsdag."
)
WIRE_EDITED = WIRE.replace("oplyser", "siger")  # one edited word
WIRE_LONGER = WIRE + " Det møder kritik."  # the same sentence plus three words
OTHER = (
    "Landbrugets organisationer advarer om, at en ny afgift vil koste arbejdspladser i "
    "hele Jylland, og kræver kompensation."
)
UNRELATED = "Københavns Kommune åbner tre nye svømmehaller i løbet af de kommende fem år."


def _groups(conn):
    rows = conn.execute(
        "SELECT r.platform_id, o.platform_id, n.near_dup_cluster_size, n.is_cluster_origin, "
        "n.near_dup_jaccard FROM enrichment_near_dup_clusters n JOIN content_records r "
        "ON r.id = n.record_id AND r.published_at = n.published_at "
        "LEFT JOIN content_records o "
        "ON o.id = n.near_dup_cluster_id AND o.published_at = n.near_dup_cluster_published_at "
        "ORDER BY r.platform_id"
    ).fetchall()
    return {name: (origin, size, is_origin) for name, origin, size, is_origin, _ in rows}, {
        name: jaccard for name, *_, jaccard in rows
    }


def test_normalised_text_drops_links_mentions_emoji_and_punctuation():
    assert neardup.normalised(
        "Overskrift!", "Se https://dr.dk/x @Mette.F 🙂 — GRØN-omstilling"
    ) == ("overskrift se grøn omstilling")


def test_an_edited_word_and_three_added_words_group_with_the_wire_copy(conn):
    insert_record(conn, 1, platform_id="wire", platform="rss_feeds", text_content=WIRE)
    insert_record(conn, 2, platform_id="edited", text_content=WIRE_EDITED)
    insert_record(conn, 3, platform_id="longer", title=None, text_content=WIRE_LONGER)
    insert_record(conn, 4, platform_id="other", text_content=OTHER)
    insert_record(conn, 5, platform_id="other_copy", platform="reddit", text_content=OTHER)
    insert_record(conn, 6, platform_id="unrelated", text_content=UNRELATED)
    insert_record(conn, 7, platform_id="short", text_content="Enig!")

    summary = run_enrichment(conn, NEAR_DUPLICATES)

    assert summary.rows_written["enrichment_near_dup"] == 7
    # six compared; the exact copy adds no buckets (its twin's answer for it)
    assert summary.rows_written["enrichment_near_dup_buckets"] == 5 * neardup.BANDS
    assert summary.rows_written["enrichment_near_dup_groups"] == 2
    groups, jaccards = _groups(conn)
    assert groups == {
        "wire": ("wire", 3, True),
        "edited": ("wire", 3, False),
        "longer": ("wire", 3, False),
        "other": ("other", 2, True),
        "other_copy": ("other", 2, False),
        "unrelated": ("unrelated", 1, True),
        "short": (None, None, None),  # too short to compare
    }
    assert jaccards["wire"] == 1.0 and jaccards["other_copy"] == 1.0
    assert neardup.THRESHOLD <= jaccards["edited"] < 1.0
    assert neardup.THRESHOLD <= jaccards["longer"] < 1.0


def test_new_records_join_stored_groups_without_rehashing_the_old_ones(conn):
    insert_record(conn, 10, platform_id="wire", text_content=WIRE)
    insert_record(conn, 11, platform_id="other", text_content=OTHER)
    insert_record(conn, 12, platform_id="unrelated", text_content=UNRELATED)
    first = run_enrichment(conn, NEAR_DUPLICATES)
    assert first.rows_written["enrichment_near_dup_buckets"] == 3 * neardup.BANDS

    # an edited copy later, and a copy published before the first one: it becomes the origin
    insert_record(conn, 20, platform_id="edited", text_content=WIRE_EDITED)
    insert_record(conn, 0, platform_id="earlier", published_at=BASE - timedelta(days=3),
                  text_content=WIRE)  # fmt: skip
    second = run_enrichment(conn, NEAR_DUPLICATES)

    assert second.records == 2
    # only the edited copy's buckets are new (the earlier copy is identical to the stored
    # one); the stored record it joins is regrouped, no other stored row is touched
    assert second.rows_written["enrichment_near_dup_buckets"] == neardup.BANDS
    assert second.rows_written["regrouped_rows"] == 1
    assert second.rows_written["enrichment_near_dup"] == 2
    groups, _ = _groups(conn)
    assert groups == {
        "earlier": ("earlier", 3, True),
        "wire": ("earlier", 3, False),
        "edited": ("earlier", 3, False),
        "other": ("other", 1, True),
        "unrelated": ("unrelated", 1, True),
    }
    assert conn.execute("SELECT count(*) FROM enrichment_near_dup_buckets").fetchone() == (
        4 * neardup.BANDS,
    )

    # one more copy joining without changing the first record writes its row and the group's
    insert_record(conn, 30, platform_id="late", text_content=WIRE_LONGER)
    third = run_enrichment(conn, NEAR_DUPLICATES)
    assert third.rows_written["regrouped_rows"] == 0
    assert third.rows_written["enrichment_near_dup_groups"] == 1
    assert _groups(conn)[0]["late"] == ("earlier", 4, False)

    # an even older copy becomes the first record: the group's members are re-scored
    insert_record(conn, 0, platform_id="oldest", published_at=BASE - timedelta(days=5),
                  text_content=WIRE_EDITED)  # fmt: skip
    fourth = run_enrichment(conn, NEAR_DUPLICATES)
    assert fourth.rows_written["regrouped_rows"] == 4
    groups, jaccards = _groups(conn)
    assert {name: groups[name] for name in ("oldest", "earlier", "wire", "edited", "late")} == {
        "oldest": ("oldest", 5, True),
        "earlier": ("oldest", 5, False),
        "wire": ("oldest", 5, False),
        "edited": ("oldest", 5, False),
        "late": ("oldest", 5, False),
    }
    assert jaccards["edited"] == 1.0  # identical to the new first record


def test_a_record_bridging_two_stored_groups_merges_them(conn):
    bridge = WIRE.replace("oplyser", "siger")
    far = bridge.replace("torsdag", "fredag").replace("Regeringen", "Statsministeren")
    insert_record(conn, 1, platform_id="a", text_content=WIRE)
    insert_record(conn, 2, platform_id="a_copy", text_content=WIRE)
    insert_record(conn, 3, platform_id="c", text_content=far)
    insert_record(conn, 4, platform_id="c_copy", text_content=far)
    run_enrichment(conn, NEAR_DUPLICATES)
    assert conn.execute("SELECT count(*) FROM enrichment_near_dup_groups").fetchone() == (2,)

    insert_record(conn, 5, platform_id="b", text_content=bridge)
    summary = run_enrichment(conn, NEAR_DUPLICATES)

    # the group with the later first record is repointed to the other; no re-scoring of a's
    assert summary.rows_written["regrouped_rows"] == 2
    assert conn.execute("SELECT count(*) FROM enrichment_near_dup_groups").fetchone() == (1,)
    groups, _ = _groups(conn)
    assert {n: g[:2] for n, g in groups.items()} == {
        n: ("a", 5) for n in ("a", "a_copy", "b", "c", "c_copy")
    }


def test_a_new_record_bridging_two_stored_singles_groups_them(conn):
    bridge = WIRE.replace("oplyser", "siger")
    # far from WIRE (estimated Jaccard 0.66 < 0.7), near the bridge (0.79); WIRE-bridge 0.84
    far = bridge.replace("torsdag", "fredag").replace("Regeringen", "Statsministeren")
    insert_record(conn, 1, platform_id="a", text_content=WIRE)
    insert_record(conn, 2, platform_id="c", text_content=far)
    run_enrichment(conn, NEAR_DUPLICATES)
    assert _groups(conn)[0] == {"a": ("a", 1, True), "c": ("c", 1, True)}

    insert_record(conn, 3, platform_id="b", text_content=bridge)
    summary = run_enrichment(conn, NEAR_DUPLICATES)

    assert summary.records == 1 and summary.rows_written["regrouped_rows"] == 2
    groups, jaccards = _groups(conn)
    assert groups == {"a": ("a", 3, True), "b": ("a", 3, False), "c": ("a", 3, False)}
    assert jaccards["c"] < neardup.THRESHOLD  # in the group through the bridge, not directly


def test_erased_members_leave_their_groups_consistent(conn, database_url):
    first = insert_record(conn, 1, platform_id="first", text_content=WIRE)
    second = insert_record(conn, 2, platform_id="second", text_content=WIRE_EDITED)
    insert_record(conn, 3, platform_id="third", text_content=WIRE_LONGER)
    enrich(database_url, NEAR_DUPLICATES)

    conn.execute("DELETE FROM content_records WHERE id = %s", [first])
    enrich(database_url, NEAR_DUPLICATES)
    groups, jaccards = _groups(conn)
    assert groups == {"second": ("second", 2, True), "third": ("second", 2, False)}
    assert jaccards["second"] == 1.0 and neardup.THRESHOLD <= jaccards["third"] < 1.0

    conn.execute("DELETE FROM content_records WHERE id = %s", [second])
    enrich(database_url, NEAR_DUPLICATES)
    assert _groups(conn)[0] == {"third": ("third", 1, True)}
    assert conn.execute("SELECT count(*) FROM enrichment_near_dup_groups").fetchone() == (0,)


DAYS = ("mandag", "tirsdag", "onsdag", "fredag", "lørdag", "søndag")


def _signature(text):
    (signature,) = neardup.signatures([neardup.normalised(None, text)])
    return signature


def _buckets_of(text):
    return neardup.buckets(_signature(text))


def _holders(conn):
    """Per bucket value: how many stored records hold it."""
    return dict(
        conn.execute("SELECT bucket, count(*) FROM enrichment_near_dup_buckets GROUP BY bucket")
    )


def _expected_holders(texts):
    """A group's bucket held by as many of its members as have it, at most three."""
    having = Counter(value for text in texts for value in set(_buckets_of(text)))
    return {value: min(count, neardup.MAX_TRIES_PER_GROUP) for value, count in having.items()}


def test_a_bucket_is_held_by_at_most_three_members_of_a_group(conn):
    texts = {day: WIRE.replace("torsdag", day) for day in DAYS}
    for n, (day, text) in enumerate(texts.items()):
        insert_record(conn, n, platform_id=day, text_content=text)

    summary = run_enrichment(conn, NEAR_DUPLICATES)

    groups, _ = _groups(conn)
    assert {name: size for name, (_, size, _) in groups.items()} == dict.fromkeys(DAYS, 6)
    holders = _holders(conn)
    assert holders == _expected_holders(texts.values())
    assert max(holders.values()) == neardup.MAX_TRIES_PER_GROUP  # some bucket all six share
    assert summary.rows_written["enrichment_near_dup_buckets"] == sum(holders.values())
    assert sum(holders.values()) < len(DAYS) * neardup.BANDS

    # a later copy is compared with the holders and joins the group
    insert_record(conn, 10, platform_id="late", text_content=WIRE.replace("torsdag", "i går"))
    run_enrichment(conn, NEAR_DUPLICATES)
    assert _groups(conn)[0]["late"] == ("mandag", 7, False)


def test_remaining_members_take_over_the_buckets_pruned_members_held(conn, database_url):
    texts = {day: WIRE.replace("torsdag", day) for day in DAYS}
    ids = {day: insert_record(conn, n, platform_id=day, text_content=text)
           for n, (day, text) in enumerate(texts.items())}  # fmt: skip
    enrich(database_url, NEAR_DUPLICATES)
    shared = min(set.intersection(*(set(_buckets_of(t)) for t in texts.values())))  # all six
    holding = [row[0] for row in conn.execute(
        "SELECT record_id FROM enrichment_near_dup_buckets WHERE bucket = %s", [shared]
    )]  # fmt: skip
    assert len(holding) == 3

    conn.execute("DELETE FROM content_records WHERE id = ANY(%s)", [holding])
    enrich(database_url, NEAR_DUPLICATES)

    remaining = {day: text for day, text in texts.items() if ids[day] not in holding}
    assert _holders(conn) == _expected_holders(remaining.values())
    assert _holders(conn)[shared] == 3  # held by the three remaining members now
    groups, _ = _groups(conn)
    assert {name: size for name, (_, size, _) in groups.items()} == dict.fromkeys(remaining, 3)


def test_a_group_is_re_scored_a_chunk_of_members_at_a_time(conn, monkeypatch):
    monkeypatch.setattr(neardup, "RESCORE_CHUNK", 2)
    texts = {day: WIRE.replace("torsdag", day) for day in DAYS}
    for n, (day, text) in enumerate(texts.items()):
        insert_record(conn, n, platform_id=day, text_content=text)
    run_enrichment(conn, NEAR_DUPLICATES)

    # an older copy becomes the first record: all six members re-scored, in three chunks
    insert_record(conn, 0, platform_id="oldest", published_at=BASE - timedelta(days=5),
                  text_content=WIRE)  # fmt: skip
    summary = run_enrichment(conn, NEAR_DUPLICATES)

    assert summary.rows_written["regrouped_rows"] == len(DAYS)
    groups, jaccards = _groups(conn)
    assert {name: group[:2] for name, group in groups.items()} == {
        name: ("oldest", 7) for name in (*DAYS, "oldest")
    }
    for day, text in texts.items():
        expected = neardup.jaccard(_signature(text), _signature(WIRE))
        assert jaccards[day] == pytest.approx(expected, abs=1e-4)
