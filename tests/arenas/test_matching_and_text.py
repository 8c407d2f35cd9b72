from __future__ import annotations

from datetime import UTC, datetime, timedelta

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.arenas.matching import (
    match_terms,
    matches_groups,
    quoted_term,
    term_groups,
)
from observatory_pipelines.arenas.text import (
    clamp_record,
    clean_json,
    plausible_date,
    strip_html,
    to_int,
)


def _terms(*specs):
    return [SearchTerm(*s) if isinstance(s, tuple) else SearchTerm(s) for s in specs]


def test_long_terms_need_only_a_left_boundary_with_danish_letters():
    text = "Debatten om Grønlandspolitik og ÆØÅ-bogstaver fortsætter; mgrønland tæller ikke."
    assert match_terms(text, _terms("grønland")) == ["grønland"]
    assert match_terms("mgrønland", _terms("grønland")) == []
    assert match_terms("søgrønland", _terms("grønland")) == []  # ø is a letter: no boundary
    assert match_terms("ÅRHUS KOMMUNE", _terms("århus")) == ["århus"]
    assert match_terms("Ærø-færgen", _terms("ærø")) == ["ærø"]


def test_short_terms_need_both_boundaries():
    assert match_terms("EU og DF stemmer", _terms("eu", "df")) == ["eu", "df"]
    assert match_terms("Europa og DFs politik", _terms("eu", "df")) == []
    assert match_terms("ønske om AI-regler", _terms("ai")) == ["ai"]
    assert match_terms("detail", _terms("ai")) == []


def test_phrases_match_any_whitespace_and_hashtags_keep_their_sign():
    text = "Den grønne\n  omstilling er i gang #dkpol #DKgreen"
    terms = _terms(("grønne omstilling", "phrase"), ("dkpol", "hashtag"), ("#dkgreen", "hashtag"))
    assert match_terms(text, terms) == ["grønne omstilling", "dkpol", "#dkgreen"]
    assert match_terms("dkpol uden hashtag", _terms(("dkpol", "hashtag"))) == []
    assert match_terms("regex (a+b) tegn", _terms("(a+b)")) == ["(a+b)"]
    assert match_terms(None, _terms("x")) == []


def test_groups_and_within_or_across():
    terms = [SearchTerm("grønland", group=1), SearchTerm("aftale", group=1), SearchTerm("klima")]
    assert len(term_groups(terms)) == 2
    assert matches_groups("Grønland får en aftale", terms)
    assert not matches_groups("Grønland alene", terms)
    assert matches_groups("Klimaloven", terms)
    assert matches_groups("anything", [])


def test_html_dates_and_ints():
    assert strip_html("<p>A&amp;B<script>x()</script> <br/>c</p>") == "A&B c"
    assert strip_html("<p> </p>") is None
    assert to_int("1234") == 1234 and to_int("12.0") == 12 and to_int("abc") is None
    assert to_int(True) is None and to_int(-5) is None
    meta: dict = {}
    assert plausible_date("2100-01-01T00:00:00Z", meta) is None and meta["published_at_invalid"]
    assert plausible_date("not a date", {}) is None
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert plausible_date(tomorrow.isoformat(), {}) is not None  # timezones run ahead
    aware = plausible_date("2026-11-18T10:00:00", {})
    assert aware == datetime(2026, 11, 18, 10, tzinfo=UTC)


def test_clamp_record_fits_columns_and_jsonb():
    record = NormalizedRecord(
        platform="x",
        arena="social_media",
        content_type="post",
        platform_id="p" * 600,
        published_at=None,
        language="da-DK-extra-long",
        likes_count="17",
        raw_metadata={"note": "nul\x00byte", "nested": [{"k\x00": "v"}]},
        media_urls=["https://ok.dk/a.jpg", "https://x/" + "a" * 2100, ""],
    )
    clamp_record(record)
    assert record.platform_id.startswith("sha256:") and len(record.platform_id) == 71
    assert record.language == "da-DK-extr" and record.likes_count == 17
    assert record.raw_metadata == {"note": "nulbyte", "nested": [{"k": "v"}]}
    assert record.media_urls == ["https://ok.dk/a.jpg"]
    assert clean_json({"d": datetime(2026, 1, 1)}) == {"d": "2026-01-01 00:00:00"}


def test_one_quoting_rule_for_every_search_api():
    assert quoted_term(SearchTerm("  grønne \t omstilling ")) == '"grønne omstilling"'
    assert quoted_term(SearchTerm("aftale", "phrase")) == '"aftale"'
    assert quoted_term(SearchTerm("klima")) == "klima"
    assert quoted_term(SearchTerm("dk pol", "hashtag")) == "dk pol"  # hashtags never quoted
