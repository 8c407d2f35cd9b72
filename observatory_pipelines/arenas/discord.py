"""Discord: the messages of the channels a bot has been invited to, through the REST API.

A server admin invites the operator's bot (scope ``bot``, View Channel + Read Message
History); its token sits in the credential pool (``bot_token``) and goes out as
``Authorization: Bot <token>``. Without the MESSAGE_CONTENT privileged intent Discord
sends ``content`` empty: such messages are counted in ``rate_limit_state`` so the
operator can see why nothing matched.

Per channel the design names (``custom_channel_ids``, snowflake ids): ``GET
/channels/{id}`` (name, guild) and once per guild ``GET /guilds/{id}`` (its name: the
channel object has none, the original's pitfall), then ``GET /channels/{id}/messages
?limit=100&before=…``, newest first, starting at the window's end: a snowflake id holds
its time (ms = (id >> 22) + 1420070400000), so ``before`` = the id of ``date_to``.
Paging goes on below the page's oldest id and stops at a short page or past
``date_from``. Bots cannot search messages, so the terms are matched on the client, with
the shared matching rules (the original used plain substrings; the shared rules are what
ingest records as the terms matched, so the two cannot disagree).

Errors: 401 is the token's (ArenaAuthError: the task fails and the credential is flagged
in the pool; the other arenas go on). 403 (Missing Access) and 404 (Unknown Channel) are
one channel's: it is skipped with its id and name in the task's errors.

Rate limits (Discord's docs): per-route buckets in ``X-RateLimit-Limit/-Remaining/
-Reset/-Reset-After/-Bucket``; a bucket at 0 remaining waits ``Reset-After`` before the
next request on it (or, beyond ARENA_HTTP_MAX_WAIT, stops the run with what it has). A
429 waits what Discord says: ``Retry-After`` when sent, else the JSON body's
``retry_after`` (seconds, float), through the shared client's retries; a 429 with
``global: true`` (or ``X-RateLimit-Global``) that outlasts them stops the whole run, a
per-route one skips that channel. Requests are spaced 0.2 s (the original's courtesy
pause; the global limit is 50 a second), and a run stops before it sends more than
``MAX_INVALID_REQUESTS`` refused requests (401/403/429): 10,000 in 10 minutes get the IP
banned by Cloudflare.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaOptionError,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.matching import matches_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    failed_source,
    in_window,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import clean_str, plausible_date, to_int
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

DEFAULT_BASE_URL = "https://discord.com/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
PAGE_SIZE = 100  # the most GET /channels/{id}/messages returns
DEFAULT_MAX_PAGES = 10  # the spec's default of 1,000 messages per channel
MAX_INVALID_REQUESTS = 1_000  # Cloudflare bans an IP at 10,000 in 10 minutes
SNOWFLAKE = re.compile(r"^[0-9]{17,20}$")
# Message types that are someone's post (DEFAULT, REPLY, THREAD_STARTER_MESSAGE); joins,
# pins, boosts and the like are system messages.
POST_TYPES = frozenset({0, 19, 21})


def snowflake_time(snowflake: str | int) -> datetime:
    """The instant a snowflake id was made (its top 42 bits: ms since 2015-01-01 UTC)."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def snowflake_at(moment: datetime) -> int:
    """The smallest snowflake of ``moment``: ``before`` it means strictly earlier."""
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return max(ms, 0) << 22


