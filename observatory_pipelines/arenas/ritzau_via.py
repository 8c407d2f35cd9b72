"""Via Ritzau: Danish press releases (ministries, police, companies, NGOs) from the public,
undocumented JSON API of via.ritzau.dk (no key, no SLA).

``GET {RITZAU_VIA_API_URL}/releases?search=&language=da&limit=50&offset=&fromDate=&toDate=
[&publisherId=]`` (parameter names as the original used them: unverified against any
documentation, there is none). One query per AND-group of the design's terms (the group's
words joined), and one per publisher the design names (``publisher_ids``, or the
design's actors' Via Ritzau ids: actor mode, taken whole). Paging by ``offset`` until a
short page, at most ``max_pages`` pages a query (a query cut there is named in
``rate_limit_state["truncated"]``). The window goes out as Copenhagen local dates and is
checked again on the client against each release's own time, because the API's date,
search and language filters are loose (the original's finding: unrelated releases came
back for every term): every term-query release is re-matched with the shared matcher over
title + lead + body, and a release declaring another language than the design's is
dropped (counted in ``rate_limit_state["language_filtered"]``).

Publisher ids are checked once against ``GET /publishers``: an id Via Ritzau does not
list is skipped with its id in the task's errors, the rest goes on. Requests are spaced
0.5 s (the original's courtesy 2 requests/s); a 429 waits ``Retry-After`` (default 60 s,
the convention) through the shared client's retries, a 5xx backs off.

The publisher (a ministry, a company) is the author: its id goes to
``author_platform_id`` (pseudonymized at ingest like every author: the project's rule,
applied to organisations too), its public name is the display name. Contact persons are
personal data (the spec's pitfall): only how many a release names is kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    SearchTerm,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.matching import matches_groups, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.ritzau_via_items import (
    DATE_KEYS,
    contact_count,
    first_present,
    html_to_text,
    image_urls,
    named_list,
    publisher_of,
    release_items,
)
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
    absolute_url,
    clean_str,
    declared_language,
    plausible_date,
)
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

DEFAULT_BASE_URL = "https://via.ritzau.dk/json/v2"
SITE_URL = "https://via.ritzau.dk"  # relative release URLs (/pressemeddelelse/...) live here
PAGE_SIZE = 50
DEFAULT_MAX_PAGES = 20
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def publisher_id(value: Any) -> str:
    """A design's publisher as Via Ritzau's numeric id, or ArenaOptionError naming it."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if text.isdigit():
        return text
    if "/" in text or "." in text:
        raise ArenaOptionError(
            f"arenas.ritzau_via.publisher_ids names {text!r}: a URL or host name; give the "
            "publisher's numeric id (from GET /publishers); the host comes from the "
            "operator's RITZAU_VIA_API_URL"
        )
    raise ArenaOptionError(
        f"arenas.ritzau_via.publisher_ids names {value!r}: not a Via Ritzau publisher id (a number)"
    )


def local_date(moment: datetime) -> str:
    return moment.astimezone(COPENHAGEN).date().isoformat()


