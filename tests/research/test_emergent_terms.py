"""Emergent terms on a hand-countable corpus: three ISO weeks, a term planted in the third.

Week 10 and 11 (2026-03-02, 03-09): three records "Vindmøller, havet og strøm" each (tokens
vindmøller, havet, strøm: 9 a week). Week 12 (03-16): three "Brintfabrik og CO2-afgift, klima."
(brintfabrik, co2-afgift, klima) and one "Brintfabrik i Esbjerg" (brintfabrik, esbjerg):
11 tokens. Week 12's reference = weeks 8–11 = 18 tokens.

brintfabrik: a=4, b=0, E1 = 11·4/29 → G² = 8 ln(4/E1) = 7.7552, log ratio log2((4/11)/(0.5/18))
= 3.7105; co2-afgift: a=3 → G² = 5.8164, log ratio 3.2955. TF-IDF: three slices, both in one
(idf 1 + ln 2 each, as esbjerg's), so tfidf = freq/√(4²+3²+1²): 0.784465 and 0.588348.
"""

from __future__ import annotations

import io
import json

import pytest

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.enrichments import terms as record_terms
from observatory_pipelines.enrichments.framework import run_enrichment
from observatory_pipelines.enrichments.tokens import SearchTermFilter, token_runs, tokens
from observatory_pipelines.research import emergent_terms as et
from observatory_pipelines.research.framework import ResearchInputError
from tests.research.conftest import enrich, materialize_research, metadata

WEEK = 7 * 24 * 60


def _plant(corpus, conn, database_url):
    conn.execute(
        "INSERT INTO search_terms (query_design_id, term) VALUES (%s, 'klima'), "
        "(%s, 'grøn omstilling')",
        [corpus.design, corpus.design],
    )
    for week in (0, 1):
        for i in range(3):
            corpus.add(week * WEEK + i * 60, text="Vindmøller, havet og strøm", terms=["klima"])
    for i in range(3):
        corpus.add(2 * WEEK + i * 60, text="Brintfabrik og CO2-afgift, klima.", terms=["klima"])
    corpus.add(2 * WEEK + 300, text="Brintfabrik i Esbjerg", platform="reddit")
    # never counted: a duplicate, and another design's record
    corpus.add(2 * WEEK, text="brintfabrik brintfabrik", raw_metadata={"duplicate_of": "x"})
    corpus.add(2 * WEEK, text="brintfabrik brintfabrik", design=corpus.new_design())
    enrich(database_url, "record_terms")  # each record tokenised once, stored


def test_tokens_keep_danish_words_and_compounds():
    assert tokens("CO2-afgift på Café i München! Se https://dr.dk/a og @mette.f #Grønland 2026") == [
        "co2-afgift", "café", "münchen", "se", "grønland",
    ]  # fmt: skip
    # a bigram only between words separated by spaces: not over punctuation, a stop word, a link
    assert token_runs("grøn omstilling, nu. Havvind i Nordsøen https://x.dk vindmøller") == [
        ["grøn", "omstilling"], ["havvind"], ["nordsøen"], ["vindmøller"],
    ]  # fmt: skip
    search = SearchTermFilter.of(["Klima", "grøn omstilling", "#CO2-afgift"])
    assert search.ngrams(token_runs("grøn omstilling klima debat co2-afgift stiger")) == [
        "grøn", "omstilling", "debat", "stiger",
    ]  # fmt: skip


