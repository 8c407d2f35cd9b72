"""Telegram: the messages of public channels a design names, from their public web preview.

Telegram's API (MTProto, e.g. through Telethon) needs a user account: an ``api_id`` and
``api_hash`` registered on a phone number plus an interactively made session. The free
path that needs none is the page Telegram shows browsers for a public channel,
``https://t.me/s/<channel>`` (spec §12: "credential-free fallback"): about 20 messages a
page, older pages at ``?before=<message id>``. That path is what this collector reads;
parsing lives in ``telegram_preview.py``.

The MTProto path is not built: it could only be tested against Telegram's own servers
with a real account (no local MTProto server exists to replay against), and an untested
client for a credential whose misuse gets the account banned is worse than none.

Channels: ``custom_channels`` (Telegram usernames, with or without ``@``; URLs and host
names are refused when the design is checked) and the design's actors' usernames. A
channel that does not exist, is private, or has its preview turned off makes t.me
redirect away from ``/s/``: that channel is skipped with its name in the task's errors
and the others go on.

Terms: the preview has no search we can rely on, so every message of each channel is read
back to the window's start and the design's terms are matched on the client (the shared
rules of ``matching.py``); an actor's channel is taken whole. Messages without text are
skipped (spec). No language filter: the spec keeps ``language`` NULL (the channels are the
researcher's choice); ingest detects the language of each text.

Limits: Telegram publishes none for the preview; requests are spaced 3 s (the spec's
baseline of 20 a minute) and a run sends at most ``max_requests``. A spent budget, or a
429 that outlasts the shared client's retries (an IP block), stops the collection cleanly
with what it has: ``rate_limit_state.stopped`` says why, the channels not read are skipped
sources with reason ``stopped`` / ``rate_limited``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
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
)
from observatory_pipelines.arenas.telegram_preview import (
    USERNAME,
    NoPublicPreview,
    PreviewMessage,
    PreviewPage,
    PreviewUnreadable,
    parse_preview,
)
from observatory_pipelines.arenas.text import plausible_date

DEFAULT_BASE_URL = "https://t.me"
DEFAULT_MAX_REQUESTS = 500
DEFAULT_MAX_PAGES = 50  # pages of ~20 messages per channel and run


def channel_username(value: Any) -> str:
    """A design's channel as a Telegram username (``@`` dropped), or ArenaOptionError."""
    text = str(value).strip() if isinstance(value, str) else ""
    name = text.removeprefix("@")
    if USERNAME.match(name) and "__" not in name:
        return name
    if "/" in text or "." in text or ":" in text:
        raise ArenaOptionError(
            f"arenas.telegram.custom_channels names {text!r}: a URL or host name; give the "
            "channel's username (e.g. 'eksempel_kanal' for t.me/eksempel_kanal): the host "
            "comes from the operator's TELEGRAM_API_URL"
        )
    raise ArenaOptionError(
        f"arenas.telegram.custom_channels names {value!r}: not a Telegram username (5-32 "
        "letters, digits or underscores, starting with a letter)"
    )


