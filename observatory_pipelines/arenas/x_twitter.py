"""X/Twitter: medium tier through TwitterAPI.io, premium through the official X API v2.

Queries (both tiers): the design's term groups in X's search syntax, terms of a group
ANDed (space), groups ORed (``OR``), phrases and terms holding spaces in double quotes,
hashtags as ``#tag``, then ``lang:da``; the design's accounts (``custom_accounts`` and the
design's actors) as ``(from:a OR from:b)`` without a language filter. Clauses are packed
into queries of at most ``QUERY_MAX_CHARS`` characters.

Medium: ``GET {X_TWITTER_API_URL}/twitter/tweet/advanced_search`` with ``X-API-Key``,
``queryType=Latest`` and ``cursor`` paging (first cursor ""); the window goes into the query
as ``since:YYYY-MM-DD_HH:MM:SS_UTC until:…`` (exact to the second, not Copenhagen dates).
TwitterAPI.io can hand out new cursors forever over the same tweets: paging stops at a page
that adds no new id. Billing (docs.twitterapi.io/pricing): 15 provider credits per returned
tweet, at least 15 per successful request; one unit here = 15 provider credits. 402 means the
key's balance is spent (the pool rotates keys).

Premium: ``GET {X_TWITTER_V2_API_URL}/2/tweets/search/all`` (or ``/search/recent``, option
``archive``) with a bearer token, ``start_time``/``end_time`` (RFC 3339), ``max_results=100``,
``next_token`` paging, ``tweet.fields``/``expansions``/``user.fields`` for authors and
referenced posts. DISAGREE with the spec: X now sells pay-per-use reads (docs.x.com pricing):
$0.005 per post and $0.010 per user returned, each resource counted once a UTC day however
often it is returned; one unit here = one post read ($0.005), a user read = 2 units; posts in
``includes.tweets`` are returned resources and counted. The monthly cap is 2 M post reads on
X's usage page and 3 M on its pricing page (the spec says 3 M); the arena does not track it,
X answers the cap with 429 ``UsageCapExceeded``. 402 (credits depleted) rotates the token.
X's host is ``api.x.com`` in its current docs (``api.twitter.com`` still answers).

A 429 that persists through the shared client's retries stops the task cleanly with what it
has (``rate_limit_state["stopped"]``). The run never spends more than its estimate: before
each request the collector stops (``stopped.reason = "budget"``) once the units counted
reach ``estimate_units`` of the same request, so the reservation always covers the charge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SearchTerm,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.matching import term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Skip,
    SourceTally,
    failed_source,
    in_window,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.x_twitter_items import map_twitterapi_io, map_x_v2

DEFAULT_TWITTERAPI_IO_URL = "https://api.twitterapi.io"
DEFAULT_X_V2_URL = "https://api.x.com"
SEARCH_PATH = "/twitter/tweet/advanced_search"
V2_SEARCH_PATHS = {"all": "/2/tweets/search/all", "recent": "/2/tweets/search/recent"}
V2_USAGE_PATH = "/2/usage/tweets"  # app-only bearer; bills nothing
MY_INFO_PATH = "/oapi/my/info"  # TwitterAPI.io: the key's remaining credits
# X: 512 characters for recent search; full archive allows 1024. The smaller bounds both.
QUERY_MAX_CHARS = 512
V2_MAX_RESULTS = 100
TWEETS_PER_DAY_PER_SOURCE = 250  # the spec's estimate: min(sources x days x 250, cap)
USER_READ_UNITS = 2  # X: a user read costs twice a post read
RECENT_DAYS = 7
TWEET_FIELDS = (
    "id,text,author_id,created_at,public_metrics,lang,referenced_tweets,entities,"
    "conversation_id,in_reply_to_user_id,source,possibly_sensitive,context_annotations"
)
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "id,name,username,description,profile_image_url,verified"
HANDLE = re.compile(r"^(?:[A-Za-z0-9_]{1,15}|\d{1,20})$")


@dataclass(frozen=True)
class XQuery:
    text: str  # X search syntax, without the window
    danish: bool  # carries lang:da: non-Danish results are filtered out
    label: str  # how errors and skipped sources name it


def x_term(term: SearchTerm) -> str:
    text = " ".join(term.term.split()).replace('"', "")
    if term.term_type == "hashtag":
        return text if text.startswith("#") else f"#{text}"
    if term.term_type == "phrase" or " " in text:
        return f'"{text}"'
    return text


def _group_clause(group: list[SearchTerm]) -> str:
    parts = [x_term(t) for t in group]
    return parts[0] if len(parts) == 1 else "(" + " ".join(parts) + ")"


def _pack(clauses: list[str], suffix: str, joiner: str = " OR ") -> tuple[list[str], list[str]]:
    """Clauses ORed into as few queries as fit QUERY_MAX_CHARS; clauses too long on their own."""
    queries: list[str] = []
    too_long: list[str] = []
    current: list[str] = []

    def render(parts: list[str]) -> str:
        body = parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"
        return f"{body} {suffix}".strip()

    for clause in clauses:
        if len(render([clause])) > QUERY_MAX_CHARS:
            too_long.append(clause)
            continue
        if current and len(render([*current, clause])) > QUERY_MAX_CHARS:
            queries.append(render(current))
            current = []
        current.append(clause)
    if current:
        queries.append(render(current))
    return queries, too_long


def design_accounts(request: CollectionRequest) -> tuple[list[str], list[str]]:
    """Handles from ``custom_accounts`` and the actors, and the names that are no handle."""
    names = list(request.options.get("custom_accounts") or [])
    names += [a.platform_username or a.platform_user_id for a in request.actors]
    handles: list[str] = []
    invalid: list[str] = []
    for name in names:
        handle = str(name or "").strip().lstrip("@")
        if handle.startswith(("https://x.com/", "https://twitter.com/")):
            handle = handle.rstrip("/").rsplit("/", 1)[-1]
        if not handle:
            continue
        if not HANDLE.match(handle):
            invalid.append(str(name))
        elif handle.lower() not in {h.lower() for h in handles}:
            handles.append(handle)
    return handles, invalid


def build_queries(request: CollectionRequest) -> tuple[list[XQuery], list[str]]:
    """The queries a request sends, and error messages for what could not be sent."""
    problems: list[str] = []
    clauses = [_group_clause(g) for g in term_groups(request.terms)]
    lang = (request.language or "da").lower()
    term_queries, too_long = _pack(clauses, f"lang:{lang}")
    problems += [
        f"x_twitter term {c[:80]!r}: query longer than {QUERY_MAX_CHARS} characters, skipped"
        for c in too_long
    ]
    queries = [XQuery(q, lang == "da", f"x_twitter query {q[:80]!r}") for q in term_queries]
    handles, invalid = design_accounts(request)
    problems += [
        f"x_twitter account {name!r}: not an X handle or user id, skipped" for name in invalid
    ]
    account_queries, _ = _pack([f"from:{h}" for h in handles], "")
    queries += [XQuery(q, False, f"x_twitter accounts {q[:80]!r}") for q in account_queries]
    return queries, problems


def _window_days(request: CollectionRequest) -> int:
    seconds = (request.date_to - request.date_from).total_seconds()
    return max(1, -(-int(seconds) // 86_400))


def _provider_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d_%H:%M:%S_UTC")


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Stop(Exception):
    """Collection stops here with what it has (rate limited through the retries, budget)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


