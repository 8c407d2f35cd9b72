"""Google Search results as Danes see them: Serper.dev (medium) and SerpAPI (premium).

One query per term group (the group's terms joined by spaces, Google ANDs them) and
one ``site:domain`` query per actor; each query is paged (10 results a page) until
a page holds fewer than 10 results, ``max_pages`` or the record cap. Every organic
result becomes a ``search_result`` record carrying its rank (page, position on the
page, overall rank) and the query it answered, so "which sources does Google show
Danes for this issue" can be counted.

Cost: both providers bill per search request, so one request is one unit; the cost
table prices Serper (medium, ~$0.30 per 1,000) at 50 requests a credit and SerpAPI
(premium, ~$0.015 a search) at 1 request a credit. ``estimate_units`` is queries x pages, and the collector never sends more
requests than it estimated (the reservation is the ceiling), so settlement charges the
requests really sent. Quota exhaustion (Serper: 400 "Not enough credits"; SerpAPI: 429
"run out of searches") raises ``ArenaQuotaExceeded`` and the pool rotates keys; pages
already fetched are remembered in ``rate_limit_state`` so the next key does not pay again.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.matching import quoted_term, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.serp_providers import (
    CREDENTIAL_FIELDS,
    HOST_SETTINGS,
    PROVIDERS,
    SerpProviders,
    provider_for,
)
from observatory_pipelines.arenas.support import Reject, SourceTally, map_page, record_cap

RESULTS_PER_PAGE = 10
DEFAULT_MAX_PAGES = 10  # Google rarely serves more than ~100 organic results for a query

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "maj": 5, "may": 5, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\.?\s+([a-zæøå]{3})[a-zæøå]*\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$")


def result_date(value: Any) -> datetime | None:
    """The date Google prints beside a result ("24 jun. 2024", "Jun 24, 2024"), UTC midnight.

    Relative dates ("3 dage siden") and anything else give None: the record is then
    undated and stored with its collection time (spec §9).
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.lower().split())
    match = _DAY_MONTH_YEAR.match(text)
    if match:
        day, month, year = match.group(1), match.group(2), match.group(3)
    else:
        match = _MONTH_DAY_YEAR.match(text)
        if not match:
            return None
        month, day, year = match.group(1), match.group(2), match.group(3)
    number = _MONTHS.get(month[:3])
    if number is None:
        return None
    try:
        return datetime(int(year), number, int(day), tzinfo=UTC)
    except ValueError:
        return None


def queries(request: CollectionRequest) -> list[str]:
    """One query per term group, then one ``site:`` query per actor's domain."""
    out = [" ".join(quoted_term(t) for t in group) for group in term_groups(request.terms)]
    for actor in request.actors:
        domain = (actor.platform_username or actor.platform_user_id or "").strip().lower()
        if domain:
            out.append(f"site:{domain}")
    return [q for q in dict.fromkeys(out) if q]


def _window_tbs(request: CollectionRequest) -> str:
    """Google's custom date range for the window (``cd_max`` is inclusive, the window's end
    is not). The spec flags that providers pass ``tbs`` on; both document it."""
    start = request.date_from.astimezone(UTC)
    end = datetime.fromtimestamp(request.date_to.timestamp() - 1, UTC)
    return (
        f"cdr:1,cd_min:{start.month}/{start.day}/{start.year},"
        f"cd_max:{end.month}/{end.day}/{end.year}"
    )


