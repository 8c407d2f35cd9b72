"""Telegram: the messages of public channels a design names, by one of two paths.

* **MTProto** (``telegram_mtproto.py``, Telethon): Telegram's own API with an operator's
  account, a ``telegram`` credential in the pool (``api_id``, ``api_hash`` and a logged-in
  StringSession). It reads a channel's whole history in the window, 100 messages a
  request, with exact views, forwards, reply counts, forwarded-from (channel id, message,
  date), the message replied to, edit date and media type. Tested against a fake data
  centre on 127.0.0.1 that speaks MTProto 2.0 (``tests/arenas/telegram_mtproto_server.py``).
* **Preview** (``telegram_preview.py``): the page Telegram shows browsers for a public
  channel, ``https://t.me/s/<channel>`` (spec §12: "credential-free fallback"), no account
  needed: about 20 messages a page, older pages at ``?before=<message id>``, views rounded
  ("15.3K"), no forward or reply counts.

Option ``path``: ``auto`` (default) reads over MTProto when the pool has a credential and
the preview otherwise; ``mtproto`` refuses to run without one; ``preview`` never uses one.
A record is the same row whichever path collected it: platform_id and content hash are
the preview's post key ``<username lower-cased>/<message id>``, the URL
``https://t.me/<username>/<id>``, the date the message's own, so a rerun by the other
path inserts nothing. A message the preview shows without a date is not stored by the
preview (a skipped source with reason ``undated``, named by its post key): dated by its
collection it would be a second row once MTProto stores it with its real date.

Channels: ``custom_channels`` (Telegram usernames, with or without ``@``; URLs and host
names are refused when the design is checked) and the design's actors' usernames. A
channel that does not exist, is private, or has its preview turned off (t.me redirects
away from ``/s/``; MTProto answers USERNAME_NOT_OCCUPIED or CHANNEL_PRIVATE) is skipped
with its name in the task's errors and the others go on.

Terms: on both paths every message of each channel is read back to the window's start and
the design's terms are matched on the client with the shared rules of ``matching.py``
(the preview has no search we can rely on; MTProto's per-channel search would cost
requests per term and channel and match by Telegram's rules, not ours); an actor's
channel is taken whole. Messages without text are
skipped (spec). No language filter: the spec keeps ``language`` NULL (the channels are the
researcher's choice); ingest detects the language of each text.

Limits: Telegram publishes none; requests are spaced 3 s (the spec's baseline of 20 a
minute; MTProto adds 1–3 s of jitter) and a run sends at most ``max_requests``. A spent
budget, a 429 that outlasts the shared client's retries (an IP block), or a FLOOD_WAIT
longer than TELEGRAM_FLOOD_WAIT_MAX_SECONDS stops the collection cleanly with what it
has: ``rate_limit_state.stopped`` says why, the channels not read are skipped sources
with reason ``stopped`` / ``rate_limited``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC
from typing import Any

import httpx
from telethon.tl import types

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
from observatory_pipelines.arenas.telegram_mtproto import (
    CREDENTIAL_FIELDS,
    HistoryPage,
    MtprotoClient,
    ResolvedChannel,
    StopRun,
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


PATHS = ("auto", "preview", "mtproto")


@register
class TelegramCollector(Collector):
    platform = "telegram"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = False
    credentials_optional = True  # the MTProto path when the pool has one, the preview without
    credential_fields = CREDENTIAL_FIELDS
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
            "path",
            "string",
            "auto",
            "auto | preview | mtproto: auto reads Telegram's API (full history, exact counts) "
            "when the pool has a telegram credential, the public web preview otherwise",
        ),
        ArenaOption(
            "max_pages",
            "int",
            DEFAULT_MAX_PAGES,
            "pages per channel (~20 messages on the preview, 100 over MTProto)",
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
        "no published limit; 20 requests a minute and max_requests (default 500) per run; "
        "a persistent 429 (preview) or a FLOOD_WAIT over TELEGRAM_FLOOD_WAIT_MAX_SECONDS "
        "(MTProto) stops the run with what it has"
    )
    host_setting = "TELEGRAM_API_URL"

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.check_list(options, "custom_channels", "usernames", channel_username)
        cls.check_counts(options, "max_pages", "max_requests")
        path = options.get("path")
        if path is not None and path not in PATHS:
            raise ArenaOptionError(
                f"arenas.telegram.path must be one of {', '.join(PATHS)}, got {path!r}"
            )

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
        self._client: MtprotoClient | None = None

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
        """With a credential: the session still logged in (updates.getState over MTProto);
        without: the public preview of Telegram's own channel answers."""
        if self.credentials:
            try:
                client = MtprotoClient(self.credentials, self.rate_limit_state)
                try:
                    client.check_login()
                finally:
                    client.close()
            except ArenaError as exc:
                return HealthStatus(ok=False, detail=str(exc))
            return HealthStatus(ok=True, detail=f"MTProto session logged in at {client.where}")
        try:
            page = self._page("telegram", None, "telegram health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail=f"preview answers, {len(page.messages)} messages")

    # -- requests ------------------------------------------------------------------------

    def _page(self, channel: str, before: int | None, what: str) -> PreviewPage:
        """One preview page; SourceFailed (the channel is skipped) or StopRun (the run ends)."""
        if self._budget <= 0:
            raise StopRun(
                "max_requests",
                f"request budget of {self._budget_total} requests (max_requests) spent",
            )
        self._budget -= 1
        url = f"{self.base_url}/s/{channel}"
        try:
            response = self.http.get(url, params={"before": before} if before else None)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopRun(
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
        try:
            client = self._mtproto(options)
        except StopRun as stop:  # Telegram asked for a long wait before the first channel
            yield self._stopped(stop, [c for c, _ in channels], tally)
            return
        self.rate_limit_state["path"] = "mtproto" if client else "preview"
        try:
            for index, (channel, whole) in enumerate(channels):
                if self._remaining <= 0:
                    break
                tally.tried += 1
                read = self._mtproto_channel if client else self._channel
                try:
                    yield from read(channel, whole, max_pages, request, seen, tally)
                except StopRun as stop:
                    yield self._stopped(stop, [c for c, _ in channels[index:]], tally)
                    break
        finally:
            if client:
                self.units_spent = client.requests
                client.close()
        tally.finish()

    def _mtproto(self, options: Mapping[str, Any]) -> MtprotoClient | None:
        """A connected, logged-in client when the run reads over MTProto, else None."""
        path = options.get("path") or "auto"
        if path == "preview" or (path == "auto" and not self.credentials):
            return None
        if not self.credentials:
            raise ArenaError(
                "telegram: path mtproto needs a telegram credential in the pool (api_id, "
                "api_hash, session_string); there is none"
            )
        client = self._client = MtprotoClient(self.credentials, self.rate_limit_state)
        client.budget = self._budget_total
        try:
            client.check_login()  # a refused session fails here, before any channel
        except BaseException:
            self.units_spent = client.requests
            client.close()
            raise
        return client

    def _mtproto_channel(self, channel, whole, max_pages, request, seen, tally) -> Iterator[Page]:
        what = f"telegram channel {channel}"
        client = self._client
        try:
            resolved = client.resolve(channel)
            for page in client.history(resolved, request, max_pages):
                self.units_spent = client.requests
                mapped = map_page(
                    page.messages,
                    lambda m: self._map_mtproto(m, resolved, page, whole, request),  # noqa: B023
                    seen=seen,
                    limit=self._remaining,
                )
                self._remaining -= len(mapped.records)
                yield tally.ok(mapped)
                if self._remaining <= 0:
                    return
        except SourceFailed as exc:
            message = f"{what}: {exc}"
            tally.failed.append(message)
            yield failed_source(message, exc.reason)

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
            undated: list[str] = []
            mapped = map_page(
                page.messages,
                lambda m: self._map(m, channel, title, page, whole, request, undated),  # noqa: B023
                seen=seen,
                limit=self._remaining,
            )
            mapped.skipped.extend(_undated_skips(undated))
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

    def _stopped(self, stop: StopRun, left: list[str], tally: SourceTally) -> Page:
        message = f"telegram: {stop}; collection stopped with what it had"
        client = self._client
        self.rate_limit_state["stopped"] = {
            "reason": stop.reason,
            "requests": client.requests if client else self.units_spent,
            "max_requests": self._budget_total,
            "channels_not_finished": left,
            **stop.details,
        }
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        limited = stop.reason in ("rate_limited", "flood_wait")
        reason = "rate_limited" if limited else "stopped"
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[
                SkippedSource(
                    f"telegram channel {c}", reason, message, None if client else f"/s/{c}"
                )
                for c in left
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
        undated: list[str],
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
        _keep(published, message.text, whole, request)
        if published is None:
            # Not stored dated by its collection (what ingest does with an undated record):
            # every Telegram message has a date, the preview just did not show it, and a row
            # dated by its collection would be stored again, with the real date, by the next
            # MTProto run (the unique key holds the date). Neighbours' dates only bound it,
            # they are not its date; a staging rule "undated and stored dated = duplicate"
            # would catch only the opposite order. Named as a skipped source instead.
            undated.append(f"{username.lower()}/{message.message_id}")
            raise Skip
        return self._record(
            username,
            message.message_id,
            title,
            published,
            message.text,
            meta,
            views=message.views,
            likes=sum(r["count"] for r in message.reactions) or None,
            # Forward and reply counts are not on the preview (MTProto's `forwards`,
            # `replies.replies`): NULL, never 0.
            shares=None,
            comments=None,
        )

    def _record(
        self, username, message_id, title, published, text, meta, **counts
    ) -> NormalizedRecord:
        """The one record shape both paths build, so either path's record is the same row."""
        post_key = f"{username.lower()}/{message_id}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="post",
            # The preview's own key (data-post): MTProto's numeric channel id is in
            # raw_metadata, the key stays what both paths know.
            platform_id=post_key,
            published_at=published,
            url=f"https://t.me/{username}/{message_id}",
            text_content=text,
            language=None,
            author_platform_id=username.lower(),
            author_display_name=title or username,
            views_count=counts["views"],
            likes_count=counts["likes"],
            shares_count=counts["shares"],
            comments_count=counts["comments"],
            raw_metadata=meta,
            # One message is one record, whatever else repeats its text (forwards do).
            hash_source=post_key,
        )

    def _map_mtproto(
        self,
        message: Any,
        channel: ResolvedChannel,
        page: HistoryPage,
        whole: bool,
        request: CollectionRequest,
    ) -> NormalizedRecord:
        if not isinstance(message, types.Message):
            raise Skip  # a service message ("channel created", "pinned …"): no post
        if message.date is None:
            raise Reject(f"telegram message {message.id} without a date")
        published = message.date.astimezone(UTC)
        _keep(published, message.message, whole, request)
        reactions = _reactions(message.reactions)
        meta: dict[str, Any] = {
            "channel_id": channel.id,
            "channel_username": channel.username,
            "channel_title": channel.title,
            "channel_subscribers": channel.participants,
            "message_id": message.id,
            **_forwarded(message.fwd_from, page.chats),
            "reply_to_msg_id": getattr(message.reply_to, "reply_to_msg_id", None),
            "has_media": message.media is not None,
            "media_type": type(message.media).__name__ if message.media else None,
            "reactions": reactions,
            "edited": message.edit_date is not None,
            "edit_date": message.edit_date.astimezone(UTC).isoformat()
            if message.edit_date
            else None,
            # A signature is a person's name (the admin who posted): whether there is one,
            # never the name (the preview path keeps no sender names either).
            "signed": bool(message.post_author),
            "grouped_id": message.grouped_id,
            "via_bot_id": message.via_bot_id,
            "source": "mtproto",
        }
        return self._record(
            channel.username,
            message.id,
            channel.title,
            published,
            message.message,
            meta,
            views=message.views,
            likes=sum(r["count"] for r in reactions) or None,
            shares=message.forwards,
            comments=message.replies.replies if message.replies else None,
        )


def _undated_skips(post_keys: list[str]) -> list[SkippedSource]:
    """The preview's undated messages (matching and with text) as skipped sources."""
    return [
        SkippedSource(
            f"telegram message {key}",
            "undated",
            "the public preview showed this message without a date; not stored (a record "
            "dated by its collection would be stored again, dated, by MTProto)",
            f"/{key}",
        )
        for key in post_keys
    ]


def _keep(published, text: str | None, whole: bool, request: CollectionRequest) -> None:
    """Skip a message outside the window, without text (spec), or (unless its channel is
    an actor's, taken whole) not matching the design's terms."""
    if not in_window(published, request) or not text:
        raise Skip
    if not whole and not matches_groups(text, request.terms):
        raise Skip


def _reactions(reactions: Any) -> list[dict[str, Any]]:
    """[{emoji, count}] as the preview gives them; a custom emoji by its document id."""
    found = []
    for result in getattr(reactions, "results", None) or []:
        reaction = result.reaction
        if isinstance(reaction, types.ReactionEmoji):
            found.append({"emoji": reaction.emoticon, "count": result.count})
        elif isinstance(reaction, types.ReactionCustomEmoji):
            found.append({"custom_emoji_id": str(reaction.document_id), "count": result.count})
        else:
            found.append({"reaction": type(reaction).__name__, "count": result.count})
    return found


def _forwarded(header: Any, chats: dict[int, Any]) -> dict[str, Any]:
    """Where a forwarded message came from: a channel's id, post, date, name and link; a
    person it came from is not kept (neither id nor name)."""
    if header is None:
        return {"is_forwarded": False}
    source = header.from_id
    channel_id = source.channel_id if isinstance(source, types.PeerChannel) else None
    chat = chats.get(channel_id) if channel_id is not None else None
    username = getattr(chat, "username", None)
    return {
        "is_forwarded": True,
        "fwd_from_channel_id": str(channel_id) if channel_id is not None else None,
        "fwd_from_message_id": header.channel_post,
        "fwd_from_date": header.date.astimezone(UTC).isoformat() if header.date else None,
        "fwd_from_channel": username,
        "fwd_from_title": getattr(chat, "title", None),
        "fwd_from_url": f"https://t.me/{username}/{header.channel_post}"
        if username and header.channel_post
        else None,
    }
