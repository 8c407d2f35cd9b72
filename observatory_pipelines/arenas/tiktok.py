"""TikTok Research API: Danish videos by keyword (one query per term group) or by account.

Auth: the pooled ``client_key`` / ``client_secret`` buy a client-credentials token from
``/v2/oauth/token/`` (cached, renewed 10 minutes before it expires). Videos: ``POST
/v2/research/video/query/?fields=...`` (the fields go in the URL, TikTok's docs), body
``{"query": {"and": [region_code IN [DK], keyword EQ term, ...]}, "start_date", "end_date",
"max_count": 100, "cursor", "search_id"}``. ``start_date``/``end_date`` are inclusive
YYYYMMDD days at most 30 days apart, so a longer window is split into 30-day slices; each
slice pages with ``cursor`` and the ``search_id`` of its first reply until ``has_more`` is
false or the record cap is reached.

Errors arrive as ``{"error": {"code", "message", "log_id"}}`` (``code == "ok"`` on
success): access_token_invalid / scope_not_authorized (401) flag the credential;
rate_limit_exceeded (429) is TikTok's daily quota, so the pool rotates to the next
credential at once (waiting does not bring it back before 00:00 UTC); invalid_params (400)
and an expired search_id skip that query, named in the task's errors; 5xx are retried by
the shared client. The daily quota (1,000 research requests a day, reset 00:00 UTC) is
counted per run: at the limit the run stops cleanly with what it has and says so in
``rate_limit_state["stopped"]``. Free for approved institutions: 0 credits, every request
(token included) counted as a unit. With ``include_comments``, each video that has comments
(``comment_count`` not 0) is followed by ``/v2/research/video/comment/list/`` paged by
``cursor``; comments have no author and no URL (the API names neither). Followers and
following are not collected.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
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
    failed_source,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import plausible_date, to_int

DEFAULT_BASE_URL = "https://open.tiktokapis.com"
TOKEN_PATH = "/v2/oauth/token/"
QUERY_PATH = "/v2/research/video/query/"
COMMENTS_PATH = "/v2/research/video/comment/list/"
COMMENT_FIELDS = "id,video_id,text,like_count,reply_count,parent_comment_id,create_time"
VIDEO_FIELDS = (
    "id,video_description,create_time,region_code,share_count,view_count,like_count,"
    "comment_count,music_id,hashtag_names,username,effect_ids,playlist_id,voice_to_text"
)
PAGE_SIZE = 100  # max_count: TikTok's largest page
MAX_WINDOW_DAYS = 30  # start_date..end_date, both inclusive, at most 30 days apart
DAILY_REQUESTS = 1_000  # research requests a day per client, reset 00:00 UTC (TikTok's docs)
TOKEN_RENEW_BEFORE = 600  # seconds before expiry a cached token is renewed
AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "invalid_client"}
QUOTA_CODES = {"rate_limit_exceeded", "daily_quota_limit_exceeded"}
REGION_LANGUAGE = {"DK": "da", "SE": "sv", "NO": "no", "DE": "de", "GB": "en", "US": "en"}


def day_slices(request: CollectionRequest) -> list[tuple[date, date]]:
    """Inclusive (start, end) days covering the window, each at most 30 days long."""
    first = request.date_from.astimezone(UTC).date()
    last = (request.date_to - timedelta(seconds=1)).astimezone(UTC).date()
    slices = []
    while first <= last:
        end = min(last, first + timedelta(days=MAX_WINDOW_DAYS - 1))
        slices.append((first, end))
        first = end + timedelta(days=1)
    return slices


def region_codes(request: CollectionRequest) -> list[str]:
    codes = (request.options or {}).get("region_codes") or ["DK"]
    return [str(c).strip().upper() for c in codes if str(c).strip()]


def build_queries(request: CollectionRequest) -> list[tuple[str, list[dict[str, Any]]]]:
    """(label, the ``and`` conditions besides region): one per term group, one per account."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for group in term_groups(request.terms):
        words = [" ".join(t.term.lstrip("#").split()) for t in group]
        conditions = [
            {"operation": "EQ", "field_name": "keyword", "field_values": [w]} for w in words
        ]
        out.append((" AND ".join(words), conditions))
    for actor in request.actors:
        name = (actor.platform_username or actor.platform_user_id or "").strip().lstrip("@")
        if name:
            out.append(
                (
                    f"@{name}",
                    [{"operation": "EQ", "field_name": "username", "field_values": [name]}],
                )
            )
    return out


