"""domain_crawler: the article pages a design's collected records link to, on its domains.

Where the original crawled each domain's front page for links, this crawler starts from what
the design has already collected (issue 17: "article pages linked from already-collected
records ... so RSS summaries can be completed with the article body"): collection hands it
``design_links`` (``collection/design_links.py``): each record's own URL (an RSS item's link)
and the links found in its text, for records of the task's window, without the pages this
arena has already stored. The crawler keeps those on the design's ``domains`` (a host and its
subdomains; default: the spec's Danish news sites), drops the front page and media, document
and feed links, and fetches each article once through ``web_fetch`` (the same SSRF guard,
robots.txt, User-Agent and readable-text extraction as url_scraper).

Limits (spec §19): 1.5 s between requests to one host, ``PAGES_PER_DOMAIN`` (50) a domain,
``PAGES_PER_RUN`` a run, 900 KB and 30 s a page, the run's time budget.

Mapping: as url_scraper (``url_scraper.page_record``) with content_type ``article`` and
category ``news``; raw adds ``source_domain``, ``source_record`` (platform and platform_id of
the record that linked the page) and ``source_url``. The page's id is sha256 of its
normalized URL's key, as for url_scraper: the article and its RSS item share ``url_key``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from observatory_pipelines.arenas.base import (
    ArenaOption,
    ArenaOptionError,
    CollectionRequest,
    Collector,
    HealthStatus,
    Page,
)
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.url_scraper import run_fetches
from observatory_pipelines.arenas.web_fetch import (
    PAGE_MAX_BYTES,
    PageFetcher,
    UrlRefused,
    check_public_url,
    public_host,
)

PAGES_PER_DOMAIN = 50  # spec: at most 50 links a domain
PAGES_PER_RUN = 500
DEFAULT_DOMAINS = (
    "dr.dk",
    "tv2.dk",
    "politiken.dk",
    "berlingske.dk",
    "bt.dk",
    "eb.dk",
    "information.dk",
    "jyllands-posten.dk",
    "kristeligt-dagblad.dk",
    "nordjyske.dk",
    "borsen.dk",
    "altinget.dk",
    "folkeskolen.dk",
)
# Links that are no article page (spec: no media, document or feed links).
NOT_ARTICLES = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".mp3", ".mp4", ".m4a", ".mov", ".avi",
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".csv",
    ".rss", ".xml", ".atom", ".json", ".ics",
)  # fmt: skip
FEED_PATHS = ("/rss", "/feed", "/feeds")


def domain_name(value: Any, what: str) -> str:
    """A domain a design names: a public host name, or a host the operator allows."""
    return public_host(value, f"arenas.domain_crawler.{what}")


def on_domain(host: str, domains: list[str]) -> str | None:
    for domain in domains:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


def is_article_link(url: str) -> bool:
    path = urlsplit(url).path.lower()
    if path in ("", "/"):
        return False  # the front page
    if path.endswith(NOT_ARTICLES):
        return False
    return not any(path == p or path.startswith(p + "/") for p in FEED_PATHS)


@register
class DomainCrawlerCollector(Collector):
    platform = "domain_crawler"
    arena = "news"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = PAGES_PER_RUN
    min_request_interval = 1.5  # spec: 1.5 s between requests to a domain
    uses_design_links = True  # collection fills design_links before collect
    quota = (
        f"own fetching: {PAGES_PER_DOMAIN} pages a domain, {PAGES_PER_RUN} a run, 1.5 s "
        f"between requests to a host, {PAGE_MAX_BYTES // 1024} KB and 30 s a page, "
        "robots.txt honoured"
    )
    option_specs = (
        ArenaOption(
            "domains",
            "list of strings",
            list(DEFAULT_DOMAINS),
            "host names whose article pages linked from the design's records are fetched "
            "(a host and its subdomains)",
        ),
        ArenaOption(
            "max_pages_per_domain",
            "int",
            PAGES_PER_DOMAIN,
            f"article pages fetched per domain in a run (at most {PAGES_PER_DOMAIN})",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        cls.check_list(options, "domains", "strings", lambda domain: domain_name(domain, "domains"))
        cap = options.get("max_pages_per_domain")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise ArenaOptionError(
                f"arenas.{cls.platform}.max_pages_per_domain must be a whole number >= 0"
            )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.design_links: list[dict[str, Any]] = []
        self.design_links_known = 0
        self.domains: list[str] = list(DEFAULT_DOMAINS)
        self.fetcher = PageFetcher(self.rate_limit_state, self.min_request_interval)

    @staticmethod
    def _per_domain(options: dict[str, Any]) -> int:
        cap = options.get("max_pages_per_domain")
        return PAGES_PER_DOMAIN if cap is None else max(0, min(int(cap), PAGES_PER_DOMAIN))

    def _targets(self, options: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        domains = [domain_name(d, "domains") for d in options.get("domains") or DEFAULT_DOMAINS]
        self.domains = domains
        per_domain = self._per_domain(options)
        counts: dict[str, int] = {}
        targets = []
        ignored = {"other_domain": 0, "not_an_article": 0, "not_public": 0, "domain_cap": 0}
        for link in self.design_links:
            url = str(link.get("url") or "")
            try:
                check_public_url(url, "link")
            except UrlRefused:
                ignored["not_public"] += 1
                continue
            domain = on_domain((urlsplit(url).hostname or "").lower(), domains)
            if domain is None:
                ignored["other_domain"] += 1
                continue
            if not is_article_link(url):
                ignored["not_an_article"] += 1
                continue
            if counts.get(domain, 0) >= per_domain:
                ignored["domain_cap"] += 1
                continue
            counts[domain] = counts.get(domain, 0) + 1
            extra = {
                "source_domain": domain,
                "source_record": {
                    "platform": link.get("platform"),
                    "platform_id": link.get("platform_id"),
                },
            }
            targets.append((f"domain_crawler {url[:200]}", url, extra))
        self.rate_limit_state["links"] = {
            "given": len(self.design_links),
            "already_collected": self.design_links_known,
            "to_fetch": len(targets),
            "ignored": ignored,
        }
        return targets

    def _off_domain(self, final_url: str) -> str | None:
        host = (urlsplit(final_url).hostname or "").lower()
        if on_domain(host, self.domains) is None:
            return f"redirected to {host or final_url[:100]}, outside the design's domains"
        return None

    def estimate_units(self, request: CollectionRequest) -> int:
        options = request.options or {}
        domains = options.get("domains") or DEFAULT_DOMAINS
        # pages are known only at collection time: the cap, and a robots.txt per domain
        return min(len(domains) * self._per_domain(options), PAGES_PER_RUN) + len(domains)

    def health_check(self) -> HealthStatus:
        try:
            check_public_url("http://169.254.169.254/", "health check")
        except UrlRefused:
            return HealthStatus(ok=True, detail="page fetcher ready; private addresses refused")
        return HealthStatus(ok=False, detail="private addresses are not refused")

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        targets = self._targets(request.options or {})
        try:
            if not targets:
                # Nothing new linked on the design's domains: an empty run, not a failure.
                yield Page(records=[])
                return
            yield from run_fetches(
                self,
                self.fetcher,
                targets,
                [],
                request,
                "article",
                PAGES_PER_RUN,
                fail_when_all_fail=False,
                refuse_final=self._off_domain,
            )
        finally:
            self.fetcher.close()
