"""Reddit: OAuth (client credentials) search in Danish subreddits, and actors' listings.

One query per AND-group over ``r/a+b+c`` (sort=new), following ``after``. A
private subreddit makes the combined search 403, so a 403 retries per subreddit
and skips the ones that refuse (spec pitfall). Reddit ignores date bounds
(``t=all``): the window is applied client-side and paging stops past date_from.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, check_status, json_body
from observatory_pipelines.arenas.matching import term_groups
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
from observatory_pipelines.arenas.text import plausible_date, strip_html, to_int

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
REMOVED = {"[removed]", "[deleted]", ""}
_COMMENT_ID = re.compile(r"/comments/([a-z0-9]+)/", re.IGNORECASE)
MEDIA_HINTS = {"image", "hosted:video", "rich:video"}


def subreddits(request: CollectionRequest) -> list[str]:
    custom = [str(s).strip().removeprefix("r/") for s in request.options.get("subreddits") or []]
    if request.language != "da":
        return custom or ["all"]
    return list(dict.fromkeys([*DANISH_SUBREDDITS, *custom]))


def _query(group) -> str:
    parts = []
    for term in group:
        text = " ".join(term.term.split())
        parts.append(f'"{text}"' if " " in text else text)
    return " ".join(parts)  # a space is the URL's "+": Reddit ANDs the words


@register
class RedditCollector(Collector):
    platform = "reddit"
    arena = "social_media"
    supported_tiers = ("free", "medium")
    needs_credentials = True
    max_records_per_run = 1_000

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        override = self.base_url or settings.reddit_api_url()
        self.token_url = (override or TOKEN_URL).rstrip("/")
        self.api_url = (override or API_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state, min_interval=60 / 90, retry_after_default=60
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
            self.credentials, "client_id", "client_secret", "user_agent", platform=self.platform
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
        remaining = record_cap(self, request)
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
                yield from self._pages(label, target, params, request, seen, remaining, tally)
                remaining = record_cap(self, request) - len(seen)
                continue
            path = f"/r/{target}/search"
            first = self._listing(path, {**params, "limit": PAGE_SIZE})
            if first.status_code == 403 and "+" in target:
                # One private subreddit refuses the whole combined search.
                tally.tried += target.count("+")
                for sub in target.split("+"):
                    yield from self._pages(
                        f"{label} in r/{sub}",
                        f"/r/{sub}/search",
                        params,
                        request,
                        seen,
                        record_cap(self, request) - len(seen),
                        tally,
                    )
                continue
            yield from self._pages(label, path, params, request, seen, remaining, tally, first)
            remaining = record_cap(self, request) - len(seen)
        tally.finish()

    def _pages(
        self, label, path, params, request, seen, remaining, tally, first=None
    ) -> Iterator[Page]:
        after: str | None = None
        response = first
        while remaining > 0:
            try:
                if response is None:
                    extra = {"after": after} if after else {}
                    response = self._listing(path, {**params, "limit": PAGE_SIZE, **extra})
                if (
                    response.status_code in (403, 404)
                    and path.startswith(("/user/", "/r/"))
                    and after is None
                ):
                    yield tally.fail(f"reddit {label}: HTTP {response.status_code}, skipped")
                    return
                check_status(response, f"reddit {label}")
                body = json_body(response, f"reddit {label}")
                data = body.get("data") or {}
                children = data.get("children") or []
            except ArenaAuthError:
                raise
            except (ArenaError, AttributeError) as exc:
                text = str(exc)
                yield tally.fail(text if text.startswith("reddit") else f"reddit {label}: {text}")
                return
            page = map_page(children, lambda c: self._map(c, request), seen=seen, limit=remaining)
            remaining -= len(page.records)
            yield tally.ok(page)
            after, response = data.get("after"), None
            if not children or not after or self._past_window(children, request):
                return

    def _past_window(self, children: list[Any], request: CollectionRequest) -> bool:
        last = children[-1].get("data") if isinstance(children[-1], dict) else None
        created = plausible_date((last or {}).get("created_utc"), {})
        return created is not None and created < request.date_from

    def _map(self, child: dict[str, Any], request: CollectionRequest) -> NormalizedRecord:
        kind, data = child.get("kind"), child.get("data") or {}
        post_id = data.get("id") or (data.get("name") or "").partition("_")[2]
        if not post_id:
            match = _COMMENT_ID.search(data.get("permalink") or "")
            post_id = match.group(1) if match and kind == "t3" else None
        if not post_id:
            raise Reject(f"{kind or 'item'} without id")
        meta = {
            "kind": kind,
            "subreddit": data.get("subreddit"),
            "flair": data.get("link_flair_text"),
            "domain": data.get("domain"),
            "permalink": data.get("permalink"),
            "over_18": data.get("over_18"),
            "link_id": data.get("link_id"),
        }
        published = plausible_date(data.get("created_utc"), meta)
        if not in_window(published, request):
            raise Skip
        text = data.get("body") if kind == "t1" else data.get("selftext")
        text = None if (text or "").strip() in REMOVED else strip_html(text)
        author = data.get("author")
        author = None if author in ("[deleted]", None) else author
        hint = data.get("post_hint") in MEDIA_HINTS or data.get("domain") in (
            "i.redd.it",
            "v.redd.it",
        )
        permalink = data.get("permalink")
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="comment" if kind == "t1" else "post",
            platform_id=post_id,
            published_at=published,
            url=f"https://www.reddit.com{permalink}" if permalink else data.get("url"),
            title=data.get("title") if kind != "t1" else None,
            text_content=text,
            author_platform_id=data.get("author_fullname") or author,
            author_display_name=author,
            likes_count=data.get("score"),
            shares_count=data.get("num_crossposts"),
            comments_count=data.get("num_comments"),
            raw_metadata=meta,
            media_urls=[data["url"]] if hint and data.get("url") else [],
            hash_source=text,
        )
