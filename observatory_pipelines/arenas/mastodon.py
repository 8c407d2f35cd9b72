"""Mastodon (and other Mastodon-API servers): tag timelines, search, actors' statuses.

Per instance the design names (default: MASTODON_DEFAULT_INSTANCES, a curated Danish list
plus mastodon.social): ``GET /api/v1/instance`` first (an instance that does not answer as
a Mastodon-API server is skipped, named in the task's errors), then per term group

- the tag timeline ``/api/v1/timelines/tag/{tag}`` of the group's hashtag, else of its
  one-word keyword (Danish debate tags its words: #grønland), other terms of the group
  matched client-side, further hashtags as ``all[]``;
- with a token for that instance, ``/api/v2/search?type=statuses`` as well. Mastodon's
  own SearchService answers statuses only to a *user* token on an instance that runs
  Elasticsearch (``full_text_searchable?`` needs an account): anonymous search finds no
  statuses at all, which is stricter than the spec's "offset/resolve need a token". A
  phrase with neither a tag nor a token is skipped, said once in the errors.

Actors (``user@host``, ``@user@host`` or a profile URL): ``/api/v1/accounts/lookup`` on
the account's home instance, then ``/api/v1/accounts/{id}/statuses``.

Paging follows the Link header's rel="next" ``max_id`` (the boundary may lie outside the
returned items), never its URL: the next request goes to the configured instance again.
The first request starts at the window's end (ids are millisecond timestamps << 16);
paging stops past ``date_from``. Rate limits: ``X-RateLimit-Remaining``/``-Reset`` per
instance in ``rate_limit_state["instances"]``; a spent budget waits for the reset, or,
when that is further off than ARENA_HTTP_MAX_WAIT, stops that instance cleanly (reason
``rate_limited`` on the task, ``stopped`` in its state) and goes on with the others.

Tokens: optional, from the credential pool: one credential mapping instance host names to
access tokens (``{"helvede.net": "...", "mastodon.social": "..."}``, or ``instance`` +
``access_token``); a token is only ever sent to its own instance.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
    SearchTerm,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, error_detail
from observatory_pipelines.arenas.mastodon_support import (
    InstanceRefused,
    instance_host,
    next_max_id,
    resolve_public,
    snowflake_id,
    split_acct,
    status_text,
)
from observatory_pipelines.arenas.matching import matches_groups, term_groups
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
from observatory_pipelines.arenas.text import (
    clean_str,
    declared_language,
    parse_datetime,
    plausible_date,
    to_int,
)
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

PAGE_SIZE = 40  # the API's maximum for timelines, search and account statuses
MAX_EXTRA_TAGS = 4  # any[]/all[]/none[] together take at most four more tags
DEFAULT_TEMPLATE = "https://{host}"
# Tags Danish posters add whatever language their client declares (often "en" by default).
DANISH_TAGS = (
    "dkpol",
    "danmark",
    "denmark",
    "dkmedier",
    "dkgreen",
    "dkbiz",
    "dkklima",
    "dkkultur",
    "dkdebat",
    "dksport",
    "dkøko",
    "københavn",
    "aarhus",
    "odense",
)
# Remaining requests below which we wait for the reset instead of running into 429s.
RESERVE = 1


class _NoStatuses(ArenaError):
    """The instance offers no such feed (unknown tag, search unavailable): nothing to collect."""


def _option_list(options: dict[str, Any], name: str) -> list[str] | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple):
        raise ArenaOptionError(f"arenas.mastodon.{name} must be a list of strings")
    return [str(v) for v in value]


def _tag_of(term: SearchTerm) -> str | None:
    """The term as a hashtag name when it can be one (letters, digits, underscore)."""
    text = term.term.strip().lstrip("#")
    if term.term_type == "phrase" or not text or not all(c.isalnum() or c == "_" for c in text):
        return None
    return text.lower()


def _reset_seconds(response: httpx.Response) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (an ISO time on Mastodon; seconds elsewhere)."""
    raw = response.headers.get("x-ratelimit-reset")
    if not raw:
        return None
    number = to_int(raw)
    if number is not None and "-" not in raw:
        return float(max(number, 0))
    when = parse_datetime(raw)
    if when is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@register