def channel_id(value: Any) -> str:
    """A design's channel as a snowflake id string, or ArenaOptionError naming the value."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if SNOWFLAKE.match(text):
        return text
    if "/" in text or "." in text or ":" in text:
        raise ArenaOptionError(
            f"arenas.discord.custom_channel_ids names {text!r}: a URL or host name; give the "
            "channel's id (Developer Mode: right-click the channel, Copy Channel ID): the "
            "host comes from the operator's DISCORD_API_URL"
        )
    raise ArenaOptionError(
        f"arenas.discord.custom_channel_ids names {value!r}: not a Discord channel id "
        "(a snowflake: 17-20 digits)"
    )


class _Stop(Exception):
    """The run cannot go on: the global rate limit, a long-spent bucket, invalid requests."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _ChannelSkipped(Exception):
    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _retry_after_from_body(response: httpx.Response) -> float | None:
    """Seconds of a 429 as Discord's JSON says (``retry_after``, float); else the bucket's
    ``X-RateLimit-Reset-After``. Only asked when no ``Retry-After`` header came."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        try:
            return max(0.0, float(body["retry_after"]))
        except (KeyError, TypeError, ValueError):
            pass
    try:
        return max(0.0, float(response.headers["x-ratelimit-reset-after"]))
    except (KeyError, ValueError):
        return None


@register
class DiscordCollector(Collector):
    platform = "discord"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = True
    credential_fields = ("bot_token",)
    max_records_per_run = 10_000
    option_specs = (
        ArenaOption(
            "custom_channel_ids",
            "list of strings",
            [],
            "ids of the channels the operator's bot was invited to (snowflakes, e.g. "
            "'1201234567890123456'; never URLs)",
        ),
        ArenaOption(
            "max_pages",
            "int",
            DEFAULT_MAX_PAGES,
            "pages of 100 messages per channel (default: 1,000 messages per channel)",
        ),
    )
    min_request_interval = 0.2  # the original's pause; Discord's global limit is 50/s
    quota = (
        "~50 requests/s globally and per-route buckets (X-RateLimit-* headers, honoured); "
        "429 retry_after honoured; 10,000 refused requests in 10 min ban the IP"
    )
    host_setting = "DISCORD_API_URL"

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.check_list(options, "custom_channel_ids", "ids", channel_id)
        cls.check_counts(options, "max_pages")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.discord_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            retry_after_default=1.0,
            rate_reset_wait=_retry_after_from_body,
        )
        # Every response, the retried 429s included, passes here: buckets, global flag and
        # the count of refused requests must see them all, not only the last one.
        self.http._client.event_hooks["response"].append(self._observe)
        self._route_bucket: dict[str, str] = {}  # route -> X-RateLimit-Bucket
        self._buckets: dict[str, tuple[int, float]] = {}  # bucket -> (remaining, reset at)
        self._last_global = False
        self._guilds: dict[str, str | None] = {}

    def close(self) -> None:
        self.http.close()

    # -- rate limits ---------------------------------------------------------------------

    def _observe(self, response: httpx.Response) -> None:
        headers = response.headers
        status = response.status_code
        state = self.rate_limit_state
        if status in (401, 403, 429):
            state["invalid_requests"] = int(state.get("invalid_requests", 0)) + 1
        if status == 429:
            self._last_global = headers.get("x-ratelimit-global", "").lower() == "true" or (
                headers.get("x-ratelimit-scope") == "global"
            )
            state.setdefault("rate_limited", {"global": 0, "route": 0})
            state["rate_limited"]["global" if self._last_global else "route"] += 1
        bucket = headers.get("x-ratelimit-bucket")
        remaining = to_int(headers.get("x-ratelimit-remaining"))
        if not bucket or remaining is None:
            return
        try:
            reset_after = float(headers.get("x-ratelimit-reset-after") or 0.0)
        except ValueError:
            reset_after = 0.0
        route = getattr(response.request, "extensions", {}).get("discord_route")
        if route:
            self._route_bucket[route] = bucket
        self._buckets[bucket] = (remaining, time.monotonic() + reset_after)
        state.setdefault("buckets", {})[bucket] = {
            "limit": headers.get("x-ratelimit-limit"),
            "remaining": remaining,
            "reset_after": reset_after,
            "reset": headers.get("x-ratelimit-reset"),
        }

    def _wait_for_bucket(self, route: str) -> None:
        bucket = self._route_bucket.get(route)
        if bucket is None or bucket not in self._buckets:
            return
        remaining, reset_at = self._buckets[bucket]
        wait = reset_at - time.monotonic()
        if remaining > 0 or wait <= 0:
            return
        if wait > self.http.max_wait:
            raise _Stop(
                "rate_limited",
                f"rate-limit bucket {bucket} is spent for {wait:.0f} s (longer than "
                "ARENA_HTTP_MAX_WAIT)",
            )
        log.info("discord.bucket_wait", bucket=bucket, wait_s=round(wait, 3))
        time.sleep(wait)

    # -- requests ------------------------------------------------------------------------

    def _get(self, route: str, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """One API request; SourceFailed for transport trouble, _Stop when the run must end."""
        if int(self.rate_limit_state.get("invalid_requests", 0)) >= MAX_INVALID_REQUESTS:
            raise _Stop(
                "invalid_requests",
                f"{MAX_INVALID_REQUESTS} refused requests (401/403/429) this run; stopped "
                "before Cloudflare bans the IP",
            )
        self._wait_for_bucket(route)
        (token,) = require(self.credentials, "bot_token", platform=self.platform)
        self._last_global = False
        try:
            return self.http.get(
                f"{self.base_url}{path}",
                params=params,
                headers={"Authorization": f"Bot {token}"},
                extensions={"discord_route": route},
            )
        except SourceFailed as exc:
            if exc.reason == "rate_limited" and self._last_global:
                raise _Stop("rate_limited", f"global rate limit: {exc}") from None
            raise
        finally:
            self.units_spent += 1

    def _json(self, response: httpx.Response, what: str) -> Any:
        """The JSON body, or a clear error naming URL (host and path) and status."""
        status, where = response.status_code, describe(str(response.request.url))
        kind = response.headers.get("content-type", "unknown type").split(";")[0].strip()
        if "html" in kind.lower() or response.content.lstrip()[:1] == b"<":
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is an HTML page ({kind}) where JSON was "
                "expected",
                "not_a_feed",
            )
        try:
            body = response.json()
        except ValueError:
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not valid JSON ({kind})", "unparseable"
            ) from None
        if status == 401:
            raise ArenaAuthError(
                f"discord: the bot token was refused (HTTP 401 from {where}); the credential "
                "is flagged in the pool"
            )
        if status >= 400:
            detail = body.get("message") if isinstance(body, dict) else None
            code = body.get("code") if isinstance(body, dict) else None
            said = f" ({clean_str(detail, 200)}, code {code})" if detail else ""
            if status in (403, 404):
                raise _ChannelSkipped(f"{what}: HTTP {status} from {where}{said}", "http_error")
            raise SourceFailed(f"{what}: HTTP {status} from {where}{said}", "http_error")
        return body

    # -- estimate and health -------------------------------------------------------------

    def _channels(self, request: CollectionRequest) -> list[str]:
        values = (request.options or {}).get("custom_channel_ids") or []
        return list(dict.fromkeys(channel_id(v) for v in values))

    def estimate_units(self, request: CollectionRequest) -> int:
        try:
            channels = len(self._channels(request))
        except ArenaOptionError:
            return 0
        pages = int((request.options or {}).get("max_pages") or DEFAULT_MAX_PAGES)
        return channels * (2 + min(pages, 10))

    def health_check(self) -> HealthStatus:
        """``GET /gateway`` (no token needed): is the API there."""
        try:
            response = self.http.get(f"{self.base_url}/gateway")
            body = self._json(response, "discord health")
        except (ArenaError, _ChannelSkipped) as exc:
            return HealthStatus(ok=False, detail=str(exc))
        ok = isinstance(body, dict) and bool(body.get("url"))
        return HealthStatus(ok=ok, detail="gateway answers" if ok else "no gateway url")

    # -- collection ----------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        channels = self._channels(request)
        if not channels:
            raise ArenaError(
                "discord: no channels to read; name the ids of the channels the bot was "
                "invited to in arenas.discord.custom_channel_ids (bots cannot search)"
            )
        max_pages = int((request.options or {}).get("max_pages") or DEFAULT_MAX_PAGES)
        self._remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        for index, channel in enumerate(channels):
            if self._remaining <= 0:
                break
            tally.tried += 1
            try:
                yield from self._channel(channel, max_pages, request, seen, tally)
            except _Stop as stop:
                yield self._stopped(stop, channels[index:], tally)
                break
        tally.finish()

    def _channel(self, channel, max_pages, request, seen, tally) -> Iterator[Page]:
        label = f"discord channel {channel}"
        try:
            info = self._json(self._get(f"channel:{channel}", f"/channels/{channel}"), label)
            if not isinstance(info, dict):
                raise SourceFailed(
                    f"{label}: the channel reply is not a JSON object", "unparseable"
                )
            name = clean_str(info.get("name"))
            if name:
                label = f"discord channel {channel} (#{name})"
            guild_id = clean_str(info.get("guild_id"))
            guild_name = self._guild_name(guild_id) if guild_id else None
        except (SourceFailed, _ChannelSkipped) as exc:
            yield self._skip(tally, label, exc)
            return
        context = {"channel_id": channel, "channel_name": name, "guild_id": guild_id,
                   "guild_name": guild_name}  # fmt: skip
        before = snowflake_at(request.date_to)
        for _ in range(max_pages):
            if self._remaining <= 0:
                return
            path = f"/channels/{channel}/messages"
            try:
                response = self._get(
                    f"messages:{channel}", path, {"limit": PAGE_SIZE, "before": before}
                )
                items = self._json(response, label)
                if not isinstance(items, list):
                    raise SourceFailed(
                        f"{label}: the messages reply is not a JSON list", "unparseable"
                    )
            except (SourceFailed, _ChannelSkipped) as exc:
                yield self._skip(tally, label, exc)
                return
            page = map_page(
                items,
                lambda m: self._map(m, context, request),
                seen=seen,
                limit=self._remaining,
            )
            self._remaining -= len(page.records)
            empty = sum(1 for m in items if isinstance(m, dict) and m.get("type") in POST_TYPES
                        and not m.get("content"))  # fmt: skip
            if empty:
                self.rate_limit_state["empty_content_messages"] = (
                    int(self.rate_limit_state.get("empty_content_messages", 0)) + empty
                )
            yield tally.ok(page)
            ids = [
                int(m["id"])
                for m in items
                if isinstance(m, dict) and SNOWFLAKE.match(str(m.get("id", "")))
            ]
            if len(items) < PAGE_SIZE or not ids:
                return  # a short page is the channel's oldest
            oldest = min(ids)
            if snowflake_time(oldest) < request.date_from or oldest >= before:
                return
            before = oldest

    def _guild_name(self, guild_id: str) -> str | None:
        """The server's name (once per guild); None when the bot may not read it."""
        if guild_id not in self._guilds:
            name = None
            try:
                body = self._json(self._get(f"guild:{guild_id}", f"/guilds/{guild_id}"), "guild")
                name = clean_str(body.get("name")) if isinstance(body, dict) else None
            except (SourceFailed, _ChannelSkipped):
                name = None
            self._guilds[guild_id] = name
        return self._guilds[guild_id]

    @staticmethod
    def _skip(tally: SourceTally, label: str, exc: Exception) -> Page:
        text = str(exc)
        message = text if text.startswith("discord channel") else f"{label}: {text}"
        if isinstance(exc, _ChannelSkipped):
            message = f"{message}; skipped (the bot cannot read it, or it does not exist)"
        tally.failed.append(message)
        return failed_source(message, getattr(exc, "reason", "error"))

    def _stopped(self, stop: _Stop, left: list[str], tally: SourceTally) -> Page:
        message = f"discord: {stop}; collection stopped with what it had"
        self.rate_limit_state["stopped"] = {
            "reason": stop.reason,
            "requests": self.units_spent,
            "channels_not_finished": left,
        }
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        reason = "rate_limited" if stop.reason == "rate_limited" else "stopped"
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[
                SkippedSource(f"discord channel {c}", reason, message, f"/channels/{c}/messages")
                for c in left
            ],
        )

    # -- mapping -------------------------------------------------------------------------

    def _map(
        self, item: Any, context: dict[str, Any], request: CollectionRequest
    ) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("discord message is not an object")
        message_id = clean_str(item.get("id"))
        if not message_id or not SNOWFLAKE.match(message_id):
            raise Reject("discord message without an id")
        if item.get("type", 0) not in POST_TYPES:
            raise Skip  # a join, a pin, a boost: no one's post
        meta: dict[str, Any] = dict(context)
        published = plausible_date(item.get("timestamp"), meta)
        if published is None:
            # The id holds the time to the millisecond: a message always has a date.
            published = snowflake_time(message_id)
            meta["published_at_from_id"] = True
        if not in_window(published, request):
            raise Skip
        text = clean_str(item.get("content"))
        if request.terms and not matches_groups(text, request.terms):
            raise Skip
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        reactions = [
            {"emoji": (r.get("emoji") or {}).get("name"), "count": to_int(r.get("count"))}
            for r in item.get("reactions") or []
            if isinstance(r, dict)
        ]
        likes = sum(r["count"] or 0 for r in reactions) or None
        thread = item.get("thread") if isinstance(item.get("thread"), dict) else {}
        reference = (
            item.get("message_reference") if isinstance(item.get("message_reference"), dict) else {}
        )
        meta.update(
            {
                "message_type": item.get("type", 0),
                # Attachment links are signed and expire (the spec's pitfall): kept as seen.
                "attachments": [a.get("url") for a in item.get("attachments") or []
                                if isinstance(a, dict) and a.get("url")],
                "embeds": len(item.get("embeds") or []),
                # Mentioned users' ids identify people: only how many were mentioned.
                "mention_count": len(item.get("mentions") or []),
                "referenced_message_id": reference.get("message_id"),
                "reactions": reactions,
                "thread_id": thread.get("id"),
                "edited_timestamp": item.get("edited_timestamp"),
                "author_is_bot": bool(author.get("bot")),
            }
        )  # fmt: skip
        guild, channel = context.get("guild_name"), context.get("channel_name")
        where = " / ".join(p for p in (guild, f"#{channel}" if channel else None) if p)
        url = None
        if context.get("guild_id"):
            url = f"https://discord.com/channels/{context['guild_id']}/{context['channel_id']}/{message_id}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="post",
            platform_id=message_id,
            published_at=published,
            url=url,
            text_content=text,
            language=None,
            # The poster's id is pseudonymized at ingest; their names are not stored (the
            # spec's raw actual_poster_name would put a person's name beside the pseudonym).
            author_platform_id=clean_str(author.get("id")),
            author_display_name=where or None,
            likes_count=likes,
            comments_count=to_int(thread.get("message_count")),
            raw_metadata=meta,
            # One message is one record: chat repeats short texts ("ja", "👍") constantly,
            # so a hash over the content (the spec's) would merge different people's posts.
            hash_source=f"discord:{message_id}",
        )
