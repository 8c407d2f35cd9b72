"""Twitch: what the Helix API gives without chat history — channels found by the design's
terms, live streams, VODs (videos) and clips of the channels the design names.

Auth (Twitch's docs, "Client credentials grant flow"): the pooled credential's
``client_id`` + ``client_secret`` are POSTed (form body, never a query string) to
``{TWITCH_AUTH_URL}/oauth2/token`` with ``grant_type=client_credentials``; the app access
token goes out as ``Authorization: Bearer`` with ``Client-Id`` on every Helix request. A
401 from Helix fetches a new token and asks once more; a second 401 (or the token
endpoint refusing the client) is an ArenaAuthError: the task fails and the credential is
flagged in the pool, the other arenas go on.

Terms: ``GET /search/channels?query=&first=100&after=`` per AND-group (Twitch's search
is loose: the channel's stream title and name are re-matched on the client, and its
``broadcaster_language`` must be one the design keeps), and Danish (the design's
languages') live streams, ``GET /streams?language=da&first=100``, whose titles match.
Channels (``channels``: logins; or the design's actors): ``GET /users?login=`` resolves
them (an unknown login is skipped with its name in the task's errors), then their live
streams (``GET /streams?user_id=``), ``GET /videos?user_id=&type=all&sort=time`` (newest
first, stopped past the window's start) and ``GET /clips?broadcaster_id=&started_at=
&ended_at=`` (the window sent; Twitch orders clips by views). All paged by
``pagination.cursor`` → ``after``, at most ``max_pages`` pages a source.

Limits: 800 points a minute per app token (Twitch's docs), every request costs 1 point:
requests are spaced 0.075 s. ``Ratelimit-Remaining`` at 0 waits until ``Ratelimit-Reset``
(epoch seconds) before the next request, or, when that is longer than
ARENA_HTTP_MAX_WAIT, stops the run with what it has (``rate_limit_state.stopped``). A 429
waits until ``Ratelimit-Reset`` through the shared client's retries.

Cannot collect: chat (Helix has no chat history; chat exists only live, through EventSub
``channel.chat.message`` with a user token, or IRC), deleted or expired VODs (Twitch keeps
past broadcasts 7-60 days), streams that ended before the run (Get Streams lists only live
ones), viewer counts over time, and clips beyond Twitch's 1,000 per query.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
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
from observatory_pipelines.arenas.matching import matches_groups, term_groups
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
from observatory_pipelines.arenas.text import clean_str
from observatory_pipelines.arenas.twitch_items import (
    channel_record,
    clip_record,
    stream_record,
    video_record,
)
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

DEFAULT_API_URL = "https://api.twitch.tv/helix"
DEFAULT_AUTH_URL = "https://id.twitch.tv"
PAGE_SIZE = 100  # the most any of these endpoints returns a page
USERS_PER_REQUEST = 100  # Get Users and Get Streams take up to 100 logins/ids
DEFAULT_MAX_PAGES = 5
KINDS = ("channels", "streams", "videos", "clips")
# Twitch logins: 4-25 letters, digits or underscores (older accounts: from 1 character).
LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


def channel_login(value: Any) -> str:
    """A design's channel as a Twitch login (lower case), or ArenaOptionError naming it."""
    text = value.strip().lower().lstrip("@") if isinstance(value, str) else ""
    if LOGIN.match(text):
        return text
    if "/" in text or "." in text or ":" in text:
        raise ArenaOptionError(
            f"arenas.twitch.channels names {value!r}: a URL or host name; give the channel's "
            "login (the name in twitch.tv/<login>): the host comes from the operator's "
            "TWITCH_API_URL"
        )
    raise ArenaOptionError(
        f"arenas.twitch.channels names {value!r}: not a Twitch login "
        "(letters, digits and underscores, at most 25)"
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reset_wait(response: httpx.Response) -> float | None:
    """Seconds until ``Ratelimit-Reset`` (epoch seconds), for a 429 without Retry-After."""
    try:
        reset = float(response.headers["ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    return max(0.0, reset - time.time())


class _Stop(Exception):
    """The token's points are spent for longer than the operator lets the run wait."""


@register
class TwitchCollector(Collector):
    platform = "twitch"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = True
    credential_fields = ("client_id", "client_secret")
    max_records_per_run = 10_000
    option_specs = (
        ArenaOption(
            "channels",
            "list of strings",
            [],
            "Twitch logins (the name in twitch.tv/<login>) whose live stream, VODs and clips "
            "in the window are taken whole; never URLs",
        ),
        ArenaOption(
            "include",
            "list of strings",
            list(KINDS),
            "what to collect: channels (search by the terms), streams (live), videos (VODs), clips",
        ),
        ArenaOption(
            "max_pages",
            "int",
            DEFAULT_MAX_PAGES,
            "pages of 100 per source (a term's search, a channel's videos or clips)",
        ),
        ArenaOption(
            "languages",
            "list of strings",
            None,
            "broadcaster languages kept for term matches (default: the design's language)",
        ),
    )
    min_request_interval = 0.075  # 800 points a minute per app token
    quota = "800 points/min per app token (Ratelimit-Remaining/-Reset honoured); no daily quota"
    host_setting = "TWITCH_API_URL"

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.check_list(options, "channels", "logins", channel_login)
        include = options.get("include")
        if include is not None:
            if not isinstance(include, list) or not include:
                raise ArenaOptionError(
                    f"arenas.twitch.include must be a non-empty list of {', '.join(KINDS)}"
                )
            unknown = [k for k in include if k not in KINDS]
            if unknown:
                raise ArenaOptionError(
                    f"arenas.twitch.include: unknown kind(s) {', '.join(map(str, unknown))} "
                    f"(accepted: {', '.join(KINDS)})"
                )
        cls.check_counts(options, "max_pages")
        cls.check_list(options, "languages", "language codes")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.twitch_api_url() or DEFAULT_API_URL).rstrip("/")
        self.auth_url = (settings.twitch_auth_url() or DEFAULT_AUTH_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            rate_reset_wait=_reset_wait,
        )
        self.http._client.event_hooks["response"].append(self._observe)
        self._token: str | None = None
        self._points: tuple[int, float] | None = None  # (remaining, reset epoch seconds)

    def close(self) -> None:
        self.http.close()

    # -- token and requests --------------------------------------------------------------

    def _observe(self, response: httpx.Response) -> None:
        """Every Helix response, retried 429s included: the token's points left."""
        try:
            remaining = int(response.headers["ratelimit-remaining"])
            reset = float(response.headers["ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self._points = (remaining, reset)

    def _fetch_token(self) -> str:
        client_id, secret = require(
            self.credentials, "client_id", "client_secret", platform=self.platform
        )
        url = f"{self.auth_url}/oauth2/token"
        self.rate_limit_state["token_requests"] = (
            int(self.rate_limit_state.get("token_requests", 0)) + 1
        )
        response = self.http.post(
            url,
            data={
                "client_id": client_id,
                "client_secret": secret,
                "grant_type": "client_credentials",
            },
        )
        if response.status_code in (400, 401, 403):
            raise ArenaAuthError(
                f"twitch: the client credentials were refused (HTTP {response.status_code} "
                f"from {describe(url)}); the credential is flagged in the pool"
            )
        body = self._json(response, "twitch token")
        token = clean_str(body.get("access_token")) if isinstance(body, dict) else None
        if not token:
            raise ArenaError(f"twitch: the token reply from {describe(url)} holds no access_token")
        return token

    def _wait_for_points(self) -> None:
        if self._points is None:
            return
        remaining, reset = self._points
        wait = reset - time.time()
        if remaining > 0 or wait <= 0:
            return
        if wait > self.http.max_wait:
            raise _Stop(
                f"the app token's rate-limit points are spent for {wait:.0f} s (longer than "
                "ARENA_HTTP_MAX_WAIT)"
            )
        log.info("twitch.points_wait", wait_s=round(wait, 3))
        time.sleep(wait)

    def _get(self, path: str, params: Any, what: str) -> dict[str, Any]:
        """One Helix request's JSON object; a 401 is answered with one fresh token."""
        (client_id,) = require(self.credentials, "client_id", platform=self.platform)
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._fetch_token()
            self._wait_for_points()
            try:
                response = self.http.get(
                    f"{self.base_url}{path}",
                    params=params,
                    headers={"Client-Id": client_id, "Authorization": f"Bearer {self._token}"},
                )
            finally:
                self.units_spent += 1
            if response.status_code != 401:
                break
            self._token = None  # expired or revoked: a new one is asked for once
            if attempt == 2:
                raise ArenaAuthError(
                    f"twitch: the app access token was refused twice (HTTP 401 from "
                    f"{describe(str(response.request.url))}, a fresh token included); the "
                    "credential is flagged in the pool"
                )
            self.rate_limit_state["token_refreshes"] = (
                int(self.rate_limit_state.get("token_refreshes", 0)) + 1
            )
        body = self._json(response, what)
        if not isinstance(body, dict):
            raise SourceFailed(f"{what}: the reply is not a JSON object", "unparseable")
        return body

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        status, where = response.status_code, describe(str(response.request.url))
        kind = response.headers.get("content-type", "unknown type").split(";")[0].strip()
        if "html" in kind.lower() or response.content.lstrip()[:1] == b"<":
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is an HTML page ({kind}) where JSON was "
                "expected",
                "not_a_feed" if status < 400 else "http_error",
            )
        try:
            body = response.json()
        except ValueError:
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not valid JSON ({kind})", "unparseable"
            ) from None
        if status >= 400:
            said = clean_str(body.get("message"), 200) if isinstance(body, dict) else None
            raise SourceFailed(
                f"{what}: HTTP {status} from {where}" + (f" ({said})" if said else ""),
                "http_error",
            )
        return body

    # -- what to ask ---------------------------------------------------------------------

    @staticmethod
    def _options(request: CollectionRequest) -> dict[str, Any]:
        return dict(request.options or {})

    def _include(self, request: CollectionRequest) -> set[str]:
        return set(self._options(request).get("include") or KINDS)

    def _max_pages(self, request: CollectionRequest) -> int:
        return int(self._options(request).get("max_pages") or DEFAULT_MAX_PAGES)

    def _logins(self, request: CollectionRequest) -> list[str]:
        values = list(self._options(request).get("channels") or [])
        values += [a.platform_username for a in request.actors if a.platform_username]
        return list(dict.fromkeys(channel_login(v) for v in values))

    def _languages(self, request: CollectionRequest) -> list[str]:
        wanted = self._options(request).get("languages")
        if wanted is None:
            wanted = [request.language] if request.language else []
        return [str(w).strip().lower() for w in wanted if str(w).strip()]

    def estimate_units(self, request: CollectionRequest) -> int:
        try:
            logins = len(self._logins(request))
        except ArenaOptionError:
            return 0
        include, pages = self._include(request), min(self._max_pages(request), 2)
        units = 0
        if request.terms:
            units += len(term_groups(request.terms)) * pages * ("channels" in include)
            units += len(self._languages(request) or [None]) * pages * ("streams" in include)
        if logins:
            batches = -(-logins // USERS_PER_REQUEST)
            units += batches * (1 + ("streams" in include))
            units += logins * pages * (("videos" in include) + ("clips" in include))
        return units

    def health_check(self) -> HealthStatus:
        """A token, then ``GET /games/top?first=1``: are credentials and API there."""
        try:
            self._get("/games/top", {"first": 1}, "twitch health")
        except (ArenaError, _Stop) as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="token granted, Helix answers")

    # -- collection ----------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        include = self._include(request)
        logins = self._logins(request)
        groups = term_groups(request.terms)
        if not logins and not groups:
            raise ArenaError(
                "twitch: nothing to collect; give the design search terms or name channels "
                "in arenas.twitch.channels"
            )
        require(self.credentials, "client_id", "client_secret", platform=self.platform)
        self._remaining = record_cap(self, request)
        self._wanted = self._languages(request)
        self._seen: set[str] = set()
        tally = SourceTally(self.platform)
        sources: list[tuple[str, Callable[[], Iterator[Page]]]] = []
        if "channels" in include:
            for group in groups:
                label = " ".join(" ".join(t.term.split()) for t in group)
                sources.append(
                    (f"twitch search {label!r}", self._search_source(label, group, request))
                )
        if "streams" in include and groups:
            for language in self._wanted or [None]:
                name = f"twitch live streams ({language or 'all languages'})"
                sources.append((name, self._live_source(name, language, request)))
        if logins:
            sources.append(("twitch channels", self._channels_source(logins, include, request)))
        for index, (name, source) in enumerate(sources):
            if self._remaining <= 0:
                break
            tally.tried += 1
            try:
                yield from self._guarded(name, source, tally)
            except _Stop as stop:
                yield self._stopped(stop, [n for n, _ in sources[index:]], tally)
                break
        tally.finish()

    def _guarded(self, name: str, source, tally: SourceTally) -> Iterator[Page]:
        try:
            for page in source():
                if page.errors:  # one channel (or one of its kinds) skipped inside a source
                    tally.failed.extend(page.errors)
                    yield page
                else:
                    yield tally.ok(page)
        except SourceFailed as exc:
            text = str(exc)
            message = text if text.startswith(name) else f"{name}: {text}"
            tally.failed.append(message)
            yield failed_source(message, exc.reason)

    def _stopped(self, stop: _Stop, left: list[str], tally: SourceTally) -> Page:
        message = f"twitch: {stop}; collection stopped with what it had"
        self.rate_limit_state["stopped"] = {
            "reason": "rate_limited",
            "requests": self.units_spent,
            "sources_not_finished": left,
        }
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[SkippedSource(n, "rate_limited", message) for n in left],
        )

    def _paged(
        self,
        path: str,
        params: dict[str, Any],
        what: str,
        mapper: Callable[[Any], NormalizedRecord],
        max_pages: int,
        past_window: Callable[[list[Any]], bool] = lambda items: False,
    ) -> Iterator[Page]:
        """Pages of one source by ``pagination.cursor``; stops at no cursor, an empty page,
        ``max_pages`` (noted in ``rate_limit_state.truncated``) or ``past_window``."""
        after: str | None = None
        for _ in range(max_pages):
            if self._remaining <= 0:
                return
            query = {**params, "first": PAGE_SIZE, **({"after": after} if after else {})}
            body = self._get(path, query, what)
            items = body.get("data")
            if not isinstance(items, list):
                raise SourceFailed(f"{what}: the reply holds no data list", "unparseable")
            page = map_page(items, mapper, seen=self._seen, limit=self._remaining)
            self._remaining -= len(page.records)
            yield page
            pagination = body.get("pagination")
            after = clean_str(pagination.get("cursor")) if isinstance(pagination, dict) else None
            if not items or not after or past_window(items):
                return
        self.rate_limit_state.setdefault("truncated", []).append(
            f"{what}: stopped at max_pages={max_pages}"
        )

    def _count(self, key: str) -> None:
        self.rate_limit_state[key] = int(self.rate_limit_state.get(key, 0)) + 1

    def _language_ok(self, record: NormalizedRecord) -> bool:
        if record.language and self._wanted and record.language not in self._wanted:
            self._count("language_filtered")
            return False
        return True

    def _search_source(self, label: str, group, request: CollectionRequest):
        def mapper(item: Any) -> NormalizedRecord:
            record = channel_record(item)
            if not self._language_ok(record):
                raise Skip
            if not matches_groups(f"{record.text_content or ''}\n{record.title or ''}", group):
                self._count("term_mismatch")  # Twitch's channel search is loose
                raise Skip
            return record

        def pages() -> Iterator[Page]:
            yield from self._paged(
                "/search/channels",
                {"query": label},
                f"twitch search {label!r}",
                mapper,
                self._max_pages(request),
            )

        return pages

    def _live_source(self, name: str, language: str | None, request: CollectionRequest):
        def mapper(item: Any) -> NormalizedRecord:
            record = stream_record(item)
            if not in_window(record.published_at, request):
                self._count("outside_window")
                raise Skip
            if not matches_groups(record.text_content, request.terms):
                raise Skip  # a live stream whose title names none of the terms
            return record

        def pages() -> Iterator[Page]:
            params = {"type": "live", **({"language": language} if language else {})}
            yield from self._paged("/streams", params, name, mapper, self._max_pages(request))

        return pages

    def _channels_source(self, logins: list[str], include: set[str], request):
        def windowed(build: Callable[[Any], NormalizedRecord]):
            def mapper(item: Any) -> NormalizedRecord:
                record = build(item)
                if not in_window(record.published_at, request):
                    self._count("outside_window")
                    raise Skip
                return record

            return mapper

        def older_than_window(items: list[Any]) -> bool:
            dates = [video_record(i).published_at for i in items if isinstance(i, dict)
                     and i.get("id")]  # fmt: skip
            dates = [d for d in dates if d is not None]
            return bool(dates) and min(dates) < request.date_from

        def pages() -> Iterator[Page]:
            users = yield from self._resolve(logins)
            max_pages = self._max_pages(request)
            if "streams" in include and users:
                ids = list(users)
                for start in range(0, len(ids), USERS_PER_REQUEST):
                    yield from self._paged(
                        "/streams",
                        {"user_id": ids[start : start + USERS_PER_REQUEST]},
                        "twitch channels' live streams",
                        windowed(stream_record),
                        1,
                    )
            for user_id, login in users.items():
                if self._remaining <= 0:
                    return
                label = f"twitch channel {login}"
                for kind, path, params, build, stop in (
                    ("videos", "/videos", {"user_id": user_id, "type": "all", "sort": "time"},
                     video_record, older_than_window),
                    ("clips", "/clips", {"broadcaster_id": user_id,
                     "started_at": _rfc3339(request.date_from),
                     "ended_at": _rfc3339(request.date_to)}, clip_record, lambda items: False),
                ):  # fmt: skip
                    if kind not in include:
                        continue
                    try:
                        yield from self._paged(
                            path, params, f"{label} {kind}", windowed(build), max_pages, stop
                        )
                    except SourceFailed as exc:
                        yield failed_source(f"{label} {kind}: {exc}", exc.reason)

        return pages

    def _resolve(self, logins: list[str]):
        """Logins → {user id: login} through Get Users; unknown logins are skipped pages.

        A generator returning the mapping (``yield from`` gives it): the skip pages go out
        on the way."""
        users: dict[str, str] = {}
        for start in range(0, len(logins), USERS_PER_REQUEST):
            batch = logins[start : start + USERS_PER_REQUEST]
            body = self._get("/users", {"login": batch}, "twitch users")
            found = {}
            for item in body.get("data") or []:
                if isinstance(item, dict) and item.get("id") and item.get("login"):
                    found[str(item["login"]).lower()] = str(item["id"])
            for login in batch:
                if login in found:
                    users[found[login]] = login
                else:
                    yield failed_source(
                        f"twitch channel {login}: Twitch has no user with this login "
                        "(renamed, banned or never existed); skipped",
                        "http_error",
                    )
        return users
