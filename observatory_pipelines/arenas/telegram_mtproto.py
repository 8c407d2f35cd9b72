"""Telegram's own API (MTProto) through Telethon: a public channel's whole history.

An operator who has a Telegram account registers an app (``api_id``, ``api_hash`` on
my.telegram.org) and logs in once, interactively (phone code, 2FA), into a Telethon
StringSession; the three go into the credential pool as one ``telegram`` credential
(``docs/arenas.md`` has the snippet). A collection never logs in: it connects with the
session it was given, and a session Telegram no longer accepts (AUTH_KEY_UNREGISTERED,
SESSION_REVOKED, a banned account, API_ID_INVALID) is an ``ArenaAuthError``: the task
fails, the credential is flagged in the pool, the other arenas go on.

The data centre's address comes from the session (where the login left it) or, when set,
from the operator's ``TELEGRAM_MTPROTO_SERVER`` (``host:port``; tests point it at a local
fake DC): never from a design.

Telethon is asyncio; collectors are synchronous generators. ``MtprotoClient`` owns one
event loop per collect call and runs one request at a time on it (``run_until_complete``),
so the generator can hand a page to collection between two requests. Telethon's own
flood-wait sleeping is switched off (``flood_sleep_threshold=0``) so every FLOOD_WAIT
reaches this module: one of at most ``TELEGRAM_FLOOD_WAIT_MAX_SECONDS`` is waited out
exactly as Telegram says (spec: "must be honoured exactly") and the request sent again; a
longer one stops the run cleanly with what it has (``StopRun``). Requests are spaced 3 s
plus 1–3 s of jitter (the spec's baseline of 20 a minute), scaled by ARENA_RATE_LIMIT_SCALE.

History: ``contacts.resolveUsername`` once per channel, then ``messages.getHistory``
newest first from the window's end (``offset_date`` = date_to), 100 messages a page (the
most Telegram returns), each next page below the oldest id seen (``offset_id``), until a
page reaches back past the window's start, the channel's first message, an empty page, or
``max_pages``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telethon import TelegramClient, errors, functions, types
from telethon.sessions import StringSession

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    SourceFailed,
)
from observatory_pipelines.arenas.support import require

PAGE_SIZE = 100  # the most messages.getHistory returns
FLOOD_RETRIES = 3  # flood waits waited out for one request before giving up on it
JITTER_SECONDS = (1.0, 3.0)
CONNECT_TIMEOUT_SECONDS = 10
# One request's answer, past Telethon's own reconnects: a DC that never answers must not
# hang the task (Telethon waits for a reply without limit).
REQUEST_TIMEOUT_SECONDS = 120
CREDENTIAL_FIELDS = ("api_id", "api_hash", "session_string|session")
# Telegram's answers that mean the session or the app is no longer accepted: the
# credential's fault, never one channel's.
_REFUSED = (
    errors.UnauthorizedError,  # 401: AUTH_KEY_UNREGISTERED, SESSION_REVOKED, USER_DEACTIVATED…
    errors.AuthKeyError,  # 406 AUTH_KEY_DUPLICATED
    errors.ApiIdInvalidError,
    errors.ApiIdPublishedFloodError,
    errors.AuthKeyNotFound,  # the DC does not know the session's key at all
)
# One channel's answers: it is skipped by name and the others go on.
_CHANNEL_GONE = (
    errors.UsernameNotOccupiedError,
    errors.UsernameInvalidError,
    errors.ChannelPrivateError,
    errors.ChannelInvalidError,
)


class StopRun(ArenaError):
    """The run ends cleanly with what it has: a budget spent, or Telegram asks for a
    longer wait than the operator allows; ``reason`` goes into rate_limit_state."""

    def __init__(self, reason: str, message: str, **details: Any):
        super().__init__(message)
        self.reason = reason
        self.details = details


class ChannelUnavailable(SourceFailed):
    """One channel cannot be read (unknown name, private, not a channel, or an error
    Telegram gave for it alone): it is skipped and the others go on."""


@dataclass
class ResolvedChannel:
    id: int
    access_hash: int
    username: str  # as Telegram spells it (the post key lower-cases it)
    title: str | None
    participants: int | None


@dataclass
class HistoryPage:
    messages: list[Any]  # Telethon Message / MessageService objects, newest first
    chats: dict[int, Any] = field(default_factory=dict)  # chats the page names, by id


def mtproto_server() -> tuple[str, int] | None:
    """The operator's ``TELEGRAM_MTPROTO_SERVER`` override as (host, port), or None."""
    value = settings.telegram_mtproto_server()
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)  # Telethon's sessions hold an IP address, never a name
    except ValueError:
        host = ""
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ArenaError(
            "TELEGRAM_MTPROTO_SERVER must be an IP address and port (e.g. 127.0.0.1:4430 or "
            f"[::1]:4430), got {value!r}"
        )
    return host, int(port)


