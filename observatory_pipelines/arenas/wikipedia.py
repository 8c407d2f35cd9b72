"""Wikipedia: editorial attention — revisions and daily page views of articles.

Articles are the design's ``seed_articles`` plus what the MediaWiki search finds for each
term group, in each chosen language edition (default: the design's language, Danish).
Per article, three kinds of request:

- revisions (``prop=revisions``), ONE title per request: MediaWiki refuses ``rvlimit``,
  ``rvstart`` and ``rvend`` with several titles ("may only be used on a single page"), so
  the original's 50-title batches never worked; pages follow ``continue``/``rvcontinue``.
  No ``rvend`` is sent: paging stops at the first revision older than the window, whose
  ``size`` is the parent size the oldest in-window revision's delta needs (the original
  subtracted an unrequested ``parentsize`` and always got 0).
- the talk page's revisions the same way (``Talk:`` is the canonical namespace name every
  edition accepts; the API normalizes it to ``Diskussion:`` on da.wikipedia);
- daily page views from the Wikimedia REST API (``agent=user``: spiders and automated
  traffic excluded), one request for the whole window; 404 there means "no data".

Edits by accounts in the edition's ``bot`` group (``list=allusers&augroup=bot``, one
listing per edition and run) are left out, as in the spec.

Wikimedia's rules: a descriptive User-Agent with the operator's contact
(``OPERATOR_CONTACT``; without one the arena refuses to run rather than be blocked), and
``maxlag=5`` on every Action API call; a lag answer (``error.code == "maxlag"``, HTTP 200
with ``Retry-After``) waits and asks again. 5 requests a second per host.

Editions are Wikipedia language codes from a fixed list, never a host a design writes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, parse_retry_after
from observatory_pipelines.arenas.matching import quoted_term, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    failed_source,
    map_page,
    record_cap,
)
from observatory_pipelines.arenas.text import clean_str, plausible_date

DEFAULT_API_URL = "https://{lang}.wikipedia.org/w/api.php"
DEFAULT_PAGEVIEWS_URL = "https://wikimedia.org/api/rest_v1"
CLIENT_NAME = "ObservatoryPipelines/0.1"
MAXLAG_SECONDS = 5  # Wikimedia's recommended value (Manual:Maxlag parameter)
REVISIONS_PER_REQUEST = 500  # rvlimit's ceiling without the apihighlimits right
SEARCH_LIMIT_MAX = 50
REVISION_PROPS = "ids|timestamp|user|userid|comment|size|tags|flags"
# Wikipedia editions a design may choose (language codes as in {code}.wikipedia.org). A
# fixed list: the code becomes a host name, so nothing outside it is ever asked.
LANGUAGE_CODES = frozenset(
    """
    da en sv no nn is fo kl se fi et lv lt de nl fy lb fr es ca eu gl pt it pl cs sk hu ro
    bg el hr sr sh bs sl mk sq ru uk be tr ku ar fa ur ps so am ti he hi bn ta te vi id ms
    th tl zh ja ko sw cy ga simple
    """.split()
)
_IP = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]+)$", re.I)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_true(value: Any) -> bool:
    # formatversion=2 sends booleans; formatversion=1 sends "" for a flag that is set.
    return value is True or value == ""


def split_seed(seed: str, default_lang: str) -> tuple[str, str]:
    """``"en:Denmark"`` → ("en", "Denmark"); a prefix that is no edition stays in the title."""
    prefix, sep, rest = seed.partition(":")
    if sep and prefix.strip().lower() in LANGUAGE_CODES and rest.strip():
        return prefix.strip().lower(), rest.strip()
    return default_lang, seed.strip()


def user_agent(contact: str) -> str:
    # Wikimedia's User-Agent policy: client/version (contact) library/version.
    return f"{CLIENT_NAME} (issue observatory; {contact}) httpx/{httpx.__version__}"


class StopCollecting(ArenaError):
    """The platform keeps refusing (rate limited through the retries): stop the arena."""


@register
class WikipediaCollector(Collector):
    platform = "wikipedia"
    arena = "reference"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 20_000
    min_request_interval = 0.2  # 5 requests a second per host (spec)
    host_setting = "WIKIPEDIA_API_URL"
    quota = (
        "no quota; 5 requests/s per host, maxlag=5 on the Action API, a User-Agent with "
        "OPERATOR_CONTACT"
    )
    option_specs = (
        ArenaOption(
            "languages",
            "list of strings",
            None,
            "Wikipedia editions (language codes from a fixed list); default: the design's language",
        ),
        ArenaOption(
            "seed_articles",
            "list of strings",
            [],
            "article titles collected without searching; 'en:Denmark' names another edition",
        ),
        ArenaOption("search", "bool", True, "also collect the articles the terms find"),
        ArenaOption(
            "articles_per_term",
            "int",
            10,
            f"search results kept per term group and edition, at most {SEARCH_LIMIT_MAX}",
        ),
        ArenaOption("revisions", "bool", True, "collect the articles' revisions in the window"),
        ArenaOption("talk_pages", "bool", True, "also the revisions of each article's talk page"),
        ArenaOption("pageviews", "bool", True, "collect daily page views (human traffic)"),
        ArenaOption("include_bots", "bool", False, "keep edits by accounts in the bot group"),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        languages = cls.check_list(options, "languages", "Wikipedia language codes")
        if languages is not None:
            unknown = [x for x in languages if x.strip().lower() not in LANGUAGE_CODES]
            if unknown:
                raise ArenaOptionError(
                    "arenas.wikipedia.languages must be Wikipedia language codes from the "
                    f"fixed list; {', '.join(repr(x) for x in unknown)} is not one "
                    f"(known: {', '.join(sorted(LANGUAGE_CODES))})"
                )
        cls.check_list(options, "seed_articles", "titles")
        limit = options.get("articles_per_term")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50
        ):
            raise ArenaOptionError(
                f"arenas.wikipedia.articles_per_term must be between 1 and {SEARCH_LIMIT_MAX}"
            )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.api_url = settings.wikipedia_api_url() or DEFAULT_API_URL
        self.pageviews_url = (settings.wikipedia_pageviews_url() or DEFAULT_PAGEVIEWS_URL).rstrip(
            "/"
        )
        self.contact = settings.operator_contact()
        headers = {"User-Agent": user_agent(self.contact)} if self.contact else {}
        self.http = ArenaHttpClient(
            self.rate_limit_state, min_interval=self.min_request_interval, headers=headers
        )
        self._bots: dict[str, frozenset[str]] = {}
        self._remaining = self.max_records_per_run  # records this run may still yield

    # -- configuration ---------------------------------------------------------------------

    def _check_configuration(self) -> None:
        if not self.contact:
            raise ArenaError(
                "wikipedia: OPERATOR_CONTACT is not set; Wikimedia's User-Agent policy asks "
                "for the operator's contact (an e-mail address or URL) and blocks clients "
                "without one"
            )
        if "{lang}" not in self.api_url:
            raise ArenaError(
                "wikipedia: WIKIPEDIA_API_URL must hold {lang} (one Action API per edition), "
                "e.g. https://{lang}.wikipedia.org/w/api.php"
            )

    @staticmethod
    def _languages(request: CollectionRequest) -> list[str]:
        chosen = (request.options or {}).get("languages")
        if chosen:
            return list(dict.fromkeys(x.strip().lower() for x in chosen))
        lang = (request.language or "da").lower()
        return [lang if lang in LANGUAGE_CODES else "da"]

    def estimate_units(self, request: CollectionRequest) -> int:
        options = request.options or {}
        langs = self._languages(request)
        groups = len(term_groups(request.terms)) if options.get("search", True) else 0
        per_term = int(options.get("articles_per_term", 10))
        articles = len(options.get("seed_articles") or []) + len(langs) * groups * per_term
        per_article = int(options.get("revisions", True)) * (
            1 + int(options.get("talk_pages", True))
        ) + int(options.get("pageviews", True))
        return len(langs) * (groups + 1) + articles * per_article

    def health_check(self) -> HealthStatus:
        try:
            self._check_configuration()
            body = self._action("da", {"action": "query", "meta": "siteinfo"}, "wikipedia health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        name = ((body.get("query") or {}).get("general") or {}).get("sitename")
        return HealthStatus(ok=True, detail=f"da.wikipedia answers ({name})")

    # -- HTTP ------------------------------------------------------------------------------

    def _json(self, response: httpx.Response, what: str) -> Any:
        where = describe(str(response.request.url))
        status = response.status_code
        if status in (403, 429):
            # Wikimedia answers 403 to clients its User-Agent policy blocks: asking on
            # would be refused the same way.
            raise StopCollecting(f"{what}: HTTP {status} from {where}; stopped asking")
        if status >= 400 and status != 404:
            raise SourceFailed(f"{what}: HTTP {status} from {where}", "http_error")
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "unknown type")
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not JSON ({kind})", "unparseable"
            ) from None

    def _get(self, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.get(url, **kwargs)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopCollecting(f"{what}: {exc}") from None
            raise SourceFailed(f"{what}: {exc}", exc.reason) from None
        finally:
            self.units_spent += 1
        return response

    def _action(self, lang: str, params: dict[str, Any], what: str) -> dict[str, Any]:
        """One Action API call; a maxlag answer waits its Retry-After and asks again."""
        url = self.api_url.format(lang=lang)
        query = {"format": "json", "formatversion": "2", "maxlag": MAXLAG_SECONDS, **params}
        tries = self.http.max_retries + 1
        for attempt in range(tries):
            response = self._get(url, what, params=query)
            body = self._json(response, what)
            if response.status_code == 404 or not isinstance(body, dict):
                raise SourceFailed(
                    f"{what}: HTTP {response.status_code} from {describe(url)} is not an API reply",
                    "http_error",
                )
            error = body.get("error")
            if not isinstance(error, dict):
                return body
            code = str(error.get("code") or "unknown")
            if code != "maxlag":
                info = clean_str(error.get("info"), 200) or ""
                raise SourceFailed(f"{what}: API error {code} ({info})", "error")
            if attempt + 1 == tries:
                break
            wait = parse_retry_after(response.headers.get("retry-after"))
            wait = min(MAXLAG_SECONDS if wait is None else wait, self.http.max_wait)
            self.rate_limit_state["maxlag_waits"] = (
                int(self.rate_limit_state.get("maxlag_waits", 0)) + 1
            )
            self.rate_limit_state["last_lag_s"] = error.get("lag")
            time.sleep(wait)
        raise StopCollecting(f"{what}: the wiki stayed lagged (maxlag) through {tries} attempts")

    def _pages(self, lang: str, params: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every continuation of one query (``continue`` sent back whole), until none."""
        carry: dict[str, Any] = {}
        while True:
            body = self._action(lang, {"action": "query", **params, **carry}, what)
            yield body
            more = body.get("continue")
            if not isinstance(more, dict) or not more or more == carry:
                return
            carry = more

    # -- collection ------------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        self._check_configuration()
        options = request.options or {}
        languages = self._languages(request)
        self._remaining = record_cap(self, request)
        tally = SourceTally(self.platform)
        articles: dict[tuple[str, str], str] = {}  # (lang, title) -> how it was found
        for seed in options.get("seed_articles") or []:
            lang, title = split_seed(seed, languages[0])
            if title:
                articles.setdefault((lang, title), "seed")
        queue: list[str] = []  # sources not tried when the platform stopped us
        try:
            if options.get("search", True):
                limit = min(int(options.get("articles_per_term", 10)), SEARCH_LIMIT_MAX)
                for lang in languages:
                    for group in term_groups(request.terms):
                        query = " ".join(quoted_term(t) for t in group)
                        tally.tried += 1
                        try:
                            found = self._search(lang, query, limit)
                        except StopCollecting:
                            raise
                        except ArenaError as exc:
                            yield self._fail(tally, exc)
                            continue
                        tally.ok(Page(records=[]))
                        for title in found:
                            articles.setdefault((lang, title), f"search:{query}")
            pending = list(articles.items())
            for index, ((lang, title), found_by) in enumerate(pending):
                if self._remaining <= 0:
                    self.rate_limit_state["stopped"] = (
                        f"record cap reached; {len(pending) - index} articles not collected"
                    )
                    break
                queue = [f"wikipedia {lg}:{t}" for (lg, t), _ in pending[index + 1 :]]
                tally.tried += 1
                try:
                    for page in self._article(lang, title, found_by, request, options):
                        self._remaining -= len(page.records)
                        yield tally.ok(page)
                except StopCollecting:
                    raise
                except ArenaError as exc:
                    yield self._fail(tally, exc)
            queue = []
        except StopCollecting as exc:
            # Asking on would only be refused too: keep what we have and say why we stopped.
            message = str(exc)
            self.rate_limit_state["stopped"] = message
            tally.failed.append(message)
            page = failed_source(message, "rate_limited")
            page.skipped += [
                SkippedSource(name, "stopped", f"{name}: not asked, the collection stopped")
                for name in queue
            ]
            yield page
        tally.finish()

    @staticmethod
    def _fail(tally: SourceTally, exc: ArenaError) -> Page:
        message = str(exc)
        tally.failed.append(message)
        return failed_source(message, getattr(exc, "reason", "error"))

    def _search(self, lang: str, query: str, limit: int) -> list[str]:
        params = {
            "list": "search",
            "srsearch": query,
            "srnamespace": 0,
            "srlimit": limit,
            "srprop": "timestamp",
        }
        body = self._action(lang, {"action": "query", **params}, f"wikipedia {lang} search")
        hits = (body.get("query") or {}).get("search") or []
        return [h["title"] for h in hits if isinstance(h, dict) and clean_str(h.get("title"))]

    def _bot_names(self, lang: str) -> frozenset[str]:
        if lang not in self._bots:
            names: set[str] = set()
            params = {"list": "allusers", "augroup": "bot", "aulimit": 500}
            for body in self._pages(lang, params, f"wikipedia {lang} bot list"):
                for user in (body.get("query") or {}).get("allusers") or []:
                    if isinstance(user, dict) and user.get("name"):
                        names.add(str(user["name"]))
            self._bots[lang] = frozenset(names)
        return self._bots[lang]

    def _article(
        self,
        lang: str,
        title: str,
        found_by: str,
        request: CollectionRequest,
        options: dict[str, Any],
    ) -> Iterator[Page]:
        source = f"wikipedia {lang}:{title}"
        canonical = title
        if options.get("revisions", True):
            bots = frozenset() if options.get("include_bots") else self._bot_names(lang)
            canonical = yield from self._revisions(
                lang, title, found_by, request, bots, source, must_exist=True
            )
            if options.get("talk_pages", True):
                yield from self._revisions(
                    lang, f"Talk:{canonical}", found_by, request, bots, source
                )
        if options.get("pageviews", True):
            yield self._pageviews(lang, canonical, found_by, request, source)

    def _revisions(
        self,
        lang: str,
        title: str,
        found_by: str,
        request: CollectionRequest,
        bots: frozenset[str],
        source: str,
        must_exist: bool = False,
    ) -> Iterator[Page]:
        """Pages of one title's revisions in the window; returns the canonical title."""
        params = {
            "prop": "revisions",
            "titles": title,
            "redirects": 1,
            "rvprop": REVISION_PROPS,
            "rvlimit": REVISIONS_PER_REQUEST,
            "rvdir": "older",
            "rvstart": _iso(request.date_to),
        }
        sizes: dict[int, int] = {}
        held: list[tuple[dict[str, Any], dict[str, Any]]] = []  # waiting for the parent's size
        canonical = title
        for body in self._pages(lang, params, f"{source} revisions"):
            pages = (body.get("query") or {}).get("pages") or []
            if isinstance(pages, dict):  # formatversion=1 keys pages by id
                pages = list(pages.values())
            page = next((p for p in pages if isinstance(p, dict)), None)
            if page is None or _is_true(page.get("missing")) or _is_true(page.get("invalid")):
                if must_exist:
                    raise SourceFailed(f"{source}: no such article on {lang}.wikipedia", "error")
                return canonical
            canonical = str(page.get("title") or title)
            revisions = [r for r in page.get("revisions") or [] if isinstance(r, dict)]
            older = False
            batch = held
            held = []
            for rev in revisions:
                if isinstance(rev.get("revid"), int) and isinstance(rev.get("size"), int):
                    sizes[rev["revid"]] = rev["size"]
                stamp = plausible_date(rev.get("timestamp"), {})
                if stamp is not None and stamp < request.date_from:
                    older = True  # the parent of the oldest revision in the window
                    break
                if stamp is not None and stamp >= request.date_to:
                    continue
                batch.append((page, rev))
            finished = older or "continue" not in body
            ready = []
            for item in batch:
                parent = item[1].get("parentid")
                if not finished and parent and parent not in sizes:
                    held.append(item)  # its parent opens the next page
                else:
                    ready.append(item)
            yield map_page(
                ready,
                lambda item: self._revision(lang, item[0], item[1], sizes, bots, found_by),
                limit=self._remaining,
            )
            if finished:
                break
        return canonical

    def _revision(
        self,
        lang: str,
        page: dict[str, Any],
        rev: dict[str, Any],
        sizes: dict[int, int],
        bots: frozenset[str],
        found_by: str,
    ) -> NormalizedRecord:
        revid = rev.get("revid")
        if not isinstance(revid, int) or isinstance(revid, bool) or revid <= 0:
            raise Reject("revision without a revid")
        user = clean_str(rev.get("user"))
        if user and user in bots:
            raise Skip
        project = f"{lang}.wikipedia"
        namespace = page.get("ns")
        parent = rev.get("parentid")
        size = rev.get("size")
        delta = None
        if isinstance(size, int):
            if parent == 0:
                delta = size  # the page's first revision
            elif parent in sizes:
                delta = size - sizes[parent]
        meta: dict[str, Any] = {
            "wiki_project": project,
            "page_id": page.get("pageid"),
            "namespace": namespace,
            "is_talk_page": isinstance(namespace, int) and namespace % 2 == 1,
            "revid": revid,
            "parentid": parent,
            "size": size,
            "delta": delta,
            "minor": _is_true(rev.get("minor")),
            "tags": rev.get("tags") or [],
            "found_by": found_by,
        }
        published = plausible_date(rev.get("timestamp"), meta)
        if published is None:
            raise Reject(f"revision {revid} without a usable timestamp")
        anonymous = _is_true(rev.get("anon")) or bool(user and _IP.match(user))
        if anonymous:
            meta["anonymous"] = True
        if _is_true(rev.get("userhidden")):
            meta["user_hidden"] = True
        comment = None if _is_true(rev.get("commenthidden")) else clean_str(rev.get("comment"))
        platform_id = f"{project}:rev:{revid}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="wiki_revision",
            platform_id=platform_id,
            published_at=published,
            url=f"https://{project}.org/w/index.php?oldid={revid}",
            title=clean_str(page.get("title")),
            text_content=comment,
            language=lang if lang != "simple" else "en",
            # An IP address is personal data: only its pseudonym is kept (author_identity).
            author_platform_id=None if anonymous else user,
            author_display_name=None if anonymous else user,
            author_identity=user if anonymous else None,
            raw_metadata=meta,
            # A revision is unique by its id; summaries ("typo") repeat.
            hash_source=platform_id,
        )

    def _pageviews(
        self,
        lang: str,
        title: str,
        found_by: str,
        request: CollectionRequest,
        source: str,
    ) -> Page:
        first = request.date_from.astimezone(UTC).date()
        last = (request.date_to.astimezone(UTC) - timedelta(microseconds=1)).date()
        # Daily data appears about a day late: yesterday is the newest day worth asking.
        last = min(last, datetime.now(UTC).date() - timedelta(days=1))
        if first > last:
            return Page(records=[])
        project = f"{lang}.wikipedia"
        article = quote(title.replace(" ", "_"), safe="")
        url = (
            f"{self.pageviews_url}/metrics/pageviews/per-article/{project}/all-access/user/"
            f"{article}/daily/{first:%Y%m%d}/{last:%Y%m%d}"
        )
        response = self._get(url, f"{source} pageviews")
        body = self._json(response, f"{source} pageviews")
        if response.status_code == 404:  # the API's answer for "no data for these days"
            return Page(records=[])
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SourceFailed(f"{source} pageviews: reply holds no items list", "unparseable")
        return map_page(
            items,
            lambda item: self._pageview(lang, title, item, found_by, request),
            limit=self._remaining,
        )

    def _pageview(
        self,
        lang: str,
        title: str,
        item: dict[str, Any],
        found_by: str,
        request: CollectionRequest,
    ) -> NormalizedRecord:
        stamp = clean_str(item.get("timestamp"))
        try:
            day = datetime.strptime((stamp or "")[:8], "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            raise Reject(f"page view of {title} without a usable day ({stamp!r})") from None
        if not (day < request.date_to and day + timedelta(days=1) > request.date_from):
            raise Skip  # a day the window does not touch
        views = item.get("views")
        if not isinstance(views, int) or isinstance(views, bool):
            raise Reject(f"page view of {title} on {day:%Y-%m-%d} without a view count")
        project = f"{lang}.wikipedia"
        platform_id = f"{project}:pv:{title}:{day:%Y-%m-%d}"
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="wiki_pageview",
            platform_id=platform_id,
            published_at=day,
            url=f"https://{project}.org/wiki/{quote(title.replace(' ', '_'))}",
            title=title,
            language=lang if lang != "simple" else "en",
            views_count=views,
            raw_metadata={
                "wiki_project": project,
                "article": item.get("article"),
                "granularity": item.get("granularity"),
                "access": item.get("access"),
                "agent": item.get("agent"),
                "timestamp": stamp,
                "found_by": found_by,
            },
            hash_source=platform_id,
        )