class _Stop(Exception):
    """The run's request budget is spent, or Telegram keeps answering 429."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@register
class TelegramCollector(Collector):
    platform = "telegram"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 10_000
    option_specs = (
        ArenaOption(
            "custom_channels",
            "list of strings",
            [],
            "public channels' usernames (e.g. eksempel_kanal or @eksempel_kanal; never URLs); "
            "the design's actors' usernames are read too",
        ),
        ArenaOption(
            "max_pages", "int", DEFAULT_MAX_PAGES, "preview pages (~20 messages) per channel"
        ),
        ArenaOption(
            "max_requests",
            "int",
            DEFAULT_MAX_REQUESTS,
            "requests one run may send; reaching it stops the run cleanly with what it has",
        ),
    )
    min_request_interval = 3.0  # spec: a baseline of 20 requests a minute
    quota = (
        "no published limit for the public preview; 20 requests a minute and max_requests "
        "(default 500) per run; a persistent 429 stops the run with what it has"
    )
    host_setting = "TELEGRAM_API_URL"

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        channels = options.get("custom_channels")
        if channels is not None:
            if not isinstance(channels, list):
                raise ArenaOptionError(
                    "arenas.telegram.custom_channels must be a list of usernames"
                )
            for channel in channels:
                channel_username(channel)
        cls.check_counts(options, "max_pages", "max_requests")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.telegram_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            retry_after_default=60,
            headers={"Accept": "text/html", "Accept-Language": "da,en;q=0.8"},
        )
        self._budget = self._budget_total = DEFAULT_MAX_REQUESTS

    def close(self) -> None:
        self.http.close()

    # -- sources, estimate, health -------------------------------------------------------

    def _channels(self, request: CollectionRequest) -> list[tuple[str, bool]]:
        """(username, whole) per channel: design channels matched on terms, actors whole."""
        options = request.options or {}
        found: dict[str, bool] = {}
        for value in options.get("custom_channels") or []:
            found.setdefault(channel_username(value).lower(), False)
        for actor in request.actors:
            name = actor.platform_username or actor.platform_user_id
            if not name:
                continue
            try:
                found[channel_username(name).lower()] = True
            except ArenaOptionError:
                continue  # not a username (a numeric id): the preview cannot look it up
        return list(found.items())

    def estimate_units(self, request: CollectionRequest) -> int:
        try:
            channels = len(self._channels(request))
        except ArenaOptionError:
            return 0
        options = request.options or {}
        pages = min(int(options.get("max_pages") or DEFAULT_MAX_PAGES), 10)
        budget = int(options.get("max_requests") or DEFAULT_MAX_REQUESTS)
        return min(channels * pages, budget)

    def health_check(self) -> HealthStatus:
        try:
            page = self._page("telegram", None, "telegram health")
        except (ArenaError, _Stop) as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail=f"preview answers, {len(page.messages)} messages")

    # -- requests ------------------------------------------------------------------------

    def _page(self, channel: str, before: int | None, what: str) -> PreviewPage:
        """One preview page; SourceFailed (the channel is skipped) or _Stop (the run ends)."""
        if self._budget <= 0:
            raise _Stop(
                "max_requests",
                f"request budget of {self._budget_total} requests (max_requests) spent",
            )
        self._budget -= 1
        url = f"{self.base_url}/s/{channel}"
        try:
            response = self.http.get(url, params={"before": before} if before else None)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise _Stop(
                    "rate_limited", f"{what}: Telegram keeps answering 429 ({exc})"
                ) from None
            raise
        finally:
            self.units_spent += 1
        return self._parsed(response, channel, what)

    def _parsed(self, response: httpx.Response, channel: str, what: str) -> PreviewPage:
        status, where = response.status_code, describe(str(response.request.url))
        no_preview = (
            f"{what}: no public preview (not a public channel, or its preview is off; "
            f"HTTP {status} from {where}"
        )
        if status == 404:
            raise SourceFailed(f"{no_preview})", "http_error")
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where}", "http_error")
        kind = response.headers.get("content-type", "unknown type").split(";")[0].strip()
        if "html" not in kind.lower():
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is {kind}, not the HTML page expected",
                "unparseable",
            )
        try:
            return parse_preview(response.text)
        except NoPublicPreview as exc:
            # t.me sends unknown, private and preview-less channels (and users) to /<name>.
            raise SourceFailed(f"{no_preview}: {exc})", "http_error") from None
        except PreviewUnreadable as exc:
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not a channel preview ({exc})",
                "unparseable",
            ) from None

    # -- collection ----------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        options = request.options or {}
        self._budget = self._budget_total = int(options.get("max_requests") or DEFAULT_MAX_REQUESTS)
        max_pages = int(options.get("max_pages") or DEFAULT_MAX_PAGES)
        self._remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        channels = self._channels(request)
        if not channels:
            raise ArenaError(
                "telegram: no channels to read; name public channels in "
                "arenas.telegram.custom_channels (Telegram offers no search across channels)"
            )
        for index, (channel, whole) in enumerate(channels):
            if self._remaining <= 0:
                break
            tally.tried += 1
            try:
                yield from self._channel(channel, whole, max_pages, request, seen, tally)
            except _Stop as stop:
                yield self._stopped(stop, [c for c, _ in channels[index:]], tally)
                break
        tally.finish()

    def _channel(self, channel, whole, max_pages, request, seen, tally) -> Iterator[Page]:
        what = f"telegram channel {channel}"
        before: int | None = None
        for _ in range(max_pages):
            if self._remaining <= 0:
                return
            try:
                page = self._page(channel, before, what)
            except SourceFailed as exc:
                message = str(exc) if str(exc).startswith(what) else f"{what}: {exc}"
                tally.failed.append(message)
                yield failed_source(message, exc.reason)
                return
            title = page.channel_title
            mapped = map_page(
                page.messages,
                lambda m: self._map(m, channel, title, page, whole, request),  # noqa: B023
                seen=seen,
                limit=self._remaining,
            )
            self._remaining -= len(mapped.records)
            yield tally.ok(mapped)
            ids = [m.message_id for m in page.messages if m.message_id is not None]
            if not ids:
                return  # an empty channel, or the start of its history
            oldest = min(ids)
            dates = [plausible_date(m.published, {}) for m in page.messages]
            dated = [d for d in dates if d is not None]
            if dated and min(dated) < request.date_from:
                return  # the page reaches back past the window's start
            if page.before is None or oldest <= 1:
                return  # no "load more" link: the channel's first message is on this page
            following = min(page.before, oldest)
            if before is not None and following >= before:
                return  # the page did not move back: never ask the same page twice
            before = following

    def _stopped(self, stop: _Stop, left: list[str], tally: SourceTally) -> Page:
        message = f"telegram: {stop}; collection stopped with what it had"
        self.rate_limit_state["stopped"] = {
            "reason": stop.reason,
            "requests": self.units_spent,
            "max_requests": self._budget_total,
            "channels_not_finished": left,
        }
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        reason = "rate_limited" if stop.reason == "rate_limited" else "stopped"
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[
                SkippedSource(f"telegram channel {c}", reason, message, f"/s/{c}") for c in left
            ],
        )

    # -- mapping -------------------------------------------------------------------------

    def _map(
        self,
        message: PreviewMessage,
        channel: str,
        title: str | None,
        page: PreviewPage,
        whole: bool,
        request: CollectionRequest,
    ) -> NormalizedRecord:
        if message.service:
            raise Skip  # "Channel created", "pinned a message": no post
        if message.message_id is None or not message.channel:
            raise Reject("telegram message without a post id (data-post)")
        username = message.channel
        meta: dict[str, Any] = {
            "channel_username": username,
            "channel_title": title,
            "channel_subscribers": page.subscribers,
            "message_id": message.message_id,
            "is_forwarded": message.is_forwarded,
            "fwd_from_channel": message.forwarded_from,
            "fwd_from_url": message.forwarded_from_url,
            "fwd_from_title": message.forwarded_from_title,
            "reply_to_msg_id": message.reply_to_msg_id,
            "has_media": bool(message.media_types),
            "media_types": message.media_types,
            "reactions": message.reactions,
            "edited": message.edited,
            "links": message.links,
            "hashtags": message.hashtags,
            "mentions": message.mentions,
            "link_preview": message.link_preview,
            "views_exact": message.views_exact,
            "source": "web_preview",
        }
        published = plausible_date(message.published, meta)
        if not in_window(published, request):
            raise Skip
        if not message.text:
            raise Skip  # spec: messages without text are skipped
        if not whole and not matches_groups(message.text, request.terms):
            raise Skip
        likes = sum(r["count"] for r in message.reactions) or None
        post_key = f"{username.lower()}/{message.message_id}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="post",
            # The preview's own key (data-post); the numeric channel id is MTProto's only.
            platform_id=post_key,
            published_at=published,
            url=f"https://t.me/{username}/{message.message_id}",
            text_content=message.text,
            language=None,
            author_platform_id=username.lower(),
            author_display_name=title or username,
            views_count=message.views,
            likes_count=likes,
            # Forward and reply counts are not on the preview (MTProto's `forwards`,
            # `replies.replies`): NULL, never 0.
            shares_count=None,
            comments_count=None,
            raw_metadata=meta,
            # One message is one record, whatever else repeats its text (forwards do).
            hash_source=post_key,
        )