def daily_limit(request: CollectionRequest) -> int:
    wanted = to_int((request.options or {}).get("daily_requests"))
    return DAILY_REQUESTS if wanted is None else max(0, min(wanted, DAILY_REQUESTS))


@register
class TiktokCollector(Collector):
    platform = "tiktok"
    arena = "social_media"
    supported_tiers = ("free", "medium", "premium")
    needs_credentials = True
    max_records_per_run = 10_000
    host_setting = "TIKTOK_API_URL"
    credential_fields = ("client_key", "client_secret")
    min_request_interval = 1.0  # the original's throttle: 1 request a second
    quota = (
        f"{DAILY_REQUESTS:,} research requests a day per client (up to 100,000 videos), "
        "reset 00:00 UTC; free for approved institutions (0 credits, requests counted)"
    )
    option_specs = (
        ArenaOption(
            "region_codes",
            "list of strings",
            ["DK"],
            "registration countries of the accounts searched (region_code IN ...)",
        ),
        ArenaOption(
            "include_comments",
            "bool",
            False,
            "also collect each video's comments (video/comment/list; no author, no URL)",
        ),
        ArenaOption(
            "daily_requests",
            "int",
            DAILY_REQUESTS,
            f"research requests this run may spend (at most TikTok's {DAILY_REQUESTS:,} a day); "
            "the run stops cleanly at it",
        ),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.tiktok_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            rate_reset_wait=_quota_spent,
        )
        self._token: str | None = None
        self._token_expires = 0.0

    # -- cost ---------------------------------------------------------------------------

    def estimate_units(self, request: CollectionRequest) -> int:
        """1 token request + research requests: every query-slice asks at least once, and
        the records beyond that need ceil(cap / 100) more pages; never above the daily limit."""
        starts = len(build_queries(request)) * len(day_slices(request))
        if not starts:
            return 0
        pages = starts + -(-record_cap(self, request) // PAGE_SIZE)
        if (request.options or {}).get("include_comments"):
            pages += record_cap(self, request)  # at most one comment request per record
        return 1 + min(pages, daily_limit(request))

    def health_check(self) -> HealthStatus:
        try:
            self._authorize()
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="client token granted")

    # -- requests -----------------------------------------------------------------------

    def _answered(self) -> int:
        return int(self.rate_limit_state.get("requests", 0))  # the shared client's count

    def _count(self, kind: str, since: int) -> None:
        """Every request TikTok answered is a unit, retries of a 5xx included: its quota
        counts what it received. A request that never reached it is not counted."""
        answered = self._answered() - since
        self.units_spent += answered
        self.rate_limit_state[kind] = int(self.rate_limit_state.get(kind, 0)) + answered

    def _authorize(self) -> str:
        if self._token and time.monotonic() < self._token_expires - TOKEN_RENEW_BEFORE:
            return self._token
        key, secret = require(self.credentials, *self.credential_fields, platform=self.platform)
        url = f"{self.base_url}{TOKEN_PATH}"
        since = self._answered()
        try:
            response = self.http.post(
                url,
                data={
                    "client_key": key,
                    "client_secret": secret,
                    "grant_type": "client_credentials",
                },
                headers={"Cache-Control": "no-cache"},
            )
        finally:
            self._count("token_requests", since)
        body = json_body(response, "tiktok oauth token") if response.status_code < 500 else {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code >= 400 or not token:
            # TikTok's token errors: {"error": "invalid_client", "error_description": ...}
            reason = body.get("error") if isinstance(body, dict) else None
            raise ArenaAuthError(
                f"tiktok: client token refused by {describe(url)} "
                f"(HTTP {response.status_code}{', ' + str(reason)[:100] if reason else ''})"
            )
        self._token = str(token)
        self._token_expires = time.monotonic() + float(to_int(body.get("expires_in")) or 7200)
        return self._token

    def _query(
        self, conditions: list[dict[str, Any]], days: tuple[date, date], cursor: int,
        search_id: str | None, request: CollectionRequest,
    ) -> dict[str, Any]:  # fmt: skip
        token = self._authorize()
        url = f"{self.base_url}{QUERY_PATH}"
        body: dict[str, Any] = {
            "query": {
                "and": [
                    {"operation": "IN", "field_name": "region_code",
                     "field_values": region_codes(request)},
                    *conditions,
                ]
            },
            "start_date": days[0].strftime("%Y%m%d"),
            "end_date": days[1].strftime("%Y%m%d"),
            "max_count": PAGE_SIZE,
            "cursor": cursor,
        }  # fmt: skip
        if search_id:
            body["search_id"] = search_id  # resent unchanged on every later page
        return self._research(url, VIDEO_FIELDS, body, token)

    def _comment_page(self, video_id: str, cursor: int) -> dict[str, Any]:
        token = self._authorize()
        url = f"{self.base_url}{COMMENTS_PATH}"
        body = {"video_id": int(video_id), "max_count": PAGE_SIZE, "cursor": cursor}
        return self._research(url, COMMENT_FIELDS, body, token)

    def _research(self, url: str, fields: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        since = self._answered()
        try:
            response = self.http.post(
                url,
                params={"fields": fields},
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        finally:
            # A request TikTok answered counts against its quota whatever it said.
            self._count("research_requests", since)
        return self._check(response, url)

    def _check(self, response: httpx.Response, url: str) -> dict[str, Any]:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        code = str(error.get("code")) if isinstance(error, dict) else None
        if code in AUTH_CODES or status == 401:
            self._token = None
            raise ArenaAuthError(
                f"tiktok: HTTP {status} from {describe(url)}{error_detail(response)}"
            )
        if code in QUOTA_CODES or status == 429:
            raise ArenaQuotaExceeded(f"tiktok: daily quota spent{error_detail(response)}")
        if body is None:
            kind = response.headers.get("content-type", "unknown type")
            page = " (an HTML page where JSON was expected)" if "html" in kind else ""
            raise ArenaError(
                f"tiktok: HTTP {status} from {describe(url)} is not valid JSON ({kind}){page}"
            )
        if status >= 400 or (code not in (None, "ok")):
            raise SourceFailed(
                f"tiktok: HTTP {status} from {describe(url)}{error_detail(response)}", "http_error"
            )
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise ArenaError(f"tiktok: reply from {describe(url)} has no 'data' object")
        return body["data"]

    # -- collection ---------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        remaining = record_cap(self, request)
        limit = daily_limit(request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        mapper = functools.partial(self._map, request=request)
        comments = bool((request.options or {}).get("include_comments"))
        for label, conditions in build_queries(request):
            tally.tried += 1
            for days in day_slices(request):
                cursor, search_id = 0, None
                source = f"tiktok {label!r} {days[0]:%Y%m%d}-{days[1]:%Y%m%d}"
                while remaining > 0:
                    if self._quota_spent(limit):
                        yield self._stopped(source, limit, tally)
                        tally.finish()
                        return
                    try:
                        data = self._query(conditions, days, cursor, search_id, request)
                    except (ArenaAuthError, ArenaQuotaExceeded):
                        raise
                    except ArenaError as exc:
                        yield tally.fail(f"{source}: {exc}")
                        break
                    videos = data.get("videos") if isinstance(data.get("videos"), list) else []
                    page = map_page(videos, mapper, seen=seen, limit=remaining)
                    remaining -= len(page.records)
                    yield tally.ok(page)
                    for video in page.records if comments else ():
                        if remaining <= 0 or video.comments_count == 0:
                            continue
                        for comment_page in self._comments(video, request, seen, remaining):
                            remaining -= len(comment_page.records)
                            yield comment_page
                        if self._quota_spent(limit):
                            yield self._stopped(source, limit, tally)
                            tally.finish()
                            return
                    next_cursor = to_int(data.get("cursor"))
                    if not data.get("has_more") or not videos or next_cursor is None:
                        break
                    cursor, search_id = next_cursor, data.get("search_id") or search_id
        tally.finish()

    def _quota_spent(self, limit: int) -> bool:
        return int(self.rate_limit_state.get("research_requests", 0)) >= limit

    def _comments(
        self, video: NormalizedRecord, request: CollectionRequest, seen: set[str], room: int
    ) -> Iterator[Page]:
        """One video's comments, paged by ``cursor`` until ``has_more`` is false; a failure
        skips that video's comments (named) and collection goes on."""
        cursor, limit = 0, daily_limit(request)
        mapper = functools.partial(self._map_comment, video=video)
        while room > 0 and not self._quota_spent(limit):
            try:
                data = self._comment_page(str(video.platform_id), cursor)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                yield failed_source(f"tiktok comments of {video.platform_id}: {exc}")
                return
            items = data.get("comments") if isinstance(data.get("comments"), list) else []
            page = map_page(items, mapper, seen=seen, limit=room)
            room -= len(page.records)
            yield page
            next_cursor = to_int(data.get("cursor"))
            if not data.get("has_more") or not items or next_cursor is None:
                return
            cursor = next_cursor

    def _map_comment(self, item: Any, video: NormalizedRecord) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("comment is not an object")
        comment_id = item.get("id")
        if not isinstance(comment_id, int | str) or not str(comment_id).strip():
            raise Reject("comment without id")
        meta: dict[str, Any] = {"parent_post_id": video.platform_id}
        for key in ("parent_comment_id", "reply_count"):
            if item.get(key) is not None:
                meta[key] = item[key]
        created = item.get("create_time")
        published = None
        if isinstance(created, int | float) and not isinstance(created, bool):
            published = plausible_date(datetime.fromtimestamp(created, UTC).isoformat(), meta)
        text = item.get("text") if isinstance(item.get("text"), str) else None
        # The Research API names no comment author: the record has none (spec).
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="comment",
            platform_id=str(comment_id),
            published_at=published,
            text_content=text,
            language=video.language,
            likes_count=to_int(item.get("like_count")),
            comments_count=to_int(item.get("reply_count")),
            raw_metadata=meta,
        )

    def _stopped(self, source: str, limit: int, tally: SourceTally) -> Page:
        message = (
            f"{source}: the daily quota of {limit} research requests is spent; "
            "collection stopped with what it had (TikTok resets it at 00:00 UTC)"
        )
        self.rate_limit_state["stopped"] = {"reason": "daily_quota", "requests": limit}
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[SkippedSource(source[:200], "stopped", message)],
        )

    def _map(self, item: Any, request: CollectionRequest) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("video is not an object")
        video_id = item.get("id")
        if not isinstance(video_id, int | str) or not str(video_id).strip():
            raise Reject("video without id")
        video_id = str(video_id)
        region = str(item.get("region_code") or "").upper() or None
        if region is not None and region not in region_codes(request):
            # Region is the account's registration country; others are not wanted.
            self.rate_limit_state["other_region_dropped"] = (
                int(self.rate_limit_state.get("other_region_dropped", 0)) + 1
            )
            raise Skip
        meta: dict[str, Any] = {
            key: item.get(key)
            for key in (
                "region_code", "hashtag_names", "music_id", "effect_ids", "playlist_id",
                "voice_to_text",
            )
            if item.get(key) is not None
        }  # fmt: skip
        created = item.get("create_time")
        published = None
        if isinstance(created, int | float) and not isinstance(created, bool):
            published = plausible_date(datetime.fromtimestamp(created, UTC).isoformat(), meta)
        elif created not in (None, ""):
            meta["published_at_invalid"] = str(created)[:200]
        if published is not None and not (request.date_from <= published < request.date_to):
            raise Skip
        description = item.get("video_description")
        description = description if isinstance(description, str) else ""
        transcript = item.get("voice_to_text")
        text = description
        if isinstance(transcript, str) and transcript.strip():
            text = f"{description}\n[transcript] {transcript}" if description else transcript
        first_line = description.strip().split("\n", 1)[0]
        title = first_line if len(first_line) <= 100 else first_line[:97] + "…"
        username = item.get("username") if isinstance(item.get("username"), str) else None
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="video",
            platform_id=video_id,
            published_at=published,
            url=f"https://www.tiktok.com/@{username}/video/{video_id}" if username else None,
            title=title or None,
            text_content=text or None,
            language=REGION_LANGUAGE.get(region or "DK", request.language or "da"),
            author_platform_id=username,
            author_display_name=username,
            views_count=to_int(item.get("view_count")),
            likes_count=to_int(item.get("like_count")),
            shares_count=to_int(item.get("share_count")),
            comments_count=to_int(item.get("comment_count")),
            raw_metadata=meta,
        )

    def close(self) -> None:
        self.http.close()


def _quota_spent(response: httpx.Response) -> float | None:
    """TikTok's 429 is its daily quota: waiting does not bring it back before 00:00 UTC, so
    the pool rotates to the next credential at once."""
    raise ArenaQuotaExceeded(f"tiktok: HTTP 429 (daily quota spent){error_detail(response)}")
