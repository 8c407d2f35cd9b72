"""Wayback: captures of the design's sites in the Internet Archive, with their text.

Index: ``GET {WAYBACK_API_URL}/cdx/search/cdx?url=&matchType=domain|prefix&output=json
&fl=urlkey,timestamp,original,mimetype,statuscode,digest,length&filter=statuscode:200
&collapse=digest&limit=500&showResumeKey=true&from=&to=`` (the CDX server's README:
``from``/``to`` are 1-14 digit timestamps, ``to`` inclusive; ``collapse=digest`` drops a
capture whose content equals the one before it). The JSON reply is a header row, the
data rows and, when more remain, an empty row and ``[resumeKey]``; the next page sends
``resumeKey=`` with the same query. A site with no captures answers ``[]``.

Sources are the design's ``domains`` (``matchType=domain``: the host and its subdomains)
and ``url_prefixes`` (``matchType=prefix``), and its actors on ``wayback`` named by a host
or URL. Terms do not select captures: the original's term mode (every ``*.dk`` capture,
kept when the URL holds the term) is impractical; collection marks the terms a fetched
text matches as for every arena.

Text: for HTML captures, ``{WAYBACK_API_URL}/web/{timestamp}id_/{original}`` (``id_``:
the page as archived, without the Wayback toolbar or rewritten links), at most 15 a
minute, 500 KB each, ``max_text_fetches`` per run (50, the spec's free cap) and
``TEXT_FETCH_BUDGET_S`` seconds in all; the readable text is extracted by
``wayback_text`` (html.parser, see there why no library). A page that cannot be fetched
keeps its capture record with ``content_fetch_error``.

Mapping (spec §18): platform_id sha256(original + timestamp); content_type
``web_page_snapshot`` (``web_page`` once text is fetched); url = original; published_at =
capture time (when the archive saw it, not when it was published); language ``da`` for
``.dk`` hosts, else the page's ``<html lang>``; hash over the URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

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
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    SourceTally,
    failed_source,
    in_window,
    map_page,
    record_cap,
)
from observatory_pipelines.arenas.text import clamp_record, sha256_hex
from observatory_pipelines.arenas.wayback_support import (
    TEXT_FETCH_CAP,
    StopCollecting,
    TextFetches,
    WebSource,
    capture_time,
    check_source_options,
    design_sources,
    host_of,
    stopped_page,
    window_timestamps,
)
from observatory_pipelines.arenas.wayback_text import EXTRACTOR, extract_text

DEFAULT_BASE_URL = "https://web.archive.org"
CDX_PATH = "/cdx/search/cdx"
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
CDX_PAGE_ROWS = 500
TEXT_MAX_BYTES = 500 * 1024
TEXT_FETCH_INTERVAL = 4.0  # 15 archived pages a minute
TEXT_FETCH_TIMEOUT = 30.0
HTML_TYPES = ("text/html", "application/xhtml+xml")


@register
class WaybackCollector(Collector):
    platform = "wayback"
    arena = "web"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 10_000
    min_request_interval = 1.0  # ~1 CDX request a second (spec)
    host_setting = "WAYBACK_API_URL"
    quota = (
        "no published quota; ~1 CDX request/s, archived pages 15/min, "
        f"{TEXT_FETCH_CAP} text fetches a run, {TEXT_MAX_BYTES // 1024} KB a page"
    )
    option_specs = (
        ArenaOption(
            "domains",
            "list of strings",
            [],
            "host names whose captures (host and subdomains) are listed, e.g. dr.dk",
        ),
        ArenaOption(
            "url_prefixes",
            "list of strings",
            [],
            "https URL prefixes whose captures are listed, e.g. https://www.altinget.dk/artikel/",
        ),
        ArenaOption(
            "fetch_text", "bool", True, "fetch HTML captures from the archive and extract text"
        ),
        ArenaOption(
            "max_text_fetches",
            "int",
            TEXT_FETCH_CAP,
            f"archived pages fetched for text in a run (at most {TEXT_FETCH_CAP})",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        check_source_options(options, cls.platform)
        cap = options.get("max_text_fetches")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise ArenaOptionError(
                f"arenas.{cls.platform}.max_text_fetches must be a whole number >= 0"
            )
        fetch = options.get("fetch_text")
        if fetch is not None and not isinstance(fetch, bool):
            raise ArenaOptionError(f"arenas.{cls.platform}.fetch_text must be true or false")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        base = (settings.wayback_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.cdx_url = f"{base}{CDX_PATH}"
        self.web_url = f"{base}/web"
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)
        self.pages = ArenaHttpClient(
            self.rate_limit_state, min_interval=TEXT_FETCH_INTERVAL, timeout=TEXT_FETCH_TIMEOUT
        )
        self.pages.max_bytes = TEXT_MAX_BYTES

    def estimate_units(self, request: CollectionRequest) -> int:
        sources, _ = design_sources(request.options or {}, request.actors, self.platform)
        options = request.options or {}
        fetches = TextFetches(options).left
        return len(sources) + (fetches if sources else 0)

    def health_check(self) -> HealthStatus:
        try:
            rows, _ = self._cdx_page("domain example.com", {"url": "example.com", "limit": "1"})
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail=f"CDX index answered ({len(rows)} rows)")

    # -- the CDX index -------------------------------------------------------------------

    def _cdx_page(
        self, label: str, params: dict[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """(rows as dicts by the header's names, resume key) of one CDX request."""
        what = f"wayback {label}"
        query = {
            "output": "json",
            "fl": ",".join(FIELDS),
            "filter": "statuscode:200",
            "collapse": "digest",
            "limit": str(CDX_PAGE_ROWS),
            "showResumeKey": "true",
            **params,
        }
        try:
            response = self.http.get(self.cdx_url, params=query)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopCollecting(f"{what}: {exc}") from None
            raise SourceFailed(f"{what}: {exc}", exc.reason) from None
        finally:
            self.units_spent += 1
        where = describe(str(response.request.url))
        status = response.status_code
        kind = response.headers.get("content-type", "unknown type")
        if status == 403:
            # The archive excludes some sites on their owners' request ("Blocked Site Error").
            raise SourceFailed(
                f"{what}: HTTP 403 from {where}: the archive refuses this site", "http_error"
            )
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where} ({kind})", "http_error")
        try:
            data = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not CDX JSON ({kind})", "unparseable"
            ) from None
        if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not a CDX row list", "unparseable"
            )
        if not data:
            return [], None
        header, body = data[0], data[1:]
        resume_key = None
        if len(body) >= 2 and body[-2] == [] and len(body[-1]) == 1:
            # The key is printed URL-encoded (to be pasted into a URL as it is); decoded here
            # so that httpx's encoding of the parameter gives the server the same key back.
            resume_key = unquote_plus(str(body[-1][0]))
            body = body[:-2]
        rows = []
        for row in body:
            if not row:
                continue
            # A row of another length cannot be read by the header: the mapper rejects it.
            rows.append(dict(zip(header, row, strict=False)) if len(row) == len(header) else {})
        return rows, resume_key

    def _captures(
        self, source: WebSource, request: CollectionRequest
    ) -> Iterator[list[dict[str, Any]]]:
        start, end = window_timestamps(request.date_from, request.date_to)
        params = {
            "url": source.value,
            "matchType": "domain" if source.kind == "domain" else "prefix",
            "from": start,
            "to": end,
        }
        resume: str | None = None
        while True:
            rows, resume = self._cdx_page(
                source.label, {**params, **({"resumeKey": resume} if resume else {})}
            )
            yield rows
            if not resume:
                return

    # -- records --------------------------------------------------------------------------

    def _map(self, source: WebSource, request: CollectionRequest):
        def mapper(row: dict[str, Any]) -> NormalizedRecord:
            original = row.get("original")
            if not isinstance(original, str) or not original.strip():
                raise Reject("capture without its original URL")
            timestamp = row.get("timestamp")
            published = capture_time(timestamp)
            if not in_window(published, request):
                raise Reject(f"capture {timestamp} outside the window")
            host = host_of(original)
            meta = {k: row.get(k) for k in FIELDS if k != "original"}
            meta["wayback_url"] = f"https://web.archive.org/web/{timestamp}/{original}"
            meta["source"] = source.label
            meta["content_fetched"] = False
            return NormalizedRecord(
                platform=self.platform,
                arena=self.arena,
                content_type="web_page_snapshot",
                platform_id=sha256_hex(original + timestamp),
                published_at=published,
                url=original,
                language="da" if host and host.endswith(".dk") else None,
                author_platform_id=host,
                author_display_name=host,
                raw_metadata=meta,
                hash_source=original,
            )

        return mapper

    def _fetch_text(self, record: NormalizedRecord) -> None:
        meta = record.raw_metadata
        mimetype = str(meta.get("mimetype") or "").lower()
        if not mimetype.startswith(HTML_TYPES):
            meta["content_fetch_error"] = f"not fetched: {mimetype or 'no type'} is not HTML"
            return
        url = f"{self.web_url}/{meta['timestamp']}id_/{record.url}"
        meta["content_fetch_url"] = url
        meta["content_fetched_at"] = datetime.now(UTC).isoformat()
        try:
            response = self.pages.get(url)
        except SourceFailed as exc:
            if exc.reason == "too_large":
                meta["content_fetch_error"] = f"larger than {TEXT_MAX_BYTES // 1024} KB, refused"
                meta["content_skipped_size_bytes"] = TEXT_MAX_BYTES
            else:
                meta["content_fetch_error"] = str(exc)[:300]
            return
        finally:
            self.units_spent += 1
        if response.status_code >= 400:
            meta["content_fetch_error"] = (
                f"HTTP {response.status_code} from {describe(str(response.request.url))}"
            )
            return
        page = extract_text(response.content, response.headers.get("content-type"))
        meta.update(content_fetched=True, extractor=EXTRACTOR, charset=page.charset)
        record.content_type = "web_page"
        record.text_content = page.text
        record.title = page.title
        if record.language is None:
            record.language = page.language

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        options = request.options or {}
        sources, refused = design_sources(options, request.actors, self.platform)
        if not sources and not refused:
            raise ArenaError(
                "wayback: the design names no domains, url_prefixes or wayback actors to look up"
            )
        for name, why in refused:
            page = failed_source(f"wayback {name}: {why}", "error")
            yield page
        texts = TextFetches(options)
        remaining = record_cap(self, request)
        tally = SourceTally(self.platform)
        tally.tried += len(refused)
        tally.failed += [why for _, why in refused]
        seen: set[str] = set()
        for index, source in enumerate(sources):
            if remaining <= 0:
                self.rate_limit_state["stopped"] = (
                    f"record cap reached; {len(sources) - index} sources not asked"
                )
                break
            tally.tried += 1
            try:
                for rows in self._captures(source, request):
                    page = map_page(rows, self._map(source, request), seen=seen, limit=remaining)
                    texts.fetch(page.records, self._fetch_text)
                    page.records = [clamp_record(r) for r in page.records]
                    remaining -= len(page.records)
                    yield tally.ok(page)
                    if remaining <= 0:
                        break
            except StopCollecting as exc:
                message = str(exc)
                self.rate_limit_state["stopped"] = message
                tally.failed.append(message)
                yield stopped_page(message, [f"wayback {s.label}" for s in sources[index + 1 :]])
                break
            except ArenaError as exc:
                tally.failed.append(str(exc))
                yield failed_source(str(exc), getattr(exc, "reason", "error"))
        tally.finish()