@register
class GoogleSearchCollector(Collector):
    platform = "google_search"
    arena = "search"
    supported_tiers = ("medium", "premium")
    needs_credentials = True
    max_records_per_run = 10_000
    tier_caps = {"medium": 10_000, "premium": 100_000}
    host_setting = HOST_SETTINGS
    credential_fields = CREDENTIAL_FIELDS
    credentials_by_tier = True  # a Serper key serves medium runs, a SerpAPI key premium ones
    min_request_interval = 0.1  # the original's 10 calls/s courtesy toward both providers
    quota = (
        "per search request: medium Serper.dev (~$0.30 per 1,000; 50 requests a credit), "
        "premium SerpAPI (~$0.015 a search; 1 request a credit); at most the estimated "
        "requests per run"
    )
    option_specs = (
        ArenaOption(
            "max_pages", "int", DEFAULT_MAX_PAGES, "result pages (10 results each) per query"
        ),
        ArenaOption(
            "restrict_to_window",
            "bool",
            False,
            "send Google's custom date range (tbs=cdr) for the run's window; Google applies "
            "it to the dates it knows, and results without one may drop out",
        ),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.providers = SerpProviders(self)

    # -- cost ---------------------------------------------------------------------------

    def _pages_per_query(self, request: CollectionRequest) -> int:
        max_pages = int((request.options or {}).get("max_pages") or DEFAULT_MAX_PAGES)
        by_cap = -(-record_cap(self, request) // RESULTS_PER_PAGE)
        return max(0, min(max_pages, by_cap))

    def estimate_units(self, request: CollectionRequest) -> int:
        if request.tier not in PROVIDERS:  # no free tier: the task is refused, costs nothing
            return 0
        return len(queries(request)) * self._pages_per_query(request)

    def health_check(self) -> HealthStatus:
        try:
            self._search("medium" if "serper_api_key" in self.credentials else "premium", "dr", 1)
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="key accepted")

    # -- requests -----------------------------------------------------------------------

    def _search(
        self, tier: str, query: str, page: int, request: CollectionRequest | None = None
    ) -> dict[str, Any]:
        provider = provider_for(self.platform, tier)
        country = (request.locale_country if request else "dk") or "dk"
        language = (request.language if request else "da") or "da"
        tbs = (
            _window_tbs(request)
            if request is not None and (request.options or {}).get("restrict_to_window")
            else None
        )
        if provider == "serper":
            payload = {"q": query, "gl": country, "hl": language, "num": RESULTS_PER_PAGE}
            payload["page"] = page
            if tbs:
                payload["tbs"] = tbs
            return self.providers.serper("search", payload)
        params = {
            "engine": "google",
            "q": query,
            "google_domain": f"google.{country}",
            "gl": country,
            "hl": language,
            "num": RESULTS_PER_PAGE,
            "start": (page - 1) * RESULTS_PER_PAGE,
            "output": "json",
        }
        if tbs:
            params["tbs"] = tbs
        return self.providers.serpapi(params)

    # -- collection ---------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        tier = request.tier if request.tier in PROVIDERS else None
        if tier is None:
            provider_for(self.platform, request.tier)  # raises: no free tier
        provider = PROVIDERS[tier]
        remaining = record_cap(self, request)
        budget = self.estimate_units(request)
        pages_per_query = self._pages_per_query(request)
        # Pages fetched by an earlier credential of this task (rotation): not paid twice.
        done: dict[str, int] = self.rate_limit_state.setdefault("pages_done", {})
        spent_before = int(self.rate_limit_state.get("units_before_rotation", 0))
        tally = SourceTally(self.platform)
        for query in queries(request):
            tally.tried += 1
            page_number = int(done.get(query, 0)) + 1
            seen: set[str] = set()
            while page_number <= pages_per_query and remaining > 0:
                if spent_before + self.units_spent >= budget:
                    yield self._stopped(query, budget, tally)
                    return
                try:
                    body = self._search(tier, query, page_number, request)
                except (ArenaAuthError, ArenaQuotaExceeded):
                    self.rate_limit_state["units_before_rotation"] = spent_before + self.units_spent
                    raise
                except SourceFailed as exc:
                    yield tally.fail(f"google_search {query!r}: {exc}")
                    break
                except ArenaError as exc:
                    yield tally.fail(f"google_search {query!r}: {exc}")
                    break
                items = body.get("organic" if provider == "serper" else "organic_results") or []
                if not isinstance(items, list):
                    items = []
                ranked = [
                    (item, page_number, index)
                    for index, item in enumerate(items, start=1)
                    if isinstance(item, dict)
                ]
                mapper = functools.partial(
                    self._map, query=query, provider=provider, request=request
                )
                page = map_page(ranked, mapper, seen=seen, limit=remaining)
                page.rejected += len(items) - len(ranked)
                remaining -= len(page.records)
                done[query] = page_number
                yield tally.ok(page)
                if len(items) < RESULTS_PER_PAGE:
                    break
                page_number += 1
        tally.finish()

    def _stopped(self, query: str, budget: int, tally: SourceTally) -> Page:
        message = (
            f"google_search {query!r}: the run's {budget} estimated requests are spent; "
            "collection stopped with what it had"
        )
        self.rate_limit_state["stopped"] = {"reason": "estimate_spent", "requests": budget}
        tally.pages_ok += 1
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[SkippedSource(f"google_search {query!r}"[:200], "stopped", message)],
        )

    def _map(
        self,
        entry: tuple[dict[str, Any], int, int],
        query: str,
        provider: str,
        request: CollectionRequest,
    ) -> NormalizedRecord:
        item, page_number, position = entry
        link = item.get("link")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise Reject("search result without a link")
        host = (urlsplit(link).hostname or "").lower()
        host = host[4:] if host.startswith("www.") else host
        published = result_date(item.get("date"))
        rank = (page_number - 1) * RESULTS_PER_PAGE + position
        meta = {
            "item": item,
            "_search_term": query,
            "search_snippet": item.get("snippet"),
            "provider": provider,
            "gl": request.locale_country or "dk",
            "hl": request.language or "da",
            "page": page_number,
            "position": position,
            "rank": rank,
            "scrape_status": "pending",
        }
        if item.get("date") and published is None:
            meta["search_date_raw"] = str(item["date"])[:100]
        # One record per (query, URL): the same page ranked for two queries is two
        # observations, so the id and the hash carry the query (the spec hashes the URL alone).
        identity = f"{query}\n{link}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="search_result",
            platform_id=hashlib.sha256(identity.encode()).hexdigest(),
            published_at=published,
            url=link,
            title=item.get("title") if isinstance(item.get("title"), str) else None,
            text_content=None,
            language=request.language or "da",
            author_display_name=host or None,
            raw_metadata=meta,
            hash_source=identity,
        )

    def close(self) -> None:
        self.providers.close()
