"""Bluesky: post search (one query per AND-group, cursor paging) and actors' author feeds.

Auth: ``createSession`` with ``handle``/``app_password`` → Bearer ``accessJwt``
(kept on the instance, never in rate_limit_state). Pages stop on an empty
``posts`` list or a missing cursor (spec). Each API page becomes one ``Page``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SearchTerm,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, check_status, json_body
from observatory_pipelines.arenas.matching import quoted_term, term_groups
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
from observatory_pipelines.arenas.text import declared_language, plausible_date

DEFAULT_BASE_URL = "https://bsky.social"
PAGE_SIZE = 100


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _query_part(term: SearchTerm) -> str:
    text = quoted_term(term)
    if term.term_type == "hashtag" and not text.startswith("#"):
        return "#" + text
    return text


def _images(embed: Any) -> list[str]:
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type", "")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _images(embed.get("media"))
    return [i.get("fullsize") for i in embed.get("images") or [] if isinstance(i, dict)]


@register
class BlueskyCollector(Collector):
    platform = "bluesky"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = True
    max_records_per_run = 300_000
    option_specs = (
        ArenaOption(
            "lang", "string", None, "language filter of the search; default: the design's language"
        ),
    )
    credential_fields = ("handle|identifier", "app_password|password")
    min_request_interval = 0.1
    host_setting = "BLUESKY_API_URL"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.bluesky_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state, min_interval=self.min_request_interval, retry_after_default=60
        )
        self._token: str | None = None

    def estimate_units(self, request: CollectionRequest) -> int:
        pages = -(-record_cap(self, request) // PAGE_SIZE)
        return (len(term_groups(request.terms)) + len(request.actors)) * max(1, min(pages, 10))

    def health_check(self) -> HealthStatus:
        try:
            response = self.http.get(f"{self.base_url}/xrpc/_health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=response.status_code < 400, detail=f"HTTP {response.status_code}")

    def _login(self) -> None:
        handle, password = require(
            self.credentials, *self.credential_fields, platform=self.platform
        )
        response = self.http.post(
            f"{self.base_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": handle, "password": password},
        )
        self.units_spent += 1
        check_status(response, "bluesky createSession")
        token = json_body(response, "bluesky createSession").get("accessJwt")
        if not token:
            raise ArenaAuthError("bluesky createSession: no accessJwt in the reply")
        self._token = token

    def _get(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if self._token is None:
            self._login()
        for attempt in range(2):
            response = self.http.get(
                f"{self.base_url}/xrpc/{method}",
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            self.units_spent += 1
            if response.status_code in (400, 401) and attempt == 0 and "xpired" in response.text:
                self._login()  # sessions last ~2 h; long runs outlive them
                continue
            break
        check_status(response, f"bluesky {method}")
        body = json_body(response, f"bluesky {method}")
        if not isinstance(body, dict):
            raise ArenaError(f"bluesky {method}: reply is not a JSON object")
        return body

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        lang = (request.options or {}).get("lang", request.language)
        sources: list[tuple[str, str, dict[str, Any]]] = []
        for group in term_groups(request.terms):
            query = " ".join(_query_part(t) for t in group)
            params = {"q": query, "limit": PAGE_SIZE, "sort": "latest"}
            params.update(since=_iso(request.date_from), until=_iso(request.date_to))
            if lang:
                params["lang"] = lang
            sources.append((f"query {query!r}", "app.bsky.feed.searchPosts", params))
        for actor in request.actors:
            who = actor.platform_user_id or actor.platform_username
            if who:
                params = {"actor": who, "limit": PAGE_SIZE}
                sources.append((f"actor {who}", "app.bsky.feed.getAuthorFeed", params))
        for label, method, params in sources:
            if remaining <= 0:
                break
            tally.tried += 1
            cursor: str | None = None
            while remaining > 0:
                try:
                    body = self._get(method, {**params, **({"cursor": cursor} if cursor else {})})
                except ArenaAuthError:
                    raise
                except ArenaError as exc:
                    yield tally.fail(f"bluesky {label}: {exc}")
                    break
                if "feed" in body:
                    items = [
                        i.get("post") if isinstance(i, dict) else i for i in body["feed"] or []
                    ]
                else:
                    items = body.get("posts") or []
                page = map_page(items, lambda p: self._map(p, request), seen=seen, limit=remaining)
                remaining -= len(page.records)
                yield tally.ok(page)
                previous, cursor = cursor, body.get("cursor")
                if not items or not cursor or cursor == previous:
                    break  # a repeated cursor would loop forever
                if self._older_than_window(items, request, method):
                    break
        tally.finish()

    def _older_than_window(self, items: list[Any], request: CollectionRequest, method: str) -> bool:
        """Author feeds run newest first and ignore dates: stop once past date_from."""
        if method != "app.bsky.feed.getAuthorFeed":
            return False
        last = items[-1] if isinstance(items[-1], dict) else {}
        created = plausible_date((last.get("record") or {}).get("createdAt"), {})
        return created is not None and created < request.date_from

    def _map(self, post: dict[str, Any], request: CollectionRequest) -> NormalizedRecord:
        uri = post.get("uri")
        if not uri:
            raise Reject("post without uri")
        record = post.get("record") or {}
        author = post.get("author") or {}
        meta: dict[str, Any] = {
            "cid": post.get("cid"),
            "handle": author.get("handle"),
            "embed": post.get("embed"),
            "facets": record.get("facets"),
            "labels": post.get("labels"),
            "reply": record.get("reply"),
            "quote_count": post.get("quoteCount"),
        }
        published = plausible_date(record.get("createdAt"), meta)
        if not in_window(published, request):
            raise Skip
        handle = author.get("handle") or author.get("did")
        langs = record.get("langs") or []
        text = record.get("text")  # plain text (facets carry links and mentions apart)
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="post",
            platform_id=uri,
            published_at=published,
            url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
            text_content=text,
            language=declared_language(langs[0], meta) if langs else None,
            author_platform_id=author.get("did"),
            author_display_name=author.get("displayName") or author.get("handle"),
            likes_count=post.get("likeCount"),
            shares_count=post.get("repostCount"),
            comments_count=post.get("replyCount"),
            raw_metadata=meta,
            media_urls=_images(post.get("embed")),
            hash_source=text,
        )
