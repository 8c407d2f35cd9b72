"""Danish sentiment of known sentences: the rules asent applies, the gate, the original's sum.

Every expected score is the VADER formula by hand: a sentence's valences summed (AFINN "godt"
+3, "god" +3, "elendig" -3, "glad" +3), then ``x / sqrt(x² + 15)``; a text's score is the
mean over its sentences.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import re
import subprocess
import sys
from itertools import islice

import dagster as dg
import spacy

from observatory_pipelines.demo.corpus import Corpus, CorpusConfig
from observatory_pipelines.enrichments import assets as edge
from observatory_pipelines.enrichments import sentiment
from observatory_pipelines.enrichments.catalog import SENTIMENT
from observatory_pipelines.enrichments.framework import run_enrichment
from observatory_pipelines.enrichments.service import check_coverage, enrich

from .conftest import insert_record


def exact(x: float) -> float:
    return x / math.sqrt(x * x + 15)


def compound(x: float) -> float:
    return round(exact(x), 4)


def _rows(conn):
    return {
        platform_id: rest
        for platform_id, *rest in conn.execute(
            "SELECT r.platform_id, s.scored, s.skip_reason, s.sentiment_label, "
            "s.sentiment_score, s.afinn_raw FROM enrichment_sentiment s JOIN content_records r "
            "ON r.id = s.record_id AND r.published_at = s.published_at"
        ).fetchall()
    }


def test_known_danish_sentences_get_the_known_scores_and_labels(conn, database_url):
    sentences = {
        "plain": "Det er godt",  # +3
        "negated": "Det er ikke godt",  # +3 x -0.74 (the original: +3)
        "contrast": "Maden er god, men servicen er elendig",  # 3 x 0.5 - 3 x 1.5 = -3
        "no_contrast": "Maden er god og servicen er elendig",  # 3 - 3 = 0
        "intensified": "Det er meget godt",  # 3 + 0.293
        "exclaimed": "Det er godt!",  # 3 + 0.292 for one "!"
        "emoji": "Jeg er glad 😊",  # 3 + 4.4097 (asent's emoji list)
        "sad_emoji": "Det er godt 😢",  # 3 - 3.5169
        "two_sentences": "Det er godt. Det er ikke godt.",  # the mean of the two: neutral
    }
    for n, (name, text) in enumerate(sentences.items()):
        insert_record(conn, n, platform_id=name, language="da", text_content=text)

    result = enrich(database_url, SENTIMENT)

    assert result["rows_written"] == {"enrichment_sentiment": len(sentences)}
    plain, negated = compound(3), compound(3 * -0.74)
    assert _rows(conn) == {
        "plain": [True, None, "positive", plain, 3],
        "negated": [True, None, "negative", negated, 3],
        "contrast": [True, None, "negative", compound(-3), 0],
        "no_contrast": [True, None, "neutral", 0.0, 0],
        "intensified": [True, None, "positive", compound(3.293), 3],
        "exclaimed": [True, None, "positive", compound(3.292), 3],
        "emoji": [True, None, "positive", 0.8862, 3],  # 7.4097 / sqrt(7.4097² + 15)
        "sad_emoji": [True, None, "negative", -0.1323, 3],  # -0.5169 / sqrt(0.5169² + 15)
        "two_sentences": [True, None, "neutral", round((exact(3) + exact(-2.22)) / 2, 4), 6],
    }
    assert compound(3.293) > plain  # the intensifier strengthens
    assert compound(3.292) > plain  # so does the exclamation mark


def test_only_danish_records_with_text_are_scored_and_all_are_looked_at(conn, database_url):
    insert_record(conn, 1, platform_id="en", language="en", text_content="This is good")
    insert_record(conn, 2, platform_id="nb", language="nb", text_content="Det er godt")
    insert_record(conn, 3, platform_id="none", text_content="Det er godt")  # undetermined
    insert_record(conn, 4, platform_id="empty", language="da", text_content="  \n ")
    insert_record(conn, 5, platform_id="null", language="da")
    insert_record(conn, 6, platform_id="regional", language="da-DK", text_content="Det er godt")
    # an older record: the detected language in its metadata (the analyses' rule too)
    insert_record(conn, 7, platform_id="meta", text_content="Det er godt",
                  raw_metadata={"detected_language": "da"})  # fmt: skip

    enrich(database_url, SENTIMENT)

    rows = conn.execute(
        "SELECT r.platform_id, s.language, s.scored, s.skip_reason, s.sentiment_score, "
        "s.afinn_raw, s.sentiment_method FROM enrichment_sentiment s JOIN content_records r "
        "ON r.id = s.record_id AND r.published_at = s.published_at ORDER BY r.platform_id"
    ).fetchall()
    assert rows == [
        ("empty", "da", False, "no_text", None, None, None),
        ("en", "en", False, "not_danish", None, None, None),
        ("meta", "da", True, None, compound(3), 3, "asent_afinn_da"),
        ("nb", "nb", False, "not_danish", None, None, None),
        ("none", None, False, "not_danish", None, None, None),
        ("null", "da", False, "no_text", None, None, None),
        ("regional", "da", True, None, compound(3), 3, "asent_afinn_da"),
    ]
    assert check_coverage(database_url, SENTIMENT)["missing"] == 0


def test_news_title_and_body_are_scored_apart_and_together(conn, database_url):
    insert_record(conn, 1, platform_id="article", platform="rss_feeds", arena="news_media",
                  content_type="article", language="da", title="Regeringen er god",
                  text_content="Det er en katastrofe. Det er skidt.")  # fmt: skip
    insert_record(conn, 2, platform_id="headline", platform="rss_feeds", arena="news_media",
                  content_type="article", language="da", title="Det er godt")  # fmt: skip

    enrich(database_url, SENTIMENT)

    rows = conn.execute(
        "SELECT r.platform_id, s.title_score, s.body_score, s.sentiment_score, s.afinn_raw "
        "FROM enrichment_sentiment s JOIN content_records r "
        "ON r.id = s.record_id AND r.published_at = s.published_at ORDER BY r.platform_id"
    ).fetchall()
    title = compound(3)  # "god" +3
    body = compound(-2)  # "katastrofe" -2, "skidt" -2: each sentence alike
    assert rows == [
        # one title sentence and two body sentences: the mean over all three
        ("article", title, body, round((exact(3) + 2 * exact(-2)) / 3, 4), 3 - 2 - 2),
        ("headline", None, None, compound(3), 3),  # only a title: no parts to tell apart
    ]


def _original_afinn_raw(text: str) -> int:
    """The original's raw score literally: one regex of every entry, longest first."""
    words = sorted(sentiment.AFINN, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")
    return sum(sentiment.AFINN[w] for w in pattern.findall(re.sub(r"\s+", " ", text).lower()))


def test_afinn_raw_finds_what_the_originals_single_regex_found():
    texts = [
        "Det er ikke god mad, og der er for meget salt",  # "ikke god" -2, "for meget" -2
        "Det   er\tikke\ngod",  # whitespace collapsed first: still the phrase
        "Et fy-ord og en win-win-situation: GODT og Godt!",  # hyphenated entries, case
        "Aftalt spil! Han har raget til sig. Det fungerer ikke. Glæde, håb og kærlighed.",
        "ikke godkendt, ikke-godkendt, godhed, ugod",  # no entry inside a longer word
    ]
    for text in texts:
        assert sentiment.afinn_raw(text) == _original_afinn_raw(text), text
    assert sentiment.afinn_raw(texts[0]) == -4
    assert sentiment.afinn_raw("Det er ikke godt") == 3  # no negation: the original's flaw


def test_a_second_run_scores_only_new_records_and_a_new_version_all(conn, database_url):
    for n in range(7):
        insert_record(conn, n, platform_id=f"old{n}", language="da", text_content="Det er godt")
    first = run_enrichment(conn, SENTIMENT, page_size=3)
    assert (first.records, first.pages) == (7, 3)
    stamped = conn.execute("SELECT record_id, computed_at FROM enrichment_sentiment").fetchall()

    for n in range(10, 12):
        insert_record(conn, n, platform_id=f"new{n}", language="da", text_content="Det er skidt")
    second = run_enrichment(conn, SENTIMENT, page_size=3)

    assert second.records == 2 and not second.recomputed_all
    assert second.rows_written == {"enrichment_sentiment": 2}
    kept = conn.execute(
        "SELECT record_id, computed_at FROM enrichment_sentiment WHERE record_id = ANY(%s)",
        [[record_id for record_id, _ in stamped]],
    ).fetchall()
    assert sorted(kept) == sorted(stamped)  # the old rows were not touched

    bumped = dataclasses.replace(SENTIMENT, method_version=SENTIMENT.method_version + "-next")
    again = run_enrichment(conn, bumped, page_size=3)
    assert again.recomputed_all and again.records == 9
    assert conn.execute(
        "SELECT method_version, count(*) FROM enrichment_sentiment GROUP BY 1"
    ).fetchall() == [(bumped.method_version, 9)]


def test_the_asset_materializes_with_its_platform_table_and_chart(conn, postgres):
    insert_record(conn, 1, platform_id="b1", platform="bluesky", language="da",
                  text_content="Det er godt")  # fmt: skip
    insert_record(conn, 2, platform_id="b2", platform="bluesky", language="da",
                  text_content="Det er ikke godt")  # fmt: skip
    insert_record(conn, 3, platform_id="b3", platform="bluesky", language="en",
                  text_content="Fine")  # fmt: skip
    insert_record(conn, 4, platform_id="r1", platform="reddit", language="da",
                  text_content="Regeringen mødes i dag")  # fmt: skip
    [asset] = [a for a in edge.enrichment_assets if a.key == dg.AssetKey(SENTIMENT.name)]
    [check] = [c for c in edge.enrichment_checks if SENTIMENT.name in str(c.check_keys)]

    result = dg.materialize([asset, check], resources={"postgres": postgres})

    assert result.success
    [materialization] = result.asset_materializations_for_node(SENTIMENT.name)
    metadata = materialization.metadata
    assert metadata["records_enriched_now"].value == 4
    assert metadata["method_version"].value == SENTIMENT.method_version
    assert metadata["by_platform"].value == [
        {"platform": "bluesky", "records": 3, "scored": 2, "positive": 1, "neutral": 0,
         "negative": 1, "mean_score": 0.0576},  # (0.6124 - 0.4973) / 2, half up
        {"platform": "reddit", "records": 1, "scored": 1, "positive": 0, "neutral": 1,
         "negative": 0, "mean_score": 0.0},
    ]  # fmt: skip
    chart = metadata["sentiment_by_platform"].value
    png = base64.b64decode(chart.split("base64,", 1)[1].rstrip(")"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == f"{SENTIMENT.name}_complete" and evaluation.passed


def test_the_pipeline_builds_and_scores_with_the_network_cut_off():
    """Nothing is downloaded: every socket connection raises, and it still scores."""
    program = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from observatory_pipelines.enrichments import sentiment\n"
        "[s] = sentiment.score_rows([{'language': 'da', 'text_content': 'Det er godt'}])\n"
        "print(s.score, s.label)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(compound(3)), "positive"]


def test_the_score_is_exactly_asents_own_document_score():
    """Skipping sentences without a lexicon word changes nothing: asent's full pass agrees."""
    reference = spacy.blank("da")
    reference.add_pipe("sentencizer")
    reference.add_pipe("asent_v1", config=sentiment.asent_config())
    texts = [
        "Det er godt. Regeringen mødes i dag. Det er IKKE godt, men det er dog en glæde!!",
        "Ingen ved det. Hvorfor?? Jeg er ked af det 😢 men glad 😊",
        "Mødet sluttede kl. 12. Ministeren kom ikke. Det var yderst skuffende og lidt trist.",
        "DET ER GODT. Det er meget GODT. Helt fint, ikke dårligt, aldrig værre.",
        "Regeringen fremlagde i dag et lovforslag om skat.",
    ]
    texts += [item.text for item in islice(Corpus(CorpusConfig(seed=7)).iter_items(), 200)]

    ours = [sentiment.document_compound(doc) for doc in sentiment.pipeline().pipe(texts)]
    theirs = [(doc._.polarity.compound, len(doc._.polarity.polarities))
              for doc in reference.pipe(texts)]  # fmt: skip

    assert ours == theirs
    toned = sum(1 for score, _ in ours if score != 0)
    assert 50 < toned < len(texts) - 50  # both kinds, the skipped and the scored, were met