@register
class RitzauViaCollector(Collector):
    platform = "ritzau_via"
    arena = "news_media"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 5_000
    option_specs = (
        ArenaOption(
            "publisher_ids",
            "list of strings",
            [],
            "Via Ritzau publisher ids (numbers, from GET /publishers) whose releases are "
            "taken whole in the window (actor mode)",
        ),
        ArenaOption(
            "max_pages",
            "int",
            DEFAULT_MAX_PAGES,
            "pages of 50 releases per query (default 20: 1,000 releases a query)",
        ),
        ArenaOption(
            "languages",
            "list of strings",
            None,
            "languages kept (default: the design's language); releases declaring another "
            "are dropped",
        ),
    )
    min_request_interval = 0.5  # the original's courtesy 2 requests/s
    quota = "none published (undocumented API); 2 requests/s courtesy spacing"
    host_setting = "RITZAU_VIA_API_URL"

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.check_list(options, "publisher_ids", "ids", publisher_id)
        cls.check_counts(options, "max_pages")
        cls.check_list(options, "languages", "language codes")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.ritzau_via_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            min_interval=self.min_request_interval,
            retry_after_default=60.0,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self.http.close()

    # -- requests ------------------------------------------------------------------------

    def _get_json(self, path: str, what: str, params: dict[str, Any] | None = None) -> Any:
        """One API request's JSON; SourceFailed naming URL (host and path) and status."""
        try:
            response = self.http.get(f"{self.base_url}{path}", params=params)
        finally:
            self.units_spent += 1
        return self._json(response, what)

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
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where}", "http_error")
        try:
            return response.json()
        except ValueError:
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not valid JSON ({kind})", "unparseable"
            ) from None

    # -- what to ask ---------------------------------------------------------------------

    @staticmethod
    def _publishers(request: CollectionRequest) -> list[str]:
        values = list((request.options or {}).get("publisher_ids") or [])
        values += [a.platform_user_id for a in request.actors if a.platform_user_id]
        return list(dict.fromkeys(publisher_id(v) for v in values))

    @staticmethod
    def _queries(request: CollectionRequest) -> list[tuple[str, list[SearchTerm]]]:
        """(label, terms) per AND-group; one unfiltered query when the design has no terms
        and names no publisher."""
        groups = term_groups(request.terms)
        return [(" ".join(" ".join(t.term.split()) for t in g), g) for g in groups]

    def _max_pages(self, request: CollectionRequest) -> int:
        return int((request.options or {}).get("max_pages") or DEFAULT_MAX_PAGES)

    def estimate_units(self, request: CollectionRequest) -> int:
        try:
            publishers = len(self._publishers(request))
        except ArenaOptionError:
            return 0
        queries = len(self._queries(request)) + publishers
        if queries == 0:
            queries = 1
        return queries * min(self._max_pages(request), 2) + (1 if publishers else 0)

    def health_check(self) -> HealthStatus:
        """``GET /channels``: does the API answer with JSON."""
        try:
            body = self._get_json("/channels", "ritzau_via health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        ok = isinstance(body, list | dict)
        return HealthStatus(ok=ok, detail="channels answer" if ok else "unexpected reply")

    # -- collection ----------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        publishers = self._publishers(request)
        queries = self._queries(request)
        self._remaining = record_cap(self, request)
        self._wanted = self._languages(request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        window = {
            "fromDate": local_date(request.date_from),
            "toDate": local_date(request.date_to - timedelta(microseconds=1)),
        }
        if not queries and not publishers:
            queries = [("", [])]  # everything in the window (no terms to re-check)
        for label, group in queries:
            if self._remaining <= 0:
                break
            tally.tried += 1
            params = {**window, **({"search": label} if label else {})}
            name = f"ritzau_via search {label!r}" if label else "ritzau_via releases"
            yield from self._query(name, params, request, group, seen, tally)
        if publishers and self._remaining > 0:
            known = self._known_publishers(tally)
            for pid in publishers:
                if self._remaining <= 0:
                    break
                tally.tried += 1
                name = f"ritzau_via publisher {pid}"
                if known is not None and pid not in known:
                    yield tally.fail(f"{name}: Via Ritzau lists no publisher with this id; skipped")
                    continue
                if known and known.get(pid):
                    name = f"{name} ({known[pid]})"
                params = {**window, "publisherId": pid}
                yield from self._query(name, params, request, None, seen, tally)
        tally.finish()

    def _known_publishers(self, tally: SourceTally) -> dict[str, str | None] | None:
        """Publisher id -> name from ``GET /publishers``; None (ids not checked) when the
        list cannot be read."""
        try:
            body = self._get_json("/publishers", "ritzau_via publishers")
        except SourceFailed as exc:
            log.info("ritzau_via.publishers_unreadable", error=str(exc))
            self.rate_limit_state["publishers_unchecked"] = str(exc)
            return None
        items = release_items(body)
        if items is None and isinstance(body, dict):
            items = body.get("publishers")
        if not isinstance(items, list):
            self.rate_limit_state["publishers_unchecked"] = "the publisher list has no items"
            return None
        known: dict[str, str | None] = {}
        for entry in items:
            if isinstance(entry, dict) and entry.get("id") is not None:
                known[str(entry["id"])] = clean_str(entry.get("name"), 300)
        return known

    def _query(
        self,
        name: str,
        params: dict[str, Any],
        request: CollectionRequest,
        group: list[SearchTerm] | None,
        seen: set[str],
        tally: SourceTally,
    ) -> Iterator[Page]:
        base = {"language": self._wanted[0]} if len(self._wanted) == 1 else {}
        max_pages = self._max_pages(request)
        for number in range(max_pages):
            if self._remaining <= 0:
                return
            query = {**params, **base, "limit": PAGE_SIZE, "offset": number * PAGE_SIZE}
            try:
                body = self._get_json("/releases", name, query)
                items = release_items(body)
                if items is None:
                    raise SourceFailed(
                        f"{name}: the reply from {describe(self.base_url + '/releases')} holds "
                        "no list of releases",
                        "unparseable",
                    )
            except SourceFailed as exc:
                text = str(exc)
                message = text if text.startswith(name) else f"{name}: {text}"
                tally.failed.append(message)
                yield failed_source(message, exc.reason)
                return
            page = map_page(
                items,
                lambda item: self._map(item, request, group),
                seen=seen,
                limit=self._remaining,
            )
            self._remaining -= len(page.records)
            yield tally.ok(page)
            if len(items) < PAGE_SIZE:
                return
        truncated = self.rate_limit_state.setdefault("truncated", [])
        truncated.append(f"{name}: stopped at max_pages={max_pages}")

    # -- mapping -------------------------------------------------------------------------

    @staticmethod
    def _languages(request: CollectionRequest) -> list[str]:
        wanted = (request.options or {}).get("languages")
        if wanted is None:
            wanted = [request.language] if request.language else []
        return [str(w).strip().lower() for w in wanted if str(w).strip()]

    def _count(self, key: str) -> None:
        self.rate_limit_state[key] = int(self.rate_limit_state.get(key, 0)) + 1

    def _map(
        self, item: Any, request: CollectionRequest, group: list[SearchTerm] | None
    ) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("ritzau_via release is not an object")
        meta: dict[str, Any] = {}
        published = plausible_date(first_present(item, DATE_KEYS), meta)
        if not in_window(published, request):
            self._count("outside_window")
            raise Skip
        language = declared_language(item.get("language"), meta)
        if language and self._wanted and language not in self._wanted:
            self._count("language_filtered")
            raise Skip
        title = clean_str(item.get("title"))
        lead_html = clean_str(item.get("leadtext") or item.get("leadText") or item.get("lead"))
        body_html = clean_str(item.get("body") or item.get("bodyHtml") or item.get("content"))
        lead, body = html_to_text(lead_html), html_to_text(body_html)
        text = "\n\n".join(part for part in (lead, body) if part) or None
        if group is not None and group:
            searched = "\n".join(part for part in (title, lead, body) if part)
            if not matches_groups(searched, group):
                self._count("term_mismatch")  # the API's search is loose
                raise Skip
        pid, publisher = publisher_of(item)
        release_id = clean_str(item.get("id") or item.get("releaseId"))
        url = absolute_url(first_present(item, ("url", "link", "permalink")), SITE_URL, meta,
                           "url_invalid")  # fmt: skip
        meta.update(
            {
                "leadtext": lead,
                "leadtext_html": lead_html if lead_html != lead else None,
                "body_html": body_html if body_html != body else None,
                "channels": named_list(item.get("channels")),
                "documents": named_list(item.get("documents")),
                "contact_count": contact_count(item.get("contacts")),
                "release_type": clean_str(item.get("type") or item.get("releaseType"), 200),
                "publisher_id": pid,
            }
        )
        if published is None:
            meta["published_at_missing"] = True
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="press_release",
            platform_id=release_id,
            published_at=published,
            url=url,
            title=title,
            text_content=text,
            language=language,
            author_platform_id=pid,
            author_display_name=publisher,
            author_identity=None if pid else publisher,
            raw_metadata={k: v for k, v in meta.items() if v not in (None, [], "")},
            media_urls=image_urls(item.get("images")),
            # Spec: the hash is over the text (the same release re-sent is one row).
            hash_source=text or title,
        )
