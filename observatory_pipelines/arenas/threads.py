"""Threads (Meta): keyword search and account posts through the official Threads API.

The spec's original only read ``/{user-id}/threads`` for a configured account list (empty,
so it always returned []). Meta's docs (the spec's DISAGREE) add ``GET /keyword_search``
(``q``, ``search_type`` TOP|RECENT, ``search_mode`` KEYWORD|TAG, ``since``/``until`` as
Unix seconds, ``limit`` <= 100), which this collector uses for the design's terms: one query
per term group (its words joined by spaces), posts kept only when the group's terms all
occur in the text (the matching rules of every arena). ``custom_accounts`` (and actors'
platform ids) are Threads user ids read with ``/{user-id}/threads``; Meta serves that for
the token owner only unless the app has the profile-discovery permission, so an account the
token may not read is skipped with its name in the task's errors and the rest goes on.

Paging follows ``paging.cursors.after`` until a page is empty or carries no cursor. The
token (a long-lived user token from the pool, refreshed by the operator) travels in the
``Authorization`` header, never in a URL. Rate-limit shape: Graph-style errors (HTTP 400/403
with ``error.code`` 4, 17, 32, 613 or 80001-80009 = a usage limit, 2,200 keyword queries a
user per rolling 24 h) end the token's turn (``ArenaQuotaExceeded``: the pool rotates); code
190 or 102 = the token is invalid or expired (flagged); a plain 429 waits for Retry-After in
the shared client. Threads gives no language: records carry none (spec), and nothing can be
filtered by language. Free tier: 0 credits; every request is one API unit, counted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
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
    SkippedSource,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, json_body
from observatory_pipelines.arenas.matching import matches_groups, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    in_window,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import plausible_date

DEFAULT_BASE_URL = "https://graph.threads.net/v1.0"
PAGE_SIZE = 100
POST_FIELDS = (
    "id,text,timestamp,permalink,username,media_type,media_url,shortcode,is_quote_post,"
    "is_reply,has_replies,reply_to_id"
)
# Graph error codes that mean "a usage limit is reached" (Meta's error reference).
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80001, 80010)}
AUTH_CODES = {102, 190}
UNKNOWN_OBJECT_CODES = {100, 803}


def _unix(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


@register
class ThreadsCollector(Collector):
    platform = "threads"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = True
    credential_fields = ("access_token",)
    max_records_per_run = 10_000
    host_setting = "THREADS_API_URL"
    # 2,200 keyword queries a day is ~1 every 40 s over a day; the original assumed
    # 250 calls an hour a token (one each 14.4 s). Spacing keeps a run inside both.
    min_request_interval = 1.0
    quota = (
        "keyword_search: 2,200 queries per user per rolling 24 h; ~250 calls/hour/token "
        "(original's assumption); a usage-limit error rotates to the next token"
    )
    option_specs = (
        ArenaOption("search_type", "string", "RECENT", "TOP | RECENT (keyword_search)"),
        ArenaOption("search_mode", "string", "KEYWORD", "KEYWORD | TAG (keyword_search)"),
        ArenaOption(
            "custom_accounts",
            "list of strings",
            [],
            "Threads user ids whose posts are read (/{user-id}/threads; Meta serves other "
            "users' posts only with the profile-discovery permission)",
        ),
        ArenaOption("max_pages", "int", 10, "pages of up to 100 posts per query or account"),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.threads_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)

    # -- options and estimate -----------------------------------------------------------

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        for name, allowed in (
            ("search_type", {"TOP", "RECENT"}),
            ("search_mode", {"KEYWORD", "TAG"}),
        ):
            value = options.get(name)
            if value is not None and str(value).upper() not in allowed:
                raise ArenaOptionError(
                    f"arenas.threads.{name} must be one of {', '.join(sorted(allowed))}, got {value!r}"
                )
        accounts = options.get("custom_accounts", [])
        if not isinstance(accounts, list):
            raise ArenaOptionError("arenas.threads.custom_accounts must be a list of user ids")
        cls.check_counts(options, "max_pages")

    @staticmethod
    def _accounts(request: CollectionRequest) -> list[str]:
        names = [str(a).strip() for a in (request.options or {}).get("custom_accounts") or []]
        names += [a.platform_user_id for a in request.actors if a.platform_user_id]
        return list(dict.fromkeys(n for n in names if n))

    def _max_pages(self, request: CollectionRequest) -> int:
        return int((request.options or {}).get("max_pages") or self.option_default("max_pages"))

    def estimate_units(self, request: CollectionRequest) -> int:
        """Requests at most: (term groups + accounts) x max_pages (each request one unit)."""
        sources = len(term_groups(request.terms)) + len(self._accounts(request))
        return sources * self._max_pages(request)

    def health_check(self) -> HealthStatus:
        try:
            body = self._get("/me", {"fields": "id,username"})
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail=f"token accepted (user id {body.get('id')})")

    # -- requests -----------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        (token,) = require(self.credentials, *self.credential_fields, platform=self.platform)
        url = f"{self.base_url}{path}"
        response = self.http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        self.units_spent += 1
        # Meta reports how much of the app's call budget is used (percentages, JSON).
        usage = response.headers.get("x-app-usage")
        if usage:
            self.rate_limit_state["app_usage"] = usage[:200]
        if response.status_code >= 400:
            self._raise(response)
        body = json_body(response, "threads")
        if not isinstance(body, dict):
            raise ArenaError(f"threads: reply from {describe(url)} is not a JSON object")
        return body

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        where = describe(str(response.request.url))
        error: dict[str, Any] = {}
        try:
            parsed = response.json()
            if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
                error = parsed["error"]
        except ValueError:
            pass
        code = error.get("code")
        detail = f" ({str(error.get('message'))[:200]}, code {code})" if error else ""
        message = f"threads: HTTP {status} from {where}{detail}"
        if not error and "html" in response.headers.get("content-type", ""):
            message += " (an HTML page where JSON was expected)"
        if code in RATE_LIMIT_CODES:
            self.rate_limit_state["usage_limit"] = {"code": code, "status": status}
            raise ArenaQuotaExceeded(message + ": the token's usage limit is reached")
        if code in AUTH_CODES or (status in (401, 403) and code not in UNKNOWN_OBJECT_CODES):
            raise ArenaAuthError(message)
        raise ArenaError(message)

    def _pages(
        self, path: str, params: dict[str, Any], request: CollectionRequest
    ) -> Iterator[list[Any]]:
        after: str | None = None
        for _ in range(self._max_pages(request)):
            query = {**params, "limit": PAGE_SIZE}
            if after:
                query["after"] = after
            body = self._get(path, query)
            data = body.get("data")
            if not isinstance(data, list):
                raise ArenaError(f"threads: reply from {path} has no 'data' list")
            yield data
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after") if isinstance(cursors.get("after"), str) else None
            if not data or not after:
                return

    # -- collection ---------------------------------------------------------------------

    def _sources(self, request: CollectionRequest) -> list[tuple[str, str, dict[str, Any], list]]:
        options = request.options or {}
        window = {"since": _unix(request.date_from), "until": _unix(request.date_to)}
        out: list[tuple[str, str, dict[str, Any], list]] = []
        for group in term_groups(request.terms):
            words = [" ".join(t.term.split()).lstrip("#") for t in group]
            params = {
                "q": " ".join(words),
                "search_type": str(options.get("search_type") or "RECENT").upper(),
                "search_mode": str(options.get("search_mode") or "KEYWORD").upper(),
                "fields": POST_FIELDS,
                **window,
            }
            out.append((f"threads {' AND '.join(words)!r}", "/keyword_search", params, group))
        for account in self._accounts(request):
            params = {"fields": POST_FIELDS, **window}
            out.append((f"threads account {account}", f"/{account}/threads", params, []))
        return out

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier not in self.supported_tiers:
            raise ArenaError(f"threads has no {request.tier} tier (free: the official API)")
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        # Sources finished before the pool rotated to another token are not asked again.
        done: list[str] = self.rate_limit_state.setdefault("sources_done", [])
        for label, path, params, group in self._sources(request):
            if remaining <= 0:
                break
            if label in done:
                continue
            tally.tried += 1
            mapper = functools.partial(self._map, request=request, group=group)
            try:
                for data in self._pages(path, params, request):
                    page = map_page(data, mapper, seen=seen, limit=remaining)
                    remaining -= len(page.records)
                    yield tally.ok(page)
                    if remaining <= 0:
                        break
                done.append(label)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                page = tally.fail(f"{label}: {exc}")
                page.skipped = [SkippedSource(label[:200], "error", str(exc)[:500])]
                yield page
        tally.finish()

    def _map(
        self, item: Any, request: CollectionRequest, group: list[SearchTerm]
    ) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("post is not an object")
        post_id = item.get("id")
        if not isinstance(post_id, str | int) or not str(post_id).strip():
            raise Reject("post without an id")
        meta: dict[str, Any] = {
            key: item.get(key)
            for key in (
                "media_type", "is_quote_post", "is_reply", "has_replies", "reply_to_id",
                "shortcode", "media_url",
            )
            if item.get(key) is not None
        }  # fmt: skip
        # No usable timestamp: ingest dates it at collection (docs/collection.md), noted.
        published = plausible_date(item.get("timestamp"), meta)
        if not in_window(published, request):
            raise Skip
        text = item.get("text") if isinstance(item.get("text"), str) else None
        # Meta's keyword search matches more loosely than an AND group: keep what matches.
        if group and not matches_groups(text, group):
            raise Skip
        username = item.get("username") if isinstance(item.get("username"), str) else None
        media = item.get("media_url") if isinstance(item.get("media_url"), str) else None
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="reply" if item.get("is_reply") else "post",
            platform_id=str(post_id),
            published_at=published,
            url=item.get("permalink") if isinstance(item.get("permalink"), str) else None,
            text_content=text,
            language=None,  # Threads gives none (spec)
            # Threads has no stable numeric author id: the username is both (spec).
            author_platform_id=username,
            author_display_name=username,
            raw_metadata=meta,
            media_urls=[media] if media else [],
        )

    def close(self) -> None:
        self.http.close()