class MastodonCollector(Collector):
    platform = "mastodon"
    arena = "social_media"
    supported_tiers = ("free",)
    needs_credentials = False
    credentials_optional = True
    max_records_per_run = 20_000
    option_specs = (
        ArenaOption(
            "instances",
            "list of strings",
            None,
            "instance host names (https only, public hosts); default: the operator's "
            "MASTODON_DEFAULT_INSTANCES (" + ", ".join(settings.MASTODON_DEFAULT_INSTANCES) + ")",
        ),
        ArenaOption(
            "local_only", "bool", False, "only posts made on each instance itself (local=true)"
        ),
        ArenaOption(
            "search", "bool", True, "also full-text search where the instance's token allows it"
        ),
        ArenaOption(
            "languages",
            "list of strings",
            None,
            "declared languages kept (posts declaring none are kept); default: the design's "
            "language; [] keeps every language",
        ),
        ArenaOption(
            "danish_tags",
            "list of strings",
            list(DANISH_TAGS),
            "posts with one of these tags are kept whatever language they declare (Danish designs)",
        ),
        ArenaOption(
            "include_noindex",
            "bool",
            False,
            "also keep posts of accounts that ask not to be indexed",
        ),
        ArenaOption("exclude_replies", "bool", False, "actors: leave out their replies"),
        ArenaOption("exclude_reblogs", "bool", False, "actors: leave out their boosts"),
        ArenaOption(
            "window_ids",
            "bool",
            True,
            "start at the window's end by id (Mastodon's and Gab's ids are timestamps); "
            "false for servers whose ids are not (Pleroma, Akkoma)",
        ),
        ArenaOption(
            "max_pages", "int", 25, "pages of 40 posts per feed and instance (a bound per run)"
        ),
    )
    # 300 requests / 5 minutes per IP for /api/* by default: one a second per instance.
    min_request_interval = 1.0
    quota = (
        "300 requests / 5 minutes per IP on each instance (X-RateLimit-* headers): a spent "
        "budget waits for its reset or stops that instance for the run"
    )
    host_setting = "MASTODON_INSTANCE_URL_TEMPLATE"

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        for host in _option_list(options, "instances") or []:
            instance_host(host)  # InstanceRefused names the host and why
        pages = options.get("max_pages")
        if pages is not None and (not isinstance(pages, int) or pages < 1):
            raise ArenaOptionError("arenas.mastodon.max_pages must be a whole number of at least 1")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.template = settings.mastodon_instance_url_template()
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            retry_after_default=60,
            rate_reset_wait=_reset_seconds,
        )
        self.tokens = self._tokens(self.credentials)
        self._checked: dict[str, str | None] = {}  # host -> None (fine) or why it is skipped
        self._spent: dict[str, str] = {}  # host -> why its rate limit stops it for this run

    @staticmethod
    def _tokens(credentials: dict[str, Any]) -> dict[str, str]:
        tokens: dict[str, str] = {}
        for key, value in (credentials or {}).items():
            if "." in str(key) and value:
                tokens[str(key).lower()] = str(value)
        if credentials.get("instance") and credentials.get("access_token"):
            tokens[str(credentials["instance"]).lower()] = str(credentials["access_token"])
        return tokens

    # -- hosts ---------------------------------------------------------------------------

    def _instances(self, request: CollectionRequest) -> list[str]:
        given = _option_list(request.options or {}, "instances")
        names = given if given else list(settings.mastodon_default_instances())
        return list(dict.fromkeys(instance_host(n) for n in names))

    def _base(self, host: str) -> str:
        return self.template.format(host=host).rstrip("/")

    def _refusal(self, host: str) -> str | None:
        """Why ``host`` may not be called (allow-list, private address), or None."""
        if host not in self._checked:
            why = None
            allowed = settings.mastodon_allowed_instances()
            if allowed and host not in allowed:
                why = "not on the operator's MASTODON_ALLOWED_INSTANCES"
            elif self.template == DEFAULT_TEMPLATE:
                try:  # the real network: the name must not lead to an internal address
                    resolve_public(host)
                except InstanceRefused as exc:
                    why = str(exc)
            self._checked[host] = why
        return self._checked[host]

    # -- requests ------------------------------------------------------------------------

    def _call(self, host: str, path: str, params: dict[str, Any], what: str) -> httpx.Response:
        """One API request to ``host``; 401/403 raise (auth error when our token was refused)."""
        if host in self._spent:  # its budget ran out earlier in this run: ask no more
            raise SourceFailed(self._spent[host], "rate_limited")
        headers = {}
        token = self.tokens.get(host)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.get(f"{self._base(host)}{path}", params=params, headers=headers)
        self.units_spent += 1
        self._note_limits(host, response)
        status = response.status_code
        if status in (401, 403):
            where = f"HTTP {status} from {describe(str(response.request.url))}"
            if token:
                raise ArenaAuthError(
                    f"mastodon {what}: the access token for {host} was refused ({where}"
                    f"{error_detail(response)})"
                )
            raise SourceFailed(
                f"mastodon {what}: {host} asks for a token ({where}); add one for it to the "
                "credential pool",
                "http_error",
            )
        return response

    def _json(self, response: httpx.Response, what: str) -> Any:
        status = response.status_code
        where = f"HTTP {status} from {describe(str(response.request.url))}"
        kind = response.headers.get("content-type", "unknown type").split(";")[0].strip()
        if status >= 400:
            raise SourceFailed(f"mastodon {what}: {where}{error_detail(response)}", "http_error")
        if "html" in kind.lower() or response.content.lstrip()[:1] == b"<":
            raise SourceFailed(
                f"mastodon {what}: {where} is an HTML page ({kind}), not the JSON expected",
                "not_a_feed",
            )
        try:
            return response.json()
        except ValueError:
            raise SourceFailed(
                f"mastodon {what}: {where} is not valid JSON ({kind})", "unparseable"
            ) from None

    def _note_limits(self, host: str, response: httpx.Response) -> None:
        """Keep the instance's budget; wait for its reset when (almost) spent."""
        headers = response.headers
        remaining = to_int(headers.get("x-ratelimit-remaining"))
        entry = self.rate_limit_state.setdefault("instances", {}).setdefault(host, {})
        for name in ("limit", "remaining", "reset"):
            value = headers.get(f"x-ratelimit-{name}")
            if value is not None:
                entry[name] = value
        if remaining is None or remaining > RESERVE or response.status_code == 429:
            return
        wait = _reset_seconds(response) or 0.0
        if wait > self.http.max_wait:
            # This reply is still used; the next request to the instance is not sent.
            entry["stopped"] = f"rate limit spent until {headers.get('x-ratelimit-reset')}"
            self._spent[host] = (
                f"mastodon {host}: rate limit spent ({headers.get('x-ratelimit-limit')} requests "
                f"a window) until {headers.get('x-ratelimit-reset')}; the rest of {host} is "
                "left for the next run"
            )
            return
        if wait > 0:
            log.info("mastodon.rate_limit_wait", host=host, wait_s=round(wait, 3))
            time.sleep(wait)

    # -- estimate and health -------------------------------------------------------------

    def estimate_units(self, request: CollectionRequest) -> int:
        try:
            instances = len(self._instances(request))
        except ArenaOptionError:
            instances = 0
        pages = max(1, min(-(-record_cap(self, request) // PAGE_SIZE), 10))
        groups = len(term_groups(request.terms))
        return instances * (1 + groups * pages) + len(request.actors) * (1 + pages)

    def health_check(self) -> HealthStatus:
        host = settings.mastodon_default_instances()[0]
        try:
            body = self._json(self._call(host, "/api/v1/instance", {}, "instance"), "instance")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        version = body.get("version") if isinstance(body, dict) else None
        return HealthStatus(ok=bool(version), detail=f"{host} answers, version {version}")

    # -- collection ----------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        self._remaining = record_cap(self, request)
        self._seen: set[str] = set()
        tally = SourceTally(self.platform)
        instances = self._instances(request)
        groups = term_groups(request.terms)
        unsearchable: set[str] = set()
        for host in instances:
            if self._remaining <= 0:
                break
            tally.tried += 1
            failure = self._check_instance(host)
            if failure is not None:
                yield self._fail(tally, *failure)
                continue
            try:
                for group in groups:
                    if self._remaining <= 0:
                        break
                    yield from self._group(host, group, request, tally, unsearchable)
            except _Stop as stop:  # the instance's budget is spent: the others go on
                yield self._fail(tally, str(stop.failure), stop.failure.reason)
        for label in sorted(unsearchable):
            yield self._fail(
                tally,
                f"mastodon {label}: a phrase needs full-text search, which Mastodon gives only "
                "to a user token (none in the pool for these instances); add the term as a "
                "hashtag or a token",
                "error",
            )
        for actor in request.actors:
            if self._remaining <= 0:
                break
            name = actor.platform_username or actor.platform_user_id
            if name:
                tally.tried += 1
                yield from self._actor(name, instances, request, tally)
        tally.finish()

    @staticmethod
    def _fail(tally: SourceTally, message: str, reason: str = "error") -> Page:
        tally.failed.append(message)
        return failed_source(message, reason)

    def _check_instance(self, host: str) -> tuple[str, str] | None:
        """None when ``host`` answers as a Mastodon-API server, else (message, reason)."""
        why = self._refusal(host)
        if why is not None:
            return f"mastodon instance {host}: skipped, {why}", "error"
        try:
            body = self._json(self._call(host, "/api/v1/instance", {}, f"instance {host}"), host)
        except ArenaAuthError:
            raise
        except SourceFailed as exc:
            return f"mastodon instance {host}: skipped, {exc}", exc.reason
        except ArenaError as exc:
            return f"mastodon instance {host}: skipped, {exc}", "error"
        if not isinstance(body, dict) or not (body.get("uri") or body.get("domain")):
            return f"mastodon instance {host}: skipped, not a Mastodon-API server", "unparseable"
        return None

    def _group(self, host, group, request, tally, unsearchable) -> Iterator[Page]:
        options = request.options or {}
        tags = [t for t in (_tag_of(term) for term in group if term.term_type == "hashtag") if t]
        if not tags:
            tags = [t for t in (_tag_of(term) for term in group) if t][:1]
        label = " ".join(t.term for t in group)
        searchable = bool(self.tokens.get(host)) and options.get("search", True)
        if searchable and any(t.term_type != "hashtag" for t in group):
            query = " ".join(
                f'"{t.term}"' if " " in t.term.strip() else t.term.strip() for t in group
            )
            yield from self._feed(
                host, "search", label, "/api/v2/search",
                {"q": query, "type": "statuses", "resolve": "false"}, [], request, tally,
            )  # fmt: skip
        if tags:
            params: dict[str, Any] = {}
            if options.get("local_only"):
                params["local"] = "true"
            if len(tags) > 1:
                params["all[]"] = tags[1 : 1 + MAX_EXTRA_TAGS]
            path = f"/api/v1/timelines/tag/{quote(tags[0], safe='')}"
            yield from self._feed(host, "tag", f"#{tags[0]}", path, params, group, request, tally)
        elif not searchable:
            unsearchable.add(f"{label!r}")

    def _feed(self, host, kind, label, path, params, group, request, tally) -> Iterator[Page]:
        """Page through one timeline or search on one instance."""
        options = request.options or {}
        what = f"{host} {kind} {label}"
        max_pages = int(options.get("max_pages") or self.option_default("max_pages"))
        by_id = options.get("window_ids", True)
        max_id: str | None = snowflake_id(request.date_to) if by_id else None
        offset = 0
        base = {**params, "limit": PAGE_SIZE}
        if kind == "search" and by_id:  # an id range is the search's own date filter
            base["min_id"] = snowflake_id(request.date_from)
        tally.tried += 1
        for _ in range(max_pages):
            if self._remaining <= 0:
                return
            query = {**base, **({"max_id": max_id} if max_id else {})}
            if kind == "search" and offset:
                query["offset"] = offset
            try:
                response = self._call(host, path, query, what)
                if response.status_code == 404 and kind == "tag":
                    return  # Mastodon's "Record not found": the tag has never been used there
                if response.status_code in (400, 422, 501, 503) and kind == "search":
                    raise _NoStatuses(f"search not offered (HTTP {response.status_code})")
                body = self._json(response, what)
                items = body.get("statuses") if kind == "search" else body
                if not isinstance(items, list):
                    raise SourceFailed(f"mastodon {what}: the reply is not a list of statuses")
            except ArenaAuthError:
                raise
            except _NoStatuses:
                return
            except SourceFailed as exc:
                if exc.reason == "rate_limited":
                    raise _Stop(exc) from None
                yield self._fail(tally, str(exc) if str(exc).startswith("mastodon") else
                                 f"mastodon {what}: {exc}", exc.reason)  # fmt: skip
                return
            except ArenaError as exc:
                yield self._fail(tally, f"mastodon {what}: {exc}")
                return
            mapper = lambda s: self._map(s, host, request, group)  # noqa: E731
            page = map_page(items, mapper, seen=self._seen, limit=self._remaining)
            self._remaining -= len(page.records)
            yield tally.ok(page)
            if not items or self._older_than_window(items, request):
                return
            if kind == "search":
                if len(items) < PAGE_SIZE:
                    return
                offset += len(items)
                continue
            following = self._next_max_id(response, items)
            if following is None or following == max_id:
                return
            max_id = following

    @staticmethod
    def _next_max_id(response: httpx.Response, items: list[Any]) -> str | None:
        if "link" in response.headers:
            return next_max_id(response.links.get("next", {}).get("url"))
        # No Link header (some Mastodon-API servers): a full page goes on below its last id.
        ids = [i.get("id") for i in items if isinstance(i, dict) and i.get("id")]
        return str(ids[-1]) if len(items) >= PAGE_SIZE and ids else None

    @staticmethod
    def _older_than_window(items: list[Any], request: CollectionRequest) -> bool:
        last = items[-1] if isinstance(items[-1], dict) else {}
        created = plausible_date(last.get("created_at"), {})
        return created is not None and created < request.date_from

    def _actor(self, name: str, instances: list[str], request, tally) -> Iterator[Page]:
        user, home = split_acct(name)
        label = f"actor {name}"
        try:
            host = instance_host(home) if home else instances[0]
        except (InstanceRefused, IndexError) as exc:
            yield self._fail(tally, f"mastodon {label}: skipped, {exc}")
            return
        why = self._refusal(host)
        if why is not None:
            yield self._fail(tally, f"mastodon {label}: skipped, {host} {why}")
            return
        acct = user if home == host else (f"{user}@{home}" if home else user)
        try:
            response = self._call(host, "/api/v1/accounts/lookup", {"acct": acct}, label)
            if response.status_code == 404:
                raise SourceFailed(f"mastodon {label}: no such account on {host}", "http_error")
            account = self._json(response, label)
            account_id = account.get("id") if isinstance(account, dict) else None
            if not account_id:
                raise SourceFailed(f"mastodon {label}: the lookup gave no account id")
        except ArenaAuthError:
            raise
        except ArenaError as exc:
            reason = getattr(exc, "reason", "error")
            message = str(exc) if str(exc).startswith("mastodon") else f"mastodon {label}: {exc}"
            yield self._fail(tally, message, reason)
            return
        options = request.options or {}
        params = {
            "exclude_replies": str(bool(options.get("exclude_replies"))).lower(),
            "exclude_reblogs": str(bool(options.get("exclude_reblogs"))).lower(),
        }
        tally.tried -= 1  # the statuses feed below counts this actor as its source
        path = f"/api/v1/accounts/{quote(str(account_id), safe='')}/statuses"
        try:
            yield from self._feed(host, "actor", name, path, params, None, request, tally)
        except _Stop as stop:
            yield self._fail(tally, str(stop.failure), stop.failure.reason)

    # -- mapping -------------------------------------------------------------------------

    def _map(self, item: Any, host: str, request: CollectionRequest, group) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("status is not an object")
        options = request.options or {}
        status, boost = item, None
        if isinstance(item.get("reblog"), dict):  # a boost: the post is the boosted one
            status, boost = item["reblog"], item
        uri = clean_str(status.get("uri"))
        if not uri:
            raise Reject("status without uri")
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        if account.get("noindex") and not options.get("include_noindex"):
            raise Skip  # the author asked not to be indexed
        tags = [t.get("name") for t in status.get("tags") or [] if isinstance(t, dict)]
        meta: dict[str, Any] = {
            "instance": host,
            "local_id": status.get("id"),
            "visibility": status.get("visibility"),
            "sensitive": status.get("sensitive"),
            "tags": tags,
            # Profile URLs, not accts: an acct reads as an e-mail address and is scrubbed.
            "mentions": [m.get("url") for m in status.get("mentions") or [] if isinstance(m, dict)],
            "card": status.get("card"),
            "poll": status.get("poll"),
            "edited_at": status.get("edited_at"),
            "application": status.get("application"),
            "in_reply_to_id": status.get("in_reply_to_id"),
            "account_url": account.get("url"),
        }
        if boost is not None:
            booster = boost.get("account") if isinstance(boost.get("account"), dict) else {}
            meta["reblog"] = {
                "by": booster.get("url"),
                "at": boost.get("created_at"),
                "local_id": boost.get("id"),
            }
        published = plausible_date(status.get("created_at"), meta)
        if not in_window(published, request):
            raise Skip
        body = status_text(status.get("content"))
        spoiler = clean_str(status.get("spoiler_text"))
        text = "\n\n".join(p for p in (spoiler, body) if p) or None
        language = declared_language(status.get("language"), meta)
        # Term feeds (search: group [], the server matched); an actor's own feed is taken whole.
        if group is not None:
            if not self._language_wanted(language, tags, request):
                raise Skip
            tagged = " ".join(f"#{t}" for t in tags if t)
            if not matches_groups(f"{text or ''} {tagged}", group):
                raise Skip
        media = []
        for attachment in status.get("media_attachments") or []:
            if isinstance(attachment, dict):
                url = attachment.get("url") or attachment.get("remote_url")
                if url:
                    media.append(str(url))
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="reply" if status.get("in_reply_to_id") else "post",
            # The ActivityPub id is the same on every instance (the local id is not).
            platform_id=uri,
            published_at=published,
            url=clean_str(status.get("url")) or uri,
            text_content=text,
            language=language,
            author_platform_id=_full_acct(account.get("acct"), host),
            author_display_name=clean_str(account.get("display_name"))
            or clean_str(account.get("username")),
            likes_count=to_int(status.get("favourites_count")),
            shares_count=to_int(status.get("reblogs_count")),
            comments_count=to_int(status.get("replies_count")),
            raw_metadata=meta,
            media_urls=media,
            # One post is one record however many instances show it: the hash is over its uri.
            hash_source=uri,
        )

    @staticmethod
    def _language_wanted(language: str | None, tags: list[Any], request) -> bool:
        options = request.options or {}
        wanted = options.get("languages")
        if wanted is None:
            wanted = [request.language] if request.language else []
        wanted = [str(w).lower() for w in wanted]
        if not wanted or language is None or language in wanted:
            return True
        if "da" in wanted:
            danish = {str(t).lower() for t in options.get("danish_tags", DANISH_TAGS)}
            return any(str(t).lower() in danish for t in tags if t)
        return False


class _Stop(ArenaError):
    """The instance's rate limit is spent for this run: stop calling it."""

    def __init__(self, failure: SourceFailed):
        super().__init__(str(failure))
        self.failure = failure


def _full_acct(acct: Any, host: str) -> str | None:
    """``user@host`` for every account (local accounts' ``acct`` lacks the host)."""
    text = clean_str(acct)
    if not text:
        return None
    return text if "@" in text else f"{text}@{host}"
