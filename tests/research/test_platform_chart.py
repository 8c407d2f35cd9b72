"""The language/sentiment-by-platform chart of temporal comparison: its shares exactly, and a
real PNG in the asset's metadata and the outputs bucket."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from observatory_pipelines.research import trend_plots
from tests.research.conftest import materialize_research, metadata

ROWS = [
    {"platform": "bluesky", "records": 8, "languages": {"da": 6, "en": 1, "sv": 1},
     "sentiment_mean": 0.25, "sentiment_scored": 6},
    {"platform": "reddit", "records": 4, "languages": {"en": 3, "und": 1},
     "sentiment_mean": None, "sentiment_scored": 0},
]  # fmt: skip


def test_language_shares_of_each_platform(monkeypatch):
    assert trend_plots.language_shares(ROWS) == {
        "da": [0.75, 0.0], "en": [0.125, 0.75], "sv": [0.125, 0.0], "und": [0.0, 0.25],
    }  # fmt: skip
    monkeypatch.setattr(trend_plots, "LANGUAGES_SHOWN", 2)  # en (4), da (6) shown; rest other
    assert trend_plots.language_shares(ROWS) == {
        "da": [0.75, 0.0], "en": [0.125, 0.75], "other": [0.125, 0.25],
    }  # fmt: skip
    assert trend_plots.language_shares([]) == {}


def test_the_chart_is_a_png_even_without_records():
    for rows in (ROWS, []):
        image = Image.open(io.BytesIO(trend_plots.platform_language_sentiment(rows)))
        assert image.format == "PNG" and image.width > 400  # two panels side by side


def test_the_asset_shows_the_chart(corpus, conn, postgres, s3_object_store_resource):
    corpus.add(0, platform="bluesky", text="Klima", language="da")
    corpus.add(5, platform="reddit", text="Climate", language="en")
    result = materialize_research(
        ["temporal_comparison"], corpus.design, postgres, s3_object_store_resource
    )
    assert result.success
    meta = metadata(result, "temporal_comparison")
    chart = meta["platform_language_sentiment_chart"]
    data = re.fullmatch(r"!\[platform language sentiment chart\]\(data:image/png;base64,(.+)\)",
                        chart).group(1)  # fmt: skip
    assert Image.open(io.BytesIO(base64.b64decode(data))).format == "PNG"
    key = f"analysis/{corpus.design}/standard/research/temporal_comparison/"
    stored = s3_object_store_resource.outputs().get_bytes(
        key + "platform_language_sentiment_chart.png"
    )
    assert stored.startswith(b"\x89PNG")