def _session(credentials: dict[str, Any]) -> tuple[int, str, StringSession]:
    api_id, api_hash, session_string = require(credentials, *CREDENTIAL_FIELDS, platform="telegram")
    if not api_id.strip().isdigit():
        raise ArenaAuthError("telegram: credential field 'api_id' is not a number")
    try:
        session = StringSession(session_string.strip())
    except Exception as exc:  # binascii, struct and ipaddress errors alike
        raise ArenaAuthError(
            "telegram: credential field 'session_string' is not a Telethon StringSession "
            f"({type(exc).__name__})"
        ) from None
    if session.auth_key is None:
        raise ArenaAuthError(
            "telegram: the pooled session_string holds no login (make it once with the "
            "operator's login snippet in docs/arenas.md)"
        )
    override = mtproto_server()
    if override is not None:
        session.set_dc(session.dc_id, *override)
    return int(api_id), api_hash, session


class MtprotoClient:
    """One logged-in Telethon client on its own event loop, one request at a time."""

    def __init__(self, credentials: dict[str, Any], state: dict[str, Any]):
        self.state = state  # the collector's rate_limit_state
        self.requests = 0
        self.budget: int | None = None
        self._spacing = 3.0 * settings.arena_rate_limit_scale()
        self._flood_wait_max = settings.telegram_flood_wait_max_seconds()
        self._last = 0.0
        api_id, api_hash, session = _session(credentials)
        self.where = f"{session.server_address}:{session.port}"
        self._loop = asyncio.new_event_loop()
        self._client: TelegramClient | None = None
        try:
            self._client = self._run(self._make(api_id, api_hash, session))
            self._run(self._client.connect(), "connect")
        except BaseException:
            self.close()
            raise

    @staticmethod
    async def _make(api_id: int, api_hash: str, session: StringSession) -> TelegramClient:
        return TelegramClient(
            session,
            api_id,
            api_hash,
            # Telethon moves a session whose address family differs to its default DC.
            use_ipv6=":" in session.server_address,
            receive_updates=False,  # a collector reads history; it never handles updates
            flood_sleep_threshold=0,  # every FLOOD_WAIT comes to call(), which decides
            connection_retries=2,
            retry_delay=1,
            request_retries=3,  # Telegram's internal errors (500) retried, 2 s apart
            raise_last_call_error=True,  # then its own error, not Telethon's ValueError
            timeout=CONNECT_TIMEOUT_SECONDS,
            device_model="Observatory Pipelines collector",
            app_version="observatory-pipelines",
            lang_code="da",
            system_lang_code="da",
        )

    def _run(self, awaitable: Any, what: str | None = None) -> Any:
        try:
            return self._loop.run_until_complete(awaitable)
        except _REFUSED as exc:
            raise ArenaAuthError(
                f"telegram: the pooled session was refused by Telegram ({_name(exc)}); the "
                "operator must log in again and replace the credential"
            ) from None
        except (TimeoutError, OSError) as exc:
            if what is None:
                raise
            raise ArenaError(
                f"telegram: cannot reach the MTProto server {self.where} during {what} "
                f"({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                self._loop.run_until_complete(_disconnect(client))
            except Exception:  # closing must never hide what went wrong before it
                pass
        if not self._loop.is_closed():
            self._loop.close()

    def call(self, request: Any) -> Any:
        """One RPC, spaced and counted; short flood waits waited out, long ones StopRun."""
        method = _method(request)
        for _attempt in range(FLOOD_RETRIES + 1):
            if self.budget is not None and self.requests >= self.budget:
                raise StopRun(
                    "max_requests",
                    f"request budget of {self.budget} requests (max_requests) spent",
                )
            self._space()
            self.requests += 1
            self.state["requests"] = self.requests
            try:
                return self._run(
                    asyncio.wait_for(self._client(request), REQUEST_TIMEOUT_SECONDS), method
                )
            except errors.FloodError as exc:
                seconds = int(getattr(exc, "seconds", 0) or 0)
                waits = self.state.setdefault("flood_waits", [])
                waits.append({"method": method, "seconds": seconds})
                if seconds > self._flood_wait_max:
                    raise StopRun(
                        "flood_wait",
                        f"Telegram asks for a {seconds} s wait before {method} ({_name(exc)}), "
                        f"longer than TELEGRAM_FLOOD_WAIT_MAX_SECONDS ({self._flood_wait_max})",
                        seconds=seconds,
                        method=method,
                    ) from None
                time.sleep(seconds)  # exactly what Telegram asked for (spec)
        raise StopRun(
            "flood_wait",
            f"Telegram kept asking for flood waits on {method} ({FLOOD_RETRIES} waited out)",
            method=method,
        )

    def _space(self) -> None:
        if self._spacing <= 0:
            return
        jitter = random.uniform(*JITTER_SECONDS) * settings.arena_rate_limit_scale()
        wait = self._last + self._spacing + jitter - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    # -- what a collection asks ----------------------------------------------------------

    def check_login(self) -> None:
        """updates.getState: the cheapest call that needs a logged-in account."""
        self.call(functions.updates.GetStateRequest())

    def _channel_call(self, request: Any, gone: str, failed: str) -> Any:
        """A call about one channel: Telegram's errors for it become ChannelUnavailable
        (``gone``: it has no public channel to read; ``failed``: anything else)."""
        try:
            return self.call(request)
        except _CHANNEL_GONE as exc:
            raise ChannelUnavailable(f"{gone} ({_name(exc)})", "http_error") from None
        except errors.RPCError as exc:
            raise ChannelUnavailable(f"{failed} ({_name(exc)})") from None

    def resolve(self, username: str) -> ResolvedChannel:
        found = self._channel_call(
            functions.contacts.ResolveUsernameRequest(username=username),
            "Telegram knows no public channel by it",
            "resolving it failed",
        )
        peer = found.peer
        chat = next(
            (
                c
                for c in found.chats
                if isinstance(c, types.Channel) and c.id == getattr(peer, "channel_id", None)
            ),
            None,
        )
        if chat is None or chat.access_hash is None:
            raise ChannelUnavailable(
                "the name belongs to a user or a group, not a channel", "http_error"
            )
        names = [u.username for u in (chat.usernames or []) if u.active]
        return ResolvedChannel(
            id=chat.id,
            access_hash=chat.access_hash,
            username=chat.username or (names[0] if names else username),
            title=chat.title,
            participants=chat.participants_count,
        )

    def history(
        self, channel: ResolvedChannel, request: CollectionRequest, max_pages: int
    ) -> Iterator[HistoryPage]:
        """Pages of the channel's messages, newest first, from the window's end back to
        its start (or the channel's first message, or ``max_pages``)."""
        peer = types.InputPeerChannel(channel.id, channel.access_hash)
        offset_id, offset_date = 0, request.date_to
        for _ in range(max_pages):
            get_history = functions.messages.GetHistoryRequest(
                peer=peer,
                offset_id=offset_id,
                offset_date=offset_date,
                add_offset=0,
                limit=PAGE_SIZE,
                max_id=0,
                min_id=0,
                hash=0,
            )
            result = self._channel_call(
                get_history, "its history cannot be read", "reading its history failed"
            )
            messages = [
                m for m in result.messages if isinstance(m, types.Message | types.MessageService)
            ]
            yield HistoryPage(messages, {c.id: c for c in getattr(result, "chats", [])})
            if not messages:
                return  # an empty page: nothing older
            oldest = min(messages, key=lambda m: m.id)
            if _aware(oldest.date) < request.date_from or oldest.id <= 1:
                return  # the window's start, or the channel's first message
            if offset_id and oldest.id >= offset_id:
                return  # the page did not move back: never ask the same page twice
            offset_id, offset_date = oldest.id, oldest.date


async def _disconnect(client: TelegramClient) -> None:
    result = client.disconnect()
    if result is not None:
        await result


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _method(request: Any) -> str:
    """``messages.GetHistory`` for a GetHistoryRequest: the name rate_limit_state shows."""
    namespace = type(request).__module__.rsplit(".", 1)[-1]
    name = type(request).__name__.removesuffix("Request")
    return name if namespace == "functions" else f"{namespace}.{name}"


def _name(exc: BaseException) -> str:
    """Telegram's error name (``CHANNEL_PRIVATE``), never the request's content.

    Telethon raises a class per known error (ChannelPrivateError, its ``message`` only the
    category "BAD_REQUEST"), so the name is the class's; an error it does not know arrives
    as a base class (``RPCError``, ``BadRequestError``) whose ``message`` is Telegram's."""
    if type(exc).__module__.endswith("rpcbaseerrors"):
        return str(getattr(exc, "message", None) or type(exc).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removesuffix("Error")).upper()