def test_the_planted_term_tops_week_12_with_the_hand_computed_keyness(corpus, conn, database_url):
    _plant(corpus, conn, database_url)
    output = et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))
    rows = output.tables["emergent_terms"].rows
    assert [(r["period"], r["term"], r["rank"]) for r in rows] == [
        ("2026-W12", "brintfabrik", 1),
        ("2026-W12", "co2-afgift", 2),
    ]
    top, second = rows
    assert top == {
        "period": "2026-W12", "period_start": "2026-03-16", "term": "brintfabrik", "freq": 4,
        "doc_freq": 4, "ref_freq": 0, "keyness_g2": 7.7552, "log_ratio": 3.7105,
        "tfidf": 0.784465, "rank": 1, "prev_rank": None, "rank_change": None, "is_new": True,
    }  # fmt: skip
    assert (second["keyness_g2"], second["log_ratio"], second["tfidf"]) == (
        5.8164,
        3.2955,
        0.588348,
    )
    assert output.tables["slices"].rows == [
        {"period": "2026-W10", "period_start": "2026-03-02", "records": 3, "tokens": 9,
         "reference_tokens": 0},
        {"period": "2026-W11", "period_start": "2026-03-09", "records": 3, "tokens": 9,
         "reference_tokens": 9},
        {"period": "2026-W12", "period_start": "2026-03-16", "records": 4, "tokens": 11,
         "reference_tokens": 18},
    ]  # fmt: skip
    assert [s["term"] for s in output.tables["suggested_terms"].rows] == [
        "brintfabrik", "co2-afgift",
    ]  # fmt: skip
    assert output.summary["suggested_terms"] == ["brintfabrik", "co2-afgift"]
    every_term = {r["term"] for r in rows}
    assert not every_term & {"klima", "og", "i", "grøn omstilling", "co2", "afgift"}


def test_rank_change_and_a_term_that_is_not_new(corpus, conn, database_url):
    """Week 13 repeats week 12's brintfabrik (not new; rank 1 → 1, change 0) and adds
    solceller 5 times (new, rank 1): rank_change = prev_rank − rank."""
    _plant(corpus, conn, database_url)
    for i in range(5):
        corpus.add(3 * WEEK + i * 60, text="Solceller solceller brintfabrik")
    enrich(database_url, "record_terms")  # the new records only
    rows = (
        et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))
        .tables["emergent_terms"]
        .rows
    )
    week13 = {r["term"]: r for r in rows if r["period"] == "2026-W13"}
    assert week13["solceller"]["is_new"] and week13["solceller"]["rank"] == 1
    assert week13["solceller"]["freq"] == 10 and week13["solceller"]["doc_freq"] == 5
    assert week13["solceller brintfabrik"]["is_new"]
    brint = week13["brintfabrik"]
    assert not brint["is_new"] and brint["prev_rank"] == 1
    assert brint["rank_change"] == 1 - brint["rank"]


def test_slices_count_records_without_ngrams_and_search_term_tokens(corpus, conn, database_url):
    """A slice's size is read in the same pass as its n-grams: a record that kept no n-gram
    (only stop words) still counts as a record with 0 tokens, and a record holding only a
    search term counts its tokens (the reference sizes include search terms) though the
    term is never ranked."""
    _plant(corpus, conn, database_url)
    corpus.add(WEEK + 600, text="og i på")  # week 11: no n-gram kept
    corpus.add(660, text="Klima klima")  # week 10: the search term only, 2 tokens
    enrich(database_url, "record_terms")
    output = et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))
    assert [(s["period"], s["records"], s["tokens"], s["reference_tokens"])
            for s in output.tables["slices"].rows] == [
        ("2026-W10", 4, 11, 0), ("2026-W11", 4, 9, 11), ("2026-W12", 4, 11, 20),
    ]  # fmt: skip
    assert "klima" not in {r["term"] for r in output.tables["emergent_terms"].rows}
    assert output.summary["records"] == 12


def test_month_slices_and_a_filtered_scope(corpus, conn, database_url, monkeypatch):
    _plant(corpus, conn, database_url)
    monkeypatch.setenv("RESEARCH_PERIOD", "month")
    output = et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))
    assert [s["period"] for s in output.tables["slices"].rows] == ["2026-03"]
    assert output.tables["emergent_terms"].rows == []  # one month: nothing to compare with
    monkeypatch.setenv("RESEARCH_PERIOD", "week")
    reddit = et.emergent_terms(
        conn, check_scope(conn, AnalysisScope(corpus.design, platforms=["reddit"]))
    )
    assert [(s["period"], s["tokens"]) for s in reddit.tables["slices"].rows] == [("2026-W12", 2)]
    monkeypatch.setenv("RESEARCH_PERIOD", "fortnight")
    with pytest.raises(ResearchInputError, match="RESEARCH_PERIOD"):
        et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))


