"""The one cost table: free platforms, units per credit, ceiling division, tier fallbacks."""

from __future__ import annotations

import pytest

from observatory_pipelines.costs import PLATFORM_COSTS, TIER_DEFAULTS, credits_for


@pytest.mark.parametrize("platform", ["rss_feeds", "gdelt", "bluesky", "reddit", "file_import"])
@pytest.mark.parametrize("tier", ["free", "medium", "premium"])
def test_the_five_api_arenas_are_free_at_every_tier(platform, tier):
    assert credits_for(platform, tier, 10_000) == 0


def test_youtube_quota_units_are_free_on_free_and_priced_on_paid_tiers():
    assert credits_for("youtube", "free", 10_000) == 0
    assert credits_for("youtube", "medium", 100) == 1
    assert credits_for("youtube", "medium", 101) == 2  # ceiling division
    assert credits_for("youtube", "premium", 0) == 0


def test_paid_platforms_and_unknown_platform_fallback():
    assert credits_for("google_search", "medium", 51) == 2  # Serper: 50 requests a credit
    assert credits_for("google_search", "premium", 25) == 25  # SerpAPI: 1 request a credit
    assert credits_for("x_twitter", "medium", 1) == 1
    assert credits_for("not_a_platform", "premium", 1500) == 8  # ceil(1500 * 5 / 1000)
    assert credits_for("not_a_platform", "medium", 1) == 1
    assert credits_for("not_a_platform", "free", 10_000) == 0


def test_tier_defaults_are_0_1_5_per_thousand():
    assert {t: d.estimated_credits_per_1k for t, d in TIER_DEFAULTS.items()} == {
        "free": 0,
        "medium": 1,
        "premium": 5,
    }
    assert all(cost.units_per_credit >= 1 for cost in PLATFORM_COSTS.values())