@register
class XTwitterCollector(Collector):
    platform = "x_twitter"
    arena = "social_media"
    supported_tiers = ("medium", "premium")
    needs_credentials = True
    bills_reads_daily = True  # premium (X API v2) only; medium bills every tweet returned
    max_records_per_run = 10_000
    host_setting = "X_TWITTER_API_URL (medium) / X_TWITTER_V2_API_URL (premium)"
    # Medium: TwitterAPI.io's X-API-Key; premium: an X app's bearer token. One pooled
    # credential may carry both.
    credential_fields = ("api_key|bearer_token",)
    # TwitterAPI.io: 1 request per 5 s on free credits, 3-20 QPS paid (original: 1/s);
    # X full-archive search: 1 request per second per app. 1 s serves both.
    min_request_interval = 1.0
    quota = (
        "medium (TwitterAPI.io): 1 unit per returned tweet, at least 1 per request, 100 units "
        "a credit; premium (X API v2 pay-per-use): 1 unit per post read, 2 per user read, "
        "3 units a credit; a run stops at its estimate"
    )
    option_specs = (
        ArenaOption(
            "custom_accounts", "list of strings", [],
            "X handles (or numeric user ids) searched with from:, besides the design's actors",
        ),
        ArenaOption(
            "query_type", "string", "Latest",
            "medium: TwitterAPI.io's queryType, Latest (every tweet) or Top (popular only)",
        ),
        ArenaOption(
            "archive", "string", "all",
            "premium: all (full-archive search) or recent (the last 7 days, cheaper limits)",
        ),
    )  # fmt: skip

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.medium_url = (settings.x_twitter_api_url() or DEFAULT_TWITTERAPI_IO_URL).rstrip("/")
        self.v2_url = (settings.x_twitter_v2_api_url() or DEFAULT_X_V2_URL).rstrip("/")
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)
        # X bills a post or user once a UTC day per developer app (the credential): what it
        # has been billed for today, by this run and (loaded by collection) earlier ones.
        self.billed_today: dict[str, set[str]] = {"post": set(), "user": set()}
        self.newly_billed: list[tuple[str, str]] = []  # (kind, id), saved by collection

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        if options.get("query_type", "Latest") not in ("Latest", "Top"):
            raise ArenaOptionError("arenas.x_twitter.query_type must be Latest or Top")
        if options.get("archive", "all") not in V2_SEARCH_PATHS:
            raise ArenaOptionError("arenas.x_twitter.archive must be all or recent")
        cls.check_list(options, "custom_accounts", "handles")

    # -- credits ---------------------------------------------------------------------

    def estimate_units(self, request: CollectionRequest) -> int:
        """min(sources x days x 250, cap) tweets (spec), priced as the tier bills them.

        Sources are the term groups and the accounts. Medium: one unit per tweet, plus one
        per query for the last (near-empty) page that still costs the minimum. Premium: a
        post read per tweet plus, at most, one user read per tweet.
        """
        if request.tier not in self.supported_tiers:
            return 0
        queries, _ = build_queries(request)
        handles, _ = design_accounts(request)
        sources = len(term_groups(request.terms)) + len(handles)
        if not sources:
            return 0
        tweets = min(sources * _window_days(request) * TWEETS_PER_DAY_PER_SOURCE,
                     record_cap(self, request))  # fmt: skip
        if request.tier == "premium":
            return tweets * (1 + USER_READ_UNITS) + len(queries)
        return tweets + len(queries)

    # -- requests --------------------------------------------------------------------

    def _spend(self, units: int) -> None:
        self.units_spent += units
        self.rate_limit_state["units_counted"] = (
            int(self.rate_limit_state.get("units_counted", 0)) + units
        )

    def _get(self, url: str, what: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
        try:
            response = self.http.get(url, params=params, headers=headers)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise _Stop("rate_limited", f"{what}: {exc}") from None
            raise
        status = response.status_code
        where = describe(url)
        detail = _error_text(response)
        if status == 402:
            raise ArenaQuotaExceeded(f"{what}: HTTP 402 from {where}: credits spent{detail}")
        if status in (401, 403):
            raise ArenaAuthError(f"{what}: HTTP {status} from {where}: credential refused{detail}")
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where}{detail}", "http_error")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "unknown type")
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not valid JSON ({kind})", "unparseable"
            ) from None
        if not isinstance(body, dict):
            raise SourceFailed(f"{what}: reply from {where} is not a JSON object", "unparseable")
        return body

    def _medium_page(self, query: str, cursor: str, query_type: str) -> dict[str, Any]:
        (key,) = require(self.credentials, "api_key", platform=self.platform)
        body = self._get(
            f"{self.medium_url}{SEARCH_PATH}",
            "x_twitter search",
            {"query": query, "queryType": query_type, "cursor": cursor},
            {"X-API-Key": key},
        )
        tweets = body.get("tweets")
        # Billed: 15 provider credits per returned tweet, at least 15 per request.
        self._spend(max(1, len(tweets) if isinstance(tweets, list) else 0))
        if body.get("status") == "error":
            raise SourceFailed(f"x_twitter search: {str(body.get('msg'))[:200]}", "error")
        if not isinstance(tweets, list):
            raise SourceFailed("x_twitter search: reply has no tweets list", "unparseable")
        return body

    def _v2_page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        (token,) = require(self.credentials, "bearer_token", platform=self.platform)
        body = self._get(
            f"{self.v2_url}{path}",
            "x_twitter v2 search",
            params,
            {"Authorization": f"Bearer {token}"},
        )
        data = body.get("data") or []
        includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
        posts = {
            str(t["id"])
            for t in [*data, *(includes.get("tweets") or [])]
            if isinstance(t, dict) and t.get("id")
        }
        users = {
            str(u["id"]) for u in includes.get("users") or [] if isinstance(u, dict) and u.get("id")
        }
        new_posts = posts - self.billed_today["post"]
        new_users = users - self.billed_today["user"]
        self.billed_today["post"] |= new_posts
        self.billed_today["user"] |= new_users
        self.newly_billed.extend(
            [("post", i) for i in new_posts] + [("user", i) for i in new_users]
        )
        self._spend(len(new_posts) + USER_READ_UNITS * len(new_users))
        if not isinstance(data, list):
            raise SourceFailed("x_twitter v2 search: data is not a list", "unparseable")
        return body

    # -- collection ------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier not in self.supported_tiers:
            raise ArenaError(
                f"x_twitter has no {request.tier} tier: medium (TwitterAPI.io) or premium "
                "(X API v2)"
            )
        queries, problems = build_queries(request)
        for problem in problems:
            yield failed_source(problem)
        if not queries:
            raise ArenaError(
                "x_twitter: nothing to search; give the design search terms or accounts "
                "(arenas.x_twitter.custom_accounts)"
            )
        # The pre-flight estimate (credits/estimate.py) knows no actors, only custom_accounts:
        # the budget is that same estimate, so the charge stays within the reservation.
        budget = self.estimate_units(replace(request, actors=[]))
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        for index, query in enumerate(queries):
            if remaining <= 0:
                break
            tally.tried += 1
            pages = (
                self._premium(query, request, seen, budget)
                if request.tier == "premium"
                else self._medium(query, request, seen, budget)
            )
            try:
                for page in pages:
                    page.records = page.records[:remaining]
                    remaining -= len(page.records)
                    yield tally.ok(page)
                    if remaining <= 0:
                        break
            except _Stop as stop:
                yield self._stopped(stop, queries[index:], tally)
                return
            except SourceFailed as exc:
                message = f"{query.label}: {exc}"
                tally.failed.append(message)  # skipped with its own reason (too_large, ...)
                yield failed_source(message, exc.reason)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                yield tally.fail(f"{query.label}: {exc}")
        tally.finish()

    def _stopped(self, stop: _Stop, left: list[XQuery], tally: SourceTally) -> Page:
        message = f"x_twitter: {stop}; collection stopped with what it had"
        self.rate_limit_state["stopped"] = {
            "reason": stop.reason,
            "detail": str(stop)[:300],
            "queries_not_finished": [q.text for q in left],
        }
        tally.pages_ok += 1  # what was collected stands: the task completes with it
        page = failed_source(
            message, "rate_limited" if stop.reason == "rate_limited" else "stopped"
        )
        return page

    def _check_budget(self, budget: int) -> None:
        if self.units_spent >= budget:
            raise _Stop(
                "budget",
                f"units counted ({self.units_spent}) reached the run's estimate ({budget})",
            )

    def _medium(
        self, query: XQuery, request: CollectionRequest, seen: set[str], budget: int
    ) -> Iterator[Page]:
        text = (
            f"{query.text} since:{_provider_time(request.date_from)} "
            f"until:{_provider_time(request.date_to)}"
        )
        query_type = request.options.get("query_type") or "Latest"
        cursor, used, ids = "", {""}, set()
        while True:
            self._check_budget(budget)
            body = self._medium_page(text, cursor, query_type)
            tweets = body["tweets"]
            before = len(ids)
            ids |= {str(t.get("id")) for t in tweets if isinstance(t, dict) and t.get("id")}
            mapper = partial(_windowed, map_twitterapi_io, request, danish_query=query.danish)
            page = map_page(tweets, mapper, seen=seen)
            yield page
            cursor = str(body.get("next_cursor") or "")
            # Fresh cursors over the same tweets: a page that adds no new id ends the query.
            if not tweets or len(ids) == before or not body.get("has_next_page"):
                return
            if not cursor or cursor in used:
                return
            used.add(cursor)

    def _premium(
        self, query: XQuery, request: CollectionRequest, seen: set[str], budget: int
    ) -> Iterator[Page]:
        archive = request.options.get("archive") or "all"
        start, end = self._v2_window(request, archive)
        params: dict[str, Any] = {
            "query": query.text,
            "start_time": _rfc3339(start),
            "end_time": _rfc3339(end),
            "max_results": V2_MAX_RESULTS,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        token: str | None = None
        while True:
            self._check_budget(budget)
            body = self._v2_page(
                V2_SEARCH_PATHS[archive], {**params, **({"next_token": token} if token else {})}
            )
            includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
            users = {str(u.get("id")): u for u in includes.get("users") or []
                     if isinstance(u, dict)}  # fmt: skip
            tweets = {str(t.get("id")): t for t in includes.get("tweets") or []
                      if isinstance(t, dict)}  # fmt: skip
            data = body.get("data") or []
            mapper = partial(
                _windowed, map_x_v2, request, users=users, tweets=tweets, danish_query=query.danish
            )
            page = map_page(data, mapper, seen=seen)
            if body.get("errors"):  # partial errors (a referenced post deleted, ...)
                self.rate_limit_state["partial_errors"] = int(
                    self.rate_limit_state.get("partial_errors", 0)
                ) + len(body["errors"])
            yield page
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            previous, token = token, meta.get("next_token")
            if not data or not token or token == previous:
                return

    def _v2_window(self, request: CollectionRequest, archive: str) -> tuple[datetime, datetime]:
        # X refuses an end_time less than 10 s before the request and, on recent search, a
        # start_time older than 7 days: clamp to what X accepts and say so.
        now = datetime.now(UTC)
        start, end = request.date_from, min(request.date_to, now - timedelta(seconds=30))
        if archive == "recent" and start < now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1):
            start = now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1)
            self.rate_limit_state["window_clamped"] = "recent search covers the last 7 days"
        return start, max(start, end)

    def health_check(self) -> HealthStatus:
        """Free calls only: TwitterAPI.io's account info (the credits left) and X's usage
        endpoint (the app's post reads this month against its cap) bill no resources."""
        try:
            if self.credentials.get("bearer_token"):
                token = self.credentials["bearer_token"]
                body = self._get(f"{self.v2_url}{V2_USAGE_PATH}", "x_twitter v2 usage", {},
                                 {"Authorization": f"Bearer {token}"})  # fmt: skip
                usage = body.get("data") if isinstance(body.get("data"), dict) else {}
                used, cap = usage.get("project_usage"), usage.get("project_cap")
                return HealthStatus(
                    ok=True, detail=f"bearer token accepted; post reads {used} of {cap}"
                )
            (key,) = require(self.credentials, "api_key", platform=self.platform)
            body = self._get(f"{self.medium_url}{MY_INFO_PATH}", "x_twitter account", {},
                             {"X-API-Key": key})  # fmt: skip
        except (ArenaError, _Stop) as exc:
            return HealthStatus(ok=False, detail=str(exc))
        left = body.get("recharge_credits")
        if isinstance(left, int | float) and left <= 0:
            return HealthStatus(ok=False, detail="api key accepted; no provider credits left")
        return HealthStatus(ok=True, detail=f"api key accepted; {left} provider credits left")


def _windowed(
    mapper: Callable[..., NormalizedRecord],
    request: CollectionRequest,
    item: Any,
    **kwargs: Any,
) -> NormalizedRecord:
    record = mapper(item, **kwargs)
    if not in_window(record.published_at, request):
        raise Skip("outside the window")
    return record


def _error_text(response: httpx.Response) -> str:
    """A short, secret-free reason from either provider's error body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [body.get(k) for k in ("msg", "message", "title", "detail") if body.get(k)]
    return (" (" + ": ".join(str(p)[:200] for p in parts[:2]) + ")") if parts else ""