def test_bad_parameters_are_named(corpus, conn):
    params = check_scope(conn, AnalysisScope(corpus.design))
    with pytest.raises(ResearchInputError, match="reference_slices"):
        et.emergent_terms(conn, params, {"reference_slices": 0})
    with pytest.raises(ResearchInputError, match="top_term"):
        et.emergent_terms(conn, params, {"top_term": 5})


def test_each_record_is_tokenised_once_into_stored_ngram_counts(corpus, conn, database_url):
    """record_terms stores a record's unigrams and space-joined bigrams with their counts
    (search terms kept: they differ per design and are removed by the analysis) and its
    kept-token count; records without a kept token get a row with nothing in it."""
    assert record_terms.gram_counts("Solceller solceller brintfabrik, klima og CO2-afgift") == (
        5,
        ["solceller", "brintfabrik", "solceller solceller", "solceller brintfabrik", "klima",
         "co2-afgift"],
        [2, 1, 1, 1, 1, 1],
    )  # fmt: skip
    assert record_terms.gram_counts(None) == (0, [], [])
    first = corpus.add(0, text="Solceller solceller brintfabrik")
    empty = corpus.add(60, text="og i 2026 https://dr.dk/x")
    enrich(database_url, "record_terms")
    stored = {
        r[0]: r[1:]
        for r in conn.execute("SELECT record_id, token_count, terms, counts FROM enrichment_terms")
    }
    assert stored == {
        first: (3, ["solceller", "brintfabrik", "solceller solceller", "solceller brintfabrik"],
                [2, 1, 1, 1]),
        empty: (0, [], []),
    }  # fmt: skip


def test_records_enriched_page_by_page_give_the_same_answer(corpus, conn, database_url):
    """Enriched in pages of two (a crash-resumable run's unit), then the analysis: the same
    figures as the planted test's."""
    conn.execute(
        "INSERT INTO search_terms (query_design_id, term) VALUES (%s, 'klima')", [corpus.design]
    )
    for i in range(3):
        corpus.add(i * 60, text="Vindmøller, havet og strøm")
        corpus.add(WEEK + i * 60, text="Brintfabrik og CO2-afgift, klima.")
    run_enrichment(conn, record_terms.TERMS, page_size=2)
    rows = (
        et.emergent_terms(conn, check_scope(conn, AnalysisScope(corpus.design)))
        .tables["emergent_terms"]
        .rows
    )
    # week 11: 9 tokens (klima counted, not ranked), its reference week 10's 9; b = 0
    assert [(r["period"], r["term"], r["freq"], r["doc_freq"], r["ref_freq"]) for r in rows] == [
        ("2026-W11", "brintfabrik", 3, 3, 0),
        ("2026-W11", "co2-afgift", 3, 3, 0),
    ]


def test_the_asset_publishes_an_empty_design_and_the_suggestions(
    corpus, conn, database_url, postgres, s3_object_store_resource
):
    empty = materialize_research(
        ["emergent_terms"], corpus.design, postgres, s3_object_store_resource
    )
    assert empty.success
    meta = metadata(empty, "emergent_terms")
    assert meta["emergent_terms_rows"] == 0 and meta["suggested_terms"] == []
    _plant(corpus, conn, database_url)
    result = materialize_research(
        ["emergent_terms"], corpus.design, postgres, s3_object_store_resource
    )
    meta = metadata(result, "emergent_terms")
    assert meta["suggested_terms"] == ["brintfabrik", "co2-afgift"]
    assert meta["emergent_terms_chart"].startswith("![emergent terms chart](data:image/png")
    store = s3_object_store_resource.outputs()
    base = f"analysis/{corpus.design}/standard/research/emergent_terms"
    csv_text = store.get_bytes(f"{base}/suggested_terms.csv").decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("brintfabrik,2026-W12,1,4,4,7.7552")
    document = json.loads(store.get_bytes(f"{base}/result.json"))
    assert document["parameters"]["period"] == "week"
    assert io.BytesIO(store.get_bytes(f"{base}/emergent_terms_chart.png")).read(4) == b"\x89PNG"
