"""No research analysis reads the row order of the temp tables it builds.

A temp table's rows land in whatever order the plan of its SELECT yields them (a parallel
plan, which the planner may pick at other sizes or settings, interleaves the workers' rows).
So every analysis, over one corpus holding the other test modules' planted shares, links,
near-duplicates, hashtags, mentions, replies, quotes and terms, must give the same tables,
networks, GEXF and summary whether its temp tables are stored as the plan yields them or
shuffled.
"""

from __future__ import annotations

import json

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.db.engine import connect
from observatory_pipelines.research import framework
from observatory_pipelines.research.catalog import ANALYSES
from tests.research import test_dynamic_gexf, test_interaction_networks
from tests.research.conftest import enrich
from tests.research.test_coordination import X, Y, _share
from tests.research.test_propagation import OTHER, STORY


def _build(corpus) -> None:
    test_interaction_networks.build_corpus(corpus)
    test_dynamic_gexf.build_corpus(corpus)
    for index in range(5):  # coordination: five accounts co-sharing two URLs
        _share(corpus, 2 * index, f"a{index + 1}", X)
        _share(corpus, 100 + 2 * index, f"a{index + 1}", Y)
    _share(corpus, 50, "a6", X)
    for minutes, author, platform, filler in (  # propagation: two near-duplicate groups
        (0, "b1", "bluesky", "gylle"), (90, "b2", "bluesky", "marker"),
        (120, "r1", "reddit", "stalde"),
    ):  # fmt: skip
        corpus.add(minutes, author=author, platform=platform, text=STORY.format(filler))
    corpus.add(0, author="c1", text=OTHER.format("foråret"), terms=["elbiler"])
    corpus.add(10, author="c2", text=OTHER.format("sommeren"), terms=["elbiler"])
    corpus.add(-60, platform="rss_feeds", arena="news_media", author="feed_dr",
               url="https://www.dr.dk/nyheder/1", title="DR", text="Klimaplan i dag")  # fmt: skip
    corpus.add(45, author="s1", text="Læs https://dr.dk/nyheder/1 og https://tv2.dk/y")


def _outputs(database_url: str, params: dict) -> dict[str, dict]:
    """Each analysis' output as plain JSON values (dates and numbers as the store writes them)."""
    results = {}
    with connect(database_url) as conn:
        for analysis in ANALYSES:
            output = analysis.compute(conn, params)
            conn.rollback()  # the asset's connection ends here: its temp tables go
            shown = {
                "tables": {k: [t.columns, t.rows] for k, t in output.tables.items()},
                "networks": output.networks,
                "gexf": {k: v.decode() for k, v in output.gexf.items()},
                "summary": output.summary,
            }
            results[analysis.name] = json.loads(json.dumps(shown, default=str))
    return results


def test_every_analysis_is_the_same_with_its_temp_tables_shuffled(
    corpus, conn, database_url, monkeypatch
):
    _build(corpus)
    enrich(database_url)
    params = check_scope(conn, AnalysisScope(query_design_id=corpus.design))
    stored = _outputs(database_url, params)
    assert stored["interaction_networks"]["tables"]["reply_edges"][1]
    assert sum(r["shares"] for r in stored["coordination"]["tables"]["runs"][1]) > 0
    assert stored["coordination"]["tables"]["edges"][1]

    built: list[str] = []
    plain = framework.temp_table_select

    def shuffled(name: str) -> str:
        built.append(name)
        return f"SELECT * FROM (\n{plain(name)}\n) AS plan_order ORDER BY random()"

    monkeypatch.setattr(framework, "temp_table_select", shuffled)
    for attempt in range(2):
        assert _outputs(database_url, params) == stored, f"shuffle {attempt + 1}"
    # every analysis that builds temp tables was shuffled (propagation, link mining,
    # coordination, emergent terms, interaction networks, dynamic GEXF)
    assert {"propagation_members", "links_in_scope", "coordination_shares",
            "emergent_terms_counts", "interaction_records",
            "dynamic_gexf_records"} <= set(built)  # fmt: skip
