"""Event Registry (NewsAPI.ai): Danish-language news articles by keyword or concept.

One ``getArticles`` query per term group (the group's terms as a keyword list with
``keywordOper: "and"``, not the original's literal "(a AND b)" string), one per concept
(the design's ``concepts`` and its actors' concept URIs), paged 100 articles a page
(``articlesPage`` from 1) until an empty page, ``page x 100 >= totalResults`` or the cap.

Tokens, the provider's price: 1 per search of the last 30 days, 5 per searched year for
archive searches (the ``req-tokens`` header, when sent, is what was charged). One token
is one unit and one credit. ``estimate_units`` = requests x tokens a request, requests =
max(queries, ceil(min(queries x days x 50, cap) / 100)) (the spec's estimate); the
collector never spends more tokens than it estimated.

Errors, per the provider's own client (the spec's DISAGREE: the original read 402 as budget
exhausted and 429 as a retryable rate limit): 429 = the key's tokens are used up, so the
pool rotates to the next key at once (no waiting), with the pages already paid for kept in
``rate_limit_state``; 503 = more than 5 concurrent requests (retried with backoff); 401 =
bad key (flagged); 400 = an invalid parameter (that query is skipped).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from observatory_pipelines import settings
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
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, error_detail, json_body
from observatory_pipelines.arenas.matching import term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import plausible_date

DEFAULT_BASE_URL = "https://newsapi.ai"
ARTICLES_PATH = "/api/v1/article/getArticles"
PAGE_SIZE = 100
ESTIMATED_ARTICLES_PER_QUERY_DAY = 50  # the original's estimate
RECENT_DAYS = 30  # searches reaching no further back cost 1 token
ARCHIVE_TOKENS_PER_YEAR = 5
DENMARK = "http://en.wikipedia.org/wiki/Denmark"
# ISO 639-3 (Event Registry) to the 639-1 codes records carry.
LANGUAGES = {
    "dan": "da", "eng": "en", "swe": "sv", "nob": "nb", "nno": "nn", "nor": "no",
    "deu": "de", "fra": "fr", "spa": "es", "ita": "it", "nld": "nl", "fin": "fi",
    "isl": "is", "pol": "pl", "por": "pt", "rus": "ru", "ukr": "uk", "ara": "ar",
    "tur": "tr", "kal": "kl", "fao": "fo",
}  # fmt: skip
_TO_ISO3 = {two: three for three, two in LANGUAGES.items()}


def window_days(request: CollectionRequest) -> int:
    return max(1, -(-int((request.date_to - request.date_from).total_seconds()) // 86_400))


def tokens_per_request(request: CollectionRequest, now: datetime | None = None) -> int:
    """1 token for a search within the last 30 days, else 5 per searched year (provider)."""
    now = now or datetime.now(UTC)
    if request.date_from >= now - timedelta(days=RECENT_DAYS):
        return 1
    years = -(-window_days(request) // 365)
    return ARCHIVE_TOKENS_PER_YEAR * max(1, years)


def build_queries(request: CollectionRequest) -> list[tuple[str, dict[str, Any]]]:
    """(label, query part of the body): one per term group, then one per concept URI."""
    out: list[tuple[str, dict[str, Any]]] = []
    for group in term_groups(request.terms):
        words = [" ".join(t.term.split()) for t in group]
        label = " AND ".join(words)
        out.append((label, {"keyword": words, "keywordOper": "and"}))
    concepts = list((request.options or {}).get("concepts") or [])
    concepts += [a.platform_user_id for a in request.actors if a.platform_user_id]
    for uri in dict.fromkeys(str(c).strip() for c in concepts if str(c).strip()):
        out.append((f"concept {uri}", {"conceptUri": uri}))
    return out


@register
class EventRegistryCollector(Collector):
    platform = "event_registry"
    arena = "news"
    supported_tiers = ("medium", "premium")
    needs_credentials = True
    max_records_per_run = 5_000
    tier_caps = {"medium": 5_000, "premium": 50_000}
    host_setting = "EVENT_REGISTRY_API_URL"
    credential_fields = ("api_key|apiKey",)
    min_request_interval = 0.2
    quota = (
        "tokens per key (1 a search of the last 30 days, 5 a searched archive year; "
        "1 token = 1 credit); at most 5 concurrent requests; 429 = tokens used up"
    )
    option_specs = (
        ArenaOption(
            "concepts",
            "list of strings",
            [],
            "concept URIs (Wikipedia URLs, e.g. http://en.wikipedia.org/wiki/Mette_Frederiksen) "
            "searched besides the terms; actors' platform ids are concepts too",
        ),
        ArenaOption(
            "danish_sources_only",
            "bool",
            True,
            "only outlets located in Denmark (sourceLocationUri), besides lang=dan",
        ),
        ArenaOption(
            "skip_duplicates",
            "bool",
            False,
            "let Event Registry drop articles it marks as duplicates (default: keep, flagged)",
        ),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.event_registry_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            rate_reset_wait=_tokens_used_up,
        )

    # -- cost ---------------------------------------------------------------------------

    def _requests(self, request: CollectionRequest) -> int:
        count = len(build_queries(request))
        if not count:
            return 0
        articles = min(
            count * window_days(request) * ESTIMATED_ARTICLES_PER_QUERY_DAY,
            record_cap(self, request),
        )
        return max(count, -(-articles // PAGE_SIZE))

    def estimate_units(self, request: CollectionRequest) -> int:
        if request.tier not in self.supported_tiers:
            return 0
        return self._requests(request) * tokens_per_request(request)

    def health_check(self) -> HealthStatus:
        now = datetime.now(UTC)
        probe = CollectionRequest(date_from=now - timedelta(days=1), date_to=now, tier="medium")
        try:
            self._articles({"keyword": ["Danmark"]}, 1, probe, count=1)
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="key accepted")

    # -- requests -----------------------------------------------------------------------

    def _body(
        self, query: dict[str, Any], page: int, request: CollectionRequest, count: int
    ) -> dict[str, Any]:
        options = request.options or {}
        last_day = request.date_to - timedelta(seconds=1)  # dateEnd is inclusive
        body: dict[str, Any] = {
            "action": "getArticles",
            **query,
            "lang": _TO_ISO3.get(request.language or "da", "dan"),
            "dataType": ["news", "blog"],
            "dateStart": request.date_from.astimezone(UTC).date().isoformat(),
            "dateEnd": last_day.astimezone(UTC).date().isoformat(),
            "resultType": "articles",
            "articlesPage": page,
            "articlesCount": count,
            "articlesSortBy": "date",
            "articlesSortByAsc": False,
            "isDuplicateFilter": "skipDuplicates" if options.get("skip_duplicates") else "keepAll",
            "includeArticleBody": True,
            "includeArticleConcepts": True,
            "includeArticleCategories": True,
            "includeArticleSentiment": True,
            "includeArticleEventUri": True,
            "includeArticleDuplicateList": True,
            "includeArticleShares": True,
        }
        if options.get("danish_sources_only", True):
            body["sourceLocationUri"] = DENMARK
        return body

    def _articles(
        self,
        query: dict[str, Any],
        page: int,
        request: CollectionRequest,
        count: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        (key,) = require(self.credentials, *self.credential_fields, platform=self.platform)
        url = f"{self.base_url}{ARTICLES_PATH}"
        try:
            # The key goes in the JSON body (the provider's own client does), never a URL.
            response = self.http.post(
                url, json={**self._body(query, page, request, count), "apiKey": key}
            )
        except SourceFailed as exc:
            if exc.reason == "rate_limited":  # 429 even after waiting: the tokens are gone
                raise ArenaQuotaExceeded(f"event_registry: {exc}") from None
            raise
        if response.status_code >= 400:
            self._raise(response)
        self._count(response, request)
        body = json_body(response, "event_registry")
        if not isinstance(body, dict):
            raise ArenaError(f"event_registry: reply from {describe(url)} is not a JSON object")
        if body.get("error"):
            message = str(body["error"])[:200]
            if "token" in message.lower():
                raise ArenaQuotaExceeded(f"event_registry: {message}")
            raise ArenaError(f"event_registry: {message}")
        return body

    def _count(self, response: httpx.Response, request: CollectionRequest) -> None:
        charged = response.headers.get("req-tokens")
        try:
            tokens = int(float(charged)) if charged is not None else None
        except ValueError:
            tokens = None
        if tokens is None:
            tokens = tokens_per_request(request)
        self.units_spent += tokens
        self.rate_limit_state["tokens_spent"] = (
            int(self.rate_limit_state.get("tokens_spent", 0)) + tokens
        )
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None:
            self.rate_limit_state["tokens_remaining"] = remaining

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        detail = error_detail(response)
        message = (
            f"event_registry: HTTP {status} from {describe(str(response.request.url))}{detail}"
        )
        if "html" in response.headers.get("content-type", "") and not detail:
            message += " (an HTML page where JSON was expected)"
        if status == 429:
            raise ArenaQuotaExceeded(message)
        if status in (401, 403):
            raise ArenaAuthError(message)
        raise ArenaError(message)

    # -- collection ---------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier not in self.supported_tiers:
            raise ArenaError(
                f"event_registry has no {request.tier} tier (medium or premium: NewsAPI.ai tokens)"
            )
        remaining = record_cap(self, request)
        budget = self.estimate_units(request)
        per_request = tokens_per_request(request)
        done: dict[str, int] = self.rate_limit_state.setdefault("pages_done", {})
        spent_before = int(self.rate_limit_state.get("units_before_rotation", 0))
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        for label, query in build_queries(request):
            tally.tried += 1
            page_number = int(done.get(label, 0)) + 1
            while remaining > 0:
                if spent_before + self.units_spent + per_request > budget:
                    yield self._stopped(label, budget, tally)
                    tally.finish()
                    return
                try:
                    body = self._articles(query, page_number, request)
                    articles = body.get("articles")
                    if not isinstance(articles, dict):
                        raise ArenaError("event_registry: reply has no 'articles' object")
                except (ArenaAuthError, ArenaQuotaExceeded):
                    self.rate_limit_state["units_before_rotation"] = spent_before + self.units_spent
                    raise
                except ArenaError as exc:
                    yield tally.fail(f"event_registry {label!r}: {exc}")
                    break
                results = articles.get("results") or []
                if not isinstance(results, list):
                    results = []
                mapper = functools.partial(self._map, request=request)
                page = map_page(results, mapper, seen=seen, limit=remaining)
                remaining -= len(page.records)
                done[label] = page_number
                yield tally.ok(page)
                total = _int(articles.get("totalResults"))
                pages = _int(articles.get("pages"))
                if not results or (total is not None and page_number * PAGE_SIZE >= total):
                    break
                if pages is not None and page_number >= pages:
                    break
                page_number += 1
        tally.finish()

    def _stopped(self, label: str, budget: int, tally: SourceTally) -> Page:
        message = (
            f"event_registry {label!r}: the run's {budget} estimated tokens are spent; "
            "collection stopped with what it had"
        )
        self.rate_limit_state["stopped"] = {"reason": "estimate_spent", "tokens": budget}
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[SkippedSource(f"event_registry {label!r}"[:200], "stopped", message)],
        )

    def _map(self, item: Any, request: CollectionRequest) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("article is not an object")
        lang_raw = item.get("lang")
        language = LANGUAGES.get(str(lang_raw), None) if lang_raw else None
        wanted = request.language or "da"
        if language is not None and language != wanted:
            # lang=dan was asked for; anything else (a Danish outlet's English page) is dropped.
            self.rate_limit_state["other_language_dropped"] = (
                int(self.rate_limit_state.get("other_language_dropped", 0)) + 1
            )
            raise Skip
        uri = item.get("uri")
        uri = str(uri) if isinstance(uri, str | int) and str(uri).strip() else None
        url = item.get("url") if isinstance(item.get("url"), str) else None
        if uri is None and url is None:
            raise Reject("article without uri and url")
        meta: dict[str, Any] = {
            key: item.get(key)
            for key in (
                "eventUri", "sentiment", "wgt", "relevance", "isDuplicate", "duplicateList",
                "categories", "concepts", "shares", "source", "authors", "image", "dataType",
            )
            if item.get(key) is not None
        }  # fmt: skip
        meta["lang_raw"] = lang_raw
        published = None
        for field in ("dateTimePub", "dateTime", "date"):
            if item.get(field):
                published = plausible_date(item[field], meta)
                if published is not None:
                    break
        authors = item.get("authors") if isinstance(item.get("authors"), list) else []
        author = authors[0] if authors and isinstance(authors[0], dict) else {}
        shares = item.get("shares")
        shares_count = (
            sum(v for v in shares.values() if isinstance(v, int))
            if isinstance(shares, dict)
            else None
        )
        image = item.get("image") if isinstance(item.get("image"), str) else None
        wgt = item.get("wgt")
        if isinstance(wgt, int | float):
            meta["engagement_score"] = wgt
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="article",
            platform_id=uri,
            published_at=published,
            url=url,
            title=item.get("title") if isinstance(item.get("title"), str) else None,
            text_content=item.get("body") if isinstance(item.get("body"), str) else None,
            language=language or wanted,
            author_platform_id=author.get("uri") if isinstance(author.get("uri"), str) else None,
            author_display_name=author.get("name") if isinstance(author.get("name"), str) else None,
            shares_count=shares_count,
            raw_metadata=meta,
            media_urls=[image] if image else [],
            # Spec: the article's URL is what makes it unique (else its uri).
            hash_source=url or uri,
        )

    def close(self) -> None:
        self.http.close()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _tokens_used_up(response: httpx.Response) -> float | None:
    """Event Registry's 429 means the key's tokens are used up (its own client says so):
    waiting does not bring them back, so the pool rotates to the next key at once."""
    raise ArenaQuotaExceeded(f"event_registry: HTTP 429 (tokens used up){error_detail(response)}")
