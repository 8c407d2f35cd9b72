"""Reddit: OAuth (client credentials) search in Danish subreddits, and actors' listings.

One query per AND-group over ``r/a+b+c`` (sort=new), following ``after``. A
private subreddit makes the combined search 403, so a 403 retries per subreddit
and skips the ones that refuse (spec pitfall). Reddit ignores date bounds
(``t=all``): the window is applied client-side and paging stops past date_from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    CollectionRequest,
    Collector,
    HealthStatus,
    Page,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, check_status, json_body
from observatory_pipelines.arenas.matching import quoted_term, term_groups
from observatory_pipelines.arenas.reddit_items import map_child
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    SourceTally,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import plausible_date, to_int

TOKEN_URL = "https://www.reddit.com"
API_URL = "https://oauth.reddit.com"
DANISH_SUBREDDITS = (
    "Denmark",
    "danish",
    "copenhagen",
    "aarhus",
    "dkfinance",
    "dkpolitik",
    "scandinavia",
    "NORDVANSEN",
)
PAGE_SIZE = 100


def subreddits(request: CollectionRequest) -> list[str]:
    custom = [str(s).strip().removeprefix("r/") for s in request.options.get("subreddits") or []]
    if request.language != "da":
        return custom or ["all"]
    return list(dict.fromkeys([*DANISH_SUBREDDITS, *custom]))


def _query(group) -> str:
    return " ".join(quoted_term(t) for t in group)  # a space is the URL's "+": Reddit ANDs


@register
class RedditCollector(Collector):
    platform = "reddit"
    arena = "social_media"
    supported_tiers = ("free", "medium")
    needs_credentials = True
    max_records_per_run = 1_000
    tier_caps = {"medium": 5_000}
    option_specs = (
        ArenaOption(
            "subreddits",
            "list of strings",
            None,
            f"searched besides r/{', r/'.join(DANISH_SUBREDDITS)} (alone when the design "
            "is not in Danish)",
        ),
        ArenaOption("include_comments", "bool", False, "also collect each post's comments"),
    )
    credential_fields = ("client_id", "client_secret", "user_agent")
    min_request_interval = 60 / 90  # Reddit allows 100 OAuth requests a minute; we keep to 90
    host_setting = "REDDIT_API_URL"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        override = settings.reddit_api_url()
        self.token_url = (override or TOKEN_URL).rstrip("/")
        self.api_url = (override or API_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state, min_interval=self.min_request_interval, retry_after_default=60
        )
        self._token: str | None = None

    def estimate_units(self, request: CollectionRequest) -> int:
        pages = max(1, -(-record_cap(self, request) // PAGE_SIZE))
        return 1 + (len(term_groups(request.terms)) + 2 * len(request.actors)) * pages

    def health_check(self) -> HealthStatus:
        try:
            self._authorize()
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="token granted")

    def _authorize(self) -> None:
        client_id, secret, agent = require(
            self.credentials, *self.credential_fields, platform=self.platform
        )
        self.user_agent = agent
        response = self.http.post(
            f"{self.token_url}/api/v1/access_token",
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
            headers={"User-Agent": agent},
        )
        self.units_spent += 1
        check_status(response, "reddit access_token")
        token = json_body(response, "reddit access_token").get("access_token")
        if not token:
            raise ArenaAuthError("reddit access_token: no access_token in the reply")
        self._token = token

    def _listing(self, path: str, params: dict[str, Any]) -> Any:
        """One listing request; returns the response (status judged by the caller)."""
        if self._token is None:
            self._authorize()
        for attempt in range(2):
            response = self.http.get(
                f"{self.api_url}{path}",
                params={**params, "raw_json": 1},
                headers={"Authorization": f"bearer {self._token}", "User-Agent": self.user_agent},
            )
            self.units_spent += 1
            if response.status_code == 401 and attempt == 0:
                self._authorize()  # tokens last an hour
                continue
            break
        self._respect_budget(response)
        return response

    def _respect_budget(self, response: Any) -> None:
        remaining = to_int(response.headers.get("x-ratelimit-remaining"))
        reset = to_int(response.headers.get("x-ratelimit-reset"))
        if remaining is not None and remaining <= 1 and reset:
            time.sleep(min(reset, self.http.max_wait))

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        subs = subreddits(request)
        sources: list[tuple[str, str, dict[str, Any]]] = []
        for group in term_groups(request.terms):
            params = {"q": _query(group), "restrict_sr": "on", "sort": "new", "t": "all"}
            sources.append((f"query {params['q']!r}", "+".join(subs), params))
        for actor in request.actors:
            name = actor.platform_username or actor.platform_user_id
            for kind in ("submitted", "comments") if name else ():
                sources.append((f"user {name} {kind}", f"/user/{name}/{kind}", {"sort": "new"}))
        for label, target, params in sources:
            tally.tried += 1
            if target.startswith("/user/"):
                yield from self._pages(label, target, params, request, seen, tally)
                continue
            path = f"/r/{target}/search"
            try:
                first = self._listing(path, {**params, "limit": PAGE_SIZE})
            except ArenaAuthError:
                raise
            except ArenaError as exc:
                yield tally.fail(f"reddit {label}: {exc}")
                continue
            if first.status_code == 403 and "+" in target:
                # One private subreddit refuses the whole combined search.
                tally.tried += target.count("+")
                for sub in target.split("+"):
                    sub_path = f"/r/{sub}/search"
                    yield from self._pages(
                        f"{label} in r/{sub}", sub_path, params, request, seen, tally
                    )
                continue
            yield from self._pages(label, path, params, request, seen, tally, first)
        tally.finish()

    def _pages(self, label, path, params, request, seen, tally, first=None) -> Iterator[Page]:
        """Follow ``after`` through one listing; with include_comments, each post's comments too."""
        cap = record_cap(self, request)
        comments = bool((request.options or {}).get("include_comments"))
        after: str | None = None
        response = first
        while len(seen) < cap:
            try:
                if response is None:
                    extra = {"after": after} if after else {}
                    response = self._listing(path, {**params, "limit": PAGE_SIZE, **extra})
                if response.status_code in (403, 404) and after is None:
                    yield tally.fail(f"reddit {label}: HTTP {response.status_code}, skipped")
                    return
                check_status(response, f"reddit {label}")
                data = json_body(response, f"reddit {label}").get("data") or {}
                children = data.get("children") or []
            except ArenaAuthError:
                raise
            except (ArenaError, AttributeError) as exc:
                text = str(exc)
                yield tally.fail(text if text.startswith("reddit") else f"reddit {label}: {text}")
                return
            mapper = lambda c: map_child(c, request)  # noqa: E731
            page = map_page(children, mapper, seen=seen, limit=cap - len(seen))
            yield tally.ok(page)
            for post in page.records if comments else ():
                if post.content_type == "post" and len(seen) < cap:
                    yield from self._comments(post.platform_id, request, seen, tally)
            after, response = data.get("after"), None
            if not children or not after or self._past_window(children, request):
                return

    def _comments(self, post_id: str, request, seen, tally) -> Iterator[Page]:
        """Top-level comments of one post (``depth=1``); a failure skips that post's comments."""
        label = f"comments of {post_id}"
        try:
            response = self._listing(
                f"/comments/{post_id}", {"depth": 1, "sort": "new", "limit": PAGE_SIZE}
            )
            check_status(response, f"reddit {label}")
            listing = json_body(response, f"reddit {label}")
            children = listing[1]["data"]["children"]
        except ArenaAuthError:
            raise
        except (ArenaError, LookupError, TypeError) as exc:
            yield tally.fail(f"reddit {label}: {str(exc)[:300]}")
            return
        cap = record_cap(self, request)
        yield map_page(children, lambda c: map_child(c, request), seen=seen, limit=cap - len(seen))

    def _past_window(self, children: list[Any], request: CollectionRequest) -> bool:
        last = children[-1].get("data") if isinstance(children[-1], dict) else None
        created = plausible_date((last or {}).get("created_utc"), {})
        return created is not None and created < request.date_from
