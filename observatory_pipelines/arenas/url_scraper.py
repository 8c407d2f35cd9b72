"""url_scraper: our own polite fetch of the pages a query design names, with their text.

Sources: the design's ``urls`` (public http/https page URLs, checked when the design is saved:
see ``web_fetch.check_public_url``) and its actors on ``url_scraper`` named by a URL (the
original's actor mode: base URLs). There is no API and no operator host setting: the hosts
are the design's own pages, which is why every connection goes through the guarded
transport of ``web_fetch`` (no private, loopback or link-local address, ports 80/443 only,
redirects included) unless the operator exempts a test host (``URL_SCRAPER_ALLOW_HOSTS``).

Limits (spec §19, free tier): at most ``URLS_PER_RUN`` (100) pages a run, 1 s between
requests to one host (shared per-host spacing), 30 s and 900 KB a page, ``RUN_BUDGET_S`` for
the whole run; robots.txt honoured for ``IssueObservatory``. Pages that are not HTML, over
the cap, refused by robots.txt or answering 4xx/5xx are skipped by URL in the task's errors;
the rest goes on. The medium tier's Playwright retry of JavaScript shells is not built: such
pages are stored with what the HTML holds and ``needs_playwright: true``.

Mapping: content_type ``web_page``; url = the final URL after redirects; title, text and
``<html lang>`` from ``wayback_text``'s readable-text extractor; published_at = the page's
declared date (meta/JSON-LD/``<time>``), else ``Last-Modified``, else none (ingest then uses
the collection time and dedups the page by its id); author = the host. ``platform_id`` is
left to ingest, which derives it as sha256 of ``url_key(url)`` (collection/url_normalize.py):
the page's id is its normalized URL, so it relates to the RSS item (or any record) that links
the same page. Hash over the text, else the URL. Terms do not select pages; collection marks
the terms the text matches, as for every arena.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from observatory_pipelines.arenas.base import (
    ArenaError,
    ArenaOption,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import SourceTally, failed_source, record_cap
from observatory_pipelines.arenas.text import clamp_record
from observatory_pipelines.arenas.web_fetch import (
    PAGE_MAX_BYTES,
    FetchedPage,
    PageFetcher,
    UrlRefused,
    check_public_url,
)

URLS_PER_RUN = 100  # spec: 100 URLs a run on the free tier
RUN_BUDGET_S = 900.0  # all fetches of one run together


def page_record(
    platform: str, arena: str, content_type: str, page: FetchedPage
) -> NormalizedRecord:
    """One fetched page as a record (url_scraper and domain_crawler map alike)."""
    host = (urlsplit(page.final_url).hostname or "").lower() or None
    return clamp_record(
        NormalizedRecord(
            platform=platform,
            arena=arena,
            content_type=content_type,
            platform_id=None,  # ingest: sha256(url_key(url)), the normalized URL
            published_at=page.published_at,
            url=page.final_url,
            title=page.title,
            text_content=page.text,
            language=page.language,
            author_platform_id=host,
            author_display_name=host,
            raw_metadata=dict(page.meta),
            hash_source=page.text or page.final_url,
        )
    )


def run_fetches(
    collector: Collector,
    fetcher: PageFetcher,
    targets: list[tuple[str, str, dict[str, Any]]],
    refused: list[tuple[str, str]],
    request: CollectionRequest,
    content_type: str,
    cap: int,
    fail_when_all_fail: bool = True,
    refuse_final: Callable[[str], str | None] | None = None,
) -> Iterator[Page]:
    """Fetch ``targets`` (label, url, extra raw metadata) one by one, one page each, until
    the cap, the run budget or the record cap; every failure is a named skipped source.
    ``fail_when_all_fail``: no page at all fails the task (the design's own URLs); the
    crawler's links are found, not chosen, so a run of dead links is no failure.
    ``refuse_final``: why a page's final URL (after redirects) is not kept, or None."""
    tally = SourceTally(collector.platform)
    for label, why in refused:
        tally.tried += 1
        tally.failed.append(why)
        yield failed_source(f"{label}: {why}", "error")
    remaining = min(cap, record_cap(collector, request))
    budget_ends = time.monotonic() + RUN_BUDGET_S
    for index, (label, url, extra) in enumerate(targets):
        if remaining <= 0 or time.monotonic() > budget_ends:
            why = "page cap" if remaining <= 0 else f"run time budget ({RUN_BUDGET_S:.0f} s)"
            left = targets[index:]
            collector.rate_limit_state["stopped"] = f"{why} reached; {len(left)} pages not fetched"
            yield Page(
                records=[],
                skipped=[
                    SkippedSource(name, "stopped", f"{name}: not fetched, the {why} was reached")
                    for name, _, _ in left
                ],
            )
            break
        tally.tried += 1
        try:
            fetched = fetcher.fetch(url, label)
        except SourceFailed as exc:
            collector.units_spent = fetcher.requests
            message = str(exc) if str(exc).startswith(label) else f"{label}: {exc}"
            if exc.reason == "too_large":
                message = f"{label}: larger than {PAGE_MAX_BYTES // 1024} KB, refused"
            tally.failed.append(message)
            yield failed_source(message, exc.reason)
            continue
        except UrlRefused as exc:
            tally.failed.append(str(exc))
            yield failed_source(f"{label}: {exc}", "error")
            continue
        collector.units_spent = fetcher.requests
        why_not = refuse_final(fetched.final_url) if refuse_final else None
        if why_not:
            message = f"{label}: {why_not}"
            tally.failed.append(message)
            yield failed_source(message, "error")
            continue
        record = page_record(collector.platform, collector.arena, content_type, fetched)
        record.raw_metadata.update(extra)
        remaining -= 1
        yield tally.ok(Page(records=[record]))
    if fail_when_all_fail:
        tally.finish()


@register
class UrlScraperCollector(Collector):
    platform = "url_scraper"
    arena = "web"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = URLS_PER_RUN
    min_request_interval = 1.0  # spec: 1 s between requests to one domain
    quota = (
        f"own fetching: {URLS_PER_RUN} pages a run, 1 s between requests to a host, "
        f"{PAGE_MAX_BYTES // 1024} KB and 30 s a page, robots.txt honoured"
    )
    option_specs = (
        ArenaOption(
            "urls",
            "list of strings",
            [],
            "public http(s) page URLs to fetch (no IP addresses, local names or other ports)",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        where = f"arenas.{cls.platform}.urls"
        cls.check_list(options, "urls", "URLs", lambda url: check_public_url(url, where))

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.fetcher = PageFetcher(self.rate_limit_state, self.min_request_interval)

    def _targets(
        self, request: CollectionRequest
    ) -> tuple[list[tuple[str, str, dict[str, Any]]], list[tuple[str, str]]]:
        values = list((request.options or {}).get("urls") or [])
        values += [a.platform_username or a.platform_user_id for a in request.actors]
        targets: dict[str, tuple[str, str, dict[str, Any]]] = {}
        refused: list[tuple[str, str]] = []
        for value in values:
            label = f"url_scraper {str(value).strip()[:200]}"
            try:
                url = check_public_url(value, "url_scraper")
            except UrlRefused as exc:
                refused.append((label, str(exc)))
                continue
            targets.setdefault(url, (label, url, {}))
        return list(targets.values()), refused

    def estimate_units(self, request: CollectionRequest) -> int:
        targets, _ = self._targets(request)
        hosts = {urlsplit(url).netloc for _, url, _ in targets}
        # a page and, once per host, its robots.txt
        return min(len(targets), URLS_PER_RUN) + len(hosts)

    def health_check(self) -> HealthStatus:
        # No API to ask: the check is that the guarded client can be built and refuses a
        # private address, i.e. the SSRF guard is in place.
        try:
            check_public_url("http://10.0.0.1/", "health check")
        except UrlRefused:
            return HealthStatus(ok=True, detail="page fetcher ready; private addresses refused")
        return HealthStatus(ok=False, detail="private addresses are not refused")

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        targets, refused = self._targets(request)
        if not targets and not refused:
            raise ArenaError("url_scraper: the design names no urls or url_scraper actors")
        try:
            yield from run_fetches(
                self, self.fetcher, targets, refused, request, "web_page", URLS_PER_RUN
            )
        finally:
            self.fetcher.close()
