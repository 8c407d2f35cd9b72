"""What collecting costs, in one table: which platforms are free, and how API units become credits.

Collectors estimate *units* (requests, quota units) for a request; this table
turns units into credits with ceiling division. The ledger and the estimate
both read it; nothing else prices anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformCost:
    free_tiers: frozenset[str]  # tiers at which this platform costs nothing
    units_per_credit: int  # API units bought by one credit on paid tiers
    # Tiers whose units cost differently, as (tier, units per credit) pairs: one platform
    # reached through two providers (x_twitter: TwitterAPI.io medium, X API v2 premium).
    tier_units_per_credit: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TierDefault:
    """Fallback for arenas the registry does not know."""

    estimated_credits_per_1k: int


TIER_DEFAULTS: dict[str, TierDefault] = {
    "free": TierDefault(estimated_credits_per_1k=0),
    "medium": TierDefault(estimated_credits_per_1k=1),
    "premium": TierDefault(estimated_credits_per_1k=5),
}

_ALL_TIERS = frozenset({"free", "medium", "premium"})

PLATFORM_COSTS: dict[str, PlatformCost] = {
    "rss_feeds": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "gdelt": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "bluesky": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "reddit": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "file_import": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Wikipedia and Google's suggest endpoint are free and keyless: 0 credits, calls counted.
    "wikipedia": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # google_autocomplete's free tier is Google's keyless suggest endpoint (0 credits, calls
    # counted); medium (Serper) and premium (SerpAPI) bill per request, priced as
    # google_search's requests: Serper 50 a credit, SerpAPI 1 a credit.
    "google_autocomplete": PlatformCost(
        free_tiers=frozenset({"free"}), units_per_credit=50, tier_units_per_credit=(("premium", 1),)
    ),
    # Mastodon: free at every tier; requests are still counted as units.
    "mastodon": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # ODA is free and keyless: 0 credits on every tier; requests still counted as units.
    "folketinget": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Telegram's public preview and Discord's bot API are free: 0 credits, requests counted.
    "telegram": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "discord": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Via Ritzau (keyless) and Twitch Helix (free app token): 0 credits, requests counted.
    "ritzau_via": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "twitch": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # The Internet Archive's CDX index and archived pages are free: 0 credits, requests counted.
    "wayback": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Common Crawl's index and WARC files are free: 0 credits, requests counted.
    "common_crawl": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Our own polite page fetching (no external API): 0 credits, page requests counted.
    "url_scraper": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    "domain_crawler": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # YouTube quota units are not credits on the free tier; paid tiers buy 100 units a credit.
    "youtube": PlatformCost(free_tiers=frozenset({"free"}), units_per_credit=100),
    # x_twitter units are priced per provider (arenas/x_twitter.py): medium, TwitterAPI.io,
    # 1 unit = one returned tweet (15 provider credits, $0.00015; at least 1 per request),
    # 100 units a credit; premium, X API v2 pay-per-use, 1 unit = one post read ($0.005; a
    # user read is 2), 3 units a credit: a credit is worth ~$0.015 at both tiers.
    "x_twitter": PlatformCost(
        free_tiers=frozenset(), units_per_credit=100, tier_units_per_credit=(("premium", 3),)
    ),
    # facebook / instagram, Bright Data's Web Scraper API: 1 unit = one billed snapshot row
    # (error rows included), ~$1.50 per 1,000 (spec): 10 rows a credit (a credit ~$0.015).
    "facebook": PlatformCost(free_tiers=frozenset(), units_per_credit=10),
    "instagram": PlatformCost(free_tiers=frozenset(), units_per_credit=10),
    # TikTok's Research API is free for approved research institutions: 0 credits at every
    # tier; requests (token and query calls) are still counted as units.
    "tiktok": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # google_search: 1 unit = one search request (10 results), billed by the provider per
    # request. Medium, Serper.dev: ~$0.30 per 1,000 (spec), 50 requests a credit; premium,
    # SerpAPI: ~$75 per 5,000 ($0.015), 1 request a credit (a credit is ~$0.015, as x_twitter).
    "google_search": PlatformCost(
        free_tiers=frozenset(), units_per_credit=50, tier_units_per_credit=(("premium", 1),)
    ),
    # Event Registry bills tokens (1 a recent search, 5 a searched archive year): 1 token = 1 credit.
    "event_registry": PlatformCost(free_tiers=frozenset(), units_per_credit=1),
    # ai_chat_search (OpenRouter): 1 unit = one millionth of a US dollar of what OpenRouter
    # billed (``usage.cost`` of every chat completion: tokens and web search together), so
    # any model is charged what it cost; 15,000 a credit (a credit ~$0.015, as above).
    "ai_chat_search": PlatformCost(free_tiers=frozenset(), units_per_credit=15_000),
    # Threads' official API is free: 0 credits; every request is one unit, counted.
    "threads": PlatformCost(free_tiers=_ALL_TIERS, units_per_credit=1),
    # Majestic (spec): credits = max(1, (metric items + backlink rows) / 1000), premium only.
    "majestic": PlatformCost(free_tiers=frozenset(), units_per_credit=1000),
}


def credits_for(platform: str, tier: str, units: int) -> int:
    """Credits for ``units`` API units on ``platform`` at ``tier`` (ceiling division)."""
    if units <= 0:
        return 0
    cost = PLATFORM_COSTS.get(platform)
    if cost is None:
        default = TIER_DEFAULTS.get(tier, TIER_DEFAULTS["free"])
        return -(-units * default.estimated_credits_per_1k // 1000)
    if tier in cost.free_tiers:
        return 0
    per_credit = dict(cost.tier_units_per_credit).get(tier, cost.units_per_credit)
    return -(-units // per_credit)
