"""Common Crawl: captures of the design's sites in the crawls that overlap the window.

Crawls: ``GET {COMMON_CRAWL_API_URL}/collinfo.json`` lists every crawl as
``{"id": "CC-MAIN-2026-08", "cdx-api": ".../CC-MAIN-2026-08-index", "from": ..., "to":
...}``; the design's ``crawls`` (ids) or, by default, the newest ``max_crawls`` whose time
range overlaps the window are asked. An id that collinfo does not list is skipped by name.

Index (pywb CDX server, as Common Crawl's index docs describe it; **DISAGREE** with the
original, which called ``/{crawl}/search`` — that path 404s, and it read every 404 as "no
results" — and wrote its page offset into ``from``): the endpoint is the crawl's
``cdx-api``, built here as ``{COMMON_CRAWL_API_URL}/{id}-index`` so the host stays the
operator's. First ``?url=&matchType=&output=json&showNumPages=true`` answers ``{"pages":
N, "pageSize": 5, "blocks": B}``; then ``page=0..N-1`` with the same query plus
``filter==status:200`` (``=``: exact match) and ``from``/``to`` (14-digit, ``to``
inclusive) answer NDJSON, one capture a line. A 404 whose body says "No Captures found" is
an empty answer; any other 404 skips that source.

Text: the capture's WARC record, ``GET {COMMON_CRAWL_DATA_URL}/{filename}`` with
``Range: bytes={offset}-{offset+length-1}`` (206 expected; a server that ignores the range
is refused, not read whole), one gzip member parsed by ``common_crawl_warc`` and the HTML
payload's readable text extracted by ``wayback_text`` (html.parser, see there). Caps:
``max_text_fetches`` a run (default and ceiling 50), records longer than
``WARC_MAX_BYTES`` compressed are not fetched, ``WARC_MAX_INFLATED`` after inflating.

Mapping (spec §17): platform_id = ``digest`` (else sha256(url + timestamp));
content_type ``web_index_entry`` (``web_page`` once text is fetched); url; published_at =
the crawl time (not publication); language from ``languages`` (ISO 639-3, ``dan`` → ``da``,
the first listed); author = the host; hash over the URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

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
from observatory_pipelines.arenas.common_crawl_warc import WarcUnreadable, read_response
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
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
from observatory_pipelines.arenas.text import clamp_record, parse_datetime, sha256_hex
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

DEFAULT_INDEX_URL = "https://index.commoncrawl.org"
DEFAULT_DATA_URL = "https://data.commoncrawl.org"
WARC_MAX_BYTES = 2 * 1024 * 1024  # one compressed record
WARC_MAX_INFLATED = 10 * 1024 * 1024
DEFAULT_MAX_CRAWLS = 2
HTML_TYPES = ("text/html", "application/xhtml+xml")
RAW_FIELDS = {
    "urlkey": "urlkey",
    "timestamp": "timestamp",
    "mime": "mime",
    "mime-detected": "mime_detected",
    "status": "status",
    "digest": "content_digest",
    "filename": "warc_filename",
    "offset": "warc_record_offset",
    "length": "warc_record_length",
    "languages": "languages",
}
# ISO 639-3 (what Common Crawl's language detector writes) to the 639-1 codes we store.
ISO639_3 = {
    "dan": "da",
    "eng": "en",
    "swe": "sv",
    "nor": "no",
    "nob": "nb",
    "nno": "nn",
    "deu": "de",
    "fra": "fr",
    "spa": "es",
    "ita": "it",
    "nld": "nl",
    "fin": "fi",
    "isl": "is",
    "fao": "fo",
    "kal": "kl",
    "pol": "pl",
    "rus": "ru",
    "ukr": "uk",
    "ara": "ar",
    "tur": "tr",
    "por": "pt",
}


def language_of(languages: Any) -> str | None:
    if not isinstance(languages, str) or not languages.strip():
        return None
    first = languages.split(",")[0].strip().lower()
    return ISO639_3.get(first, first if len(first) == 2 else None)


@register
class CommonCrawlCollector(Collector):
    platform = "common_crawl"
    arena = "web"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 10_000
    min_request_interval = 1.0  # 1 index request a second (spec)
    host_setting = "COMMON_CRAWL_API_URL"
    quota = (
        f"no published quota; 1 index request/s (the service sheds load), "
        f"{TEXT_FETCH_CAP} WARC records fetched a run"
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
            "https URL prefixes whose captures are listed, e.g. https://www.dr.dk/nyheder/",
        ),
        ArenaOption(
            "crawls",
            "list of strings",
            [],
            "crawl ids (CC-MAIN-YYYY-WW) to ask; default: the newest crawls overlapping the window",
        ),
        ArenaOption(
            "max_crawls",
            "int",
            DEFAULT_MAX_CRAWLS,
            "crawls overlapping the window asked when crawls is not given (newest first)",
        ),
        ArenaOption(
            "languages",
            "list of strings",
            [],
            "keep captures whose detected languages include one of these (e.g. da); "
            "default: every capture",
        ),
        ArenaOption(
            "fetch_text", "bool", True, "fetch HTML captures' WARC records and extract text"
        ),
        ArenaOption(
            "max_text_fetches",
            "int",
            TEXT_FETCH_CAP,
            f"WARC records fetched for text in a run (at most {TEXT_FETCH_CAP})",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        check_source_options(options, cls.platform)
        for key in ("crawls", "languages"):
            cls.check_list(options, key, "strings")
        for crawl in options.get("crawls") or []:
            if not crawl.startswith("CC-MAIN-") or "/" in crawl or "?" in crawl:
                raise ArenaOptionError(
                    f"arenas.{cls.platform}.crawls: {crawl!r} is not a crawl id (CC-MAIN-YYYY-WW)"
                )
        for key in ("max_text_fetches", "max_crawls"):
            value = options.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ArenaOptionError(f"arenas.{cls.platform}.{key} must be a whole number >= 0")
        fetch = options.get("fetch_text")
        if fetch is not None and not isinstance(fetch, bool):
            raise ArenaOptionError(f"arenas.{cls.platform}.fetch_text must be true or false")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.index_url = (settings.common_crawl_api_url() or DEFAULT_INDEX_URL).rstrip("/")
        self.data_url = (settings.common_crawl_data_url() or DEFAULT_DATA_URL).rstrip("/")
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)
        self.warc = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)
        self.warc.max_bytes = WARC_MAX_BYTES

    def estimate_units(self, request: CollectionRequest) -> int:
        options = request.options or {}
        sources, _ = design_sources(options, request.actors, self.platform)
        crawls = len(options.get("crawls") or []) or options.get("max_crawls", DEFAULT_MAX_CRAWLS)
        fetches = TextFetches(options).left
        # collinfo, then per crawl and source the page count and at least one page
        return (1 + 2 * crawls * len(sources) + fetches) if sources else 0

    def health_check(self) -> HealthStatus:
        try:
            crawls = self._collinfo()
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        newest = crawls[0]["id"] if crawls else "none"
        return HealthStatus(ok=True, detail=f"{len(crawls)} crawls listed, newest {newest}")

    # -- the index ------------------------------------------------------------------------

    def _get(self, what: str, url: str, params: dict[str, str] | None = None):
        try:
            return self.http.get(url, params=params)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopCollecting(f"{what}: {exc}") from None
            raise SourceFailed(f"{what}: {exc}", exc.reason) from None
        finally:
            self.units_spent += 1

    def _collinfo(self) -> list[dict[str, Any]]:
        what = "common_crawl collinfo"
        response = self._get(what, f"{self.index_url}/collinfo.json")
        where = describe(str(response.request.url))
        kind = response.headers.get("content-type", "unknown type")
        if response.status_code >= 400:
            raise ArenaError(f"{what}: HTTP {response.status_code} from {where} ({kind})")
        try:
            data = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ArenaError(
                f"{what}: HTTP {response.status_code} from {where} is not JSON ({kind})"
            ) from None
        if not isinstance(data, list):
            raise ArenaError(f"{what}: {where} did not list crawls")
        crawls = [c for c in data if isinstance(c, dict) and isinstance(c.get("id"), str)]
        return sorted(crawls, key=lambda c: c["id"], reverse=True)

    def _crawls(self, request: CollectionRequest) -> tuple[list[str], list[tuple[str, str]]]:
        """(crawl ids to ask, [(id, why)] of the design's ids that collinfo does not list)."""
        options = request.options or {}
        listed = self._collinfo()
        known = {c["id"] for c in listed}
        wanted = options.get("crawls") or []
        if wanted:
            unknown = [(c, "not listed in collinfo.json") for c in wanted if c not in known]
            return [c for c in dict.fromkeys(wanted) if c in known], unknown
        overlapping = []
        for crawl in listed:
            start, end = parse_datetime(crawl.get("from")), parse_datetime(crawl.get("to"))
            if start is None or end is None:
                continue
            if start < request.date_to and end >= request.date_from:
                overlapping.append(crawl["id"])
        limit = options.get("max_crawls")
        limit = DEFAULT_MAX_CRAWLS if limit is None else limit
        return overlapping[:limit], []

    def _index(
        self, what: str, crawl: str, params: dict[str, str]
    ) -> tuple[int, bytes | dict[str, Any] | None, str]:
        url = f"{self.index_url}/{crawl}-index"
        response = self._get(what, url, {"output": "json", **params})
        where = describe(str(response.request.url))
        status = response.status_code
        kind = response.headers.get("content-type", "unknown type")
        body = response.content
        if status == 404 and b"No Captures found" in body[:2000]:
            return status, None, where
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where} ({kind})", "http_error")
        if body.lstrip()[:1] == b"<":
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is HTML, not the index's JSON ({kind})",
                "unparseable",
            )
        return status, body, where

    def _pages(self, what: str, crawl: str, source: WebSource, request) -> Iterator[list[Any]]:
        base = {
            "url": source.value,
            "matchType": "domain" if source.kind == "domain" else "prefix",
        }
        _, body, where = self._index(what, crawl, {**base, "showNumPages": "true"})
        if body is None:
            return
        try:
            info = json.loads(body.decode("utf-8"))
            pages = int(info["pages"])
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise SourceFailed(
                f"{what}: the page count from {where} is not {{'pages': N}} JSON", "unparseable"
            ) from None
        start, end = window_timestamps(request.date_from, request.date_to)
        for number in range(pages):
            params = {**base, "filter": "=status:200", "from": start, "to": end}
            _, body, _ = self._index(what, crawl, {**params, "page": str(number)})
            if body is None:
                continue
            lines = []
            for line in body.decode("utf-8", errors="replace").splitlines():
                if not line.strip():
                    continue
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    lines.append(None)  # a broken line: the mapper rejects it, the rest goes on
            yield lines

    # -- records --------------------------------------------------------------------------

    def _mapper(self, crawl: str, source: WebSource, request: CollectionRequest):
        wanted_languages = {str(v).lower() for v in (request.options or {}).get("languages") or []}
        self.rate_limit_state.setdefault("language_filtered", 0)

        def mapper(line: Any) -> NormalizedRecord:
            if not isinstance(line, dict):
                raise Reject("index line is not a JSON object")
            url = line.get("url")
            if not isinstance(url, str) or not url.strip():
                raise Reject("capture without its URL")
            timestamp = line.get("timestamp")
            published = capture_time(timestamp)
            if not in_window(published, request):
                raise Reject(f"capture {timestamp} outside the window")
            languages = line.get("languages")
            if wanted_languages:
                codes = {
                    ISO639_3.get(c.strip().lower(), c.strip().lower())
                    for c in str(languages or "").split(",")
                }
                if not codes & wanted_languages:
                    self.rate_limit_state["language_filtered"] += 1
                    raise Skip()
            host = host_of(url)
            meta = {name: line.get(key) for key, name in RAW_FIELDS.items() if key in line}
            meta["charset"] = line.get("charset") or line.get("encoding")
            meta["crawl"] = crawl
            meta["source"] = source.label
            meta["content_fetched"] = False
            digest = line.get("digest")
            return NormalizedRecord(
                platform=self.platform,
                arena=self.arena,
                content_type="web_index_entry",
                platform_id=digest
                if isinstance(digest, str) and digest
                else sha256_hex(url + timestamp),
                published_at=published,
                url=url,
                language=language_of(languages),
                author_platform_id=host,
                author_display_name=host,
                raw_metadata=meta,
                hash_source=url,
            )

        return mapper

    def _fetch_text(self, record: NormalizedRecord) -> None:
        meta = record.raw_metadata
        mime = str(meta.get("mime_detected") or meta.get("mime") or "").lower()
        if not mime.startswith(HTML_TYPES):
            meta["content_fetch_error"] = f"not fetched: {mime or 'no type'} is not HTML"
            return
        try:
            offset = int(meta.get("warc_record_offset"))
            length = int(meta.get("warc_record_length"))
            filename = str(meta["warc_filename"])
        except (TypeError, ValueError, KeyError):
            meta["content_fetch_error"] = "not fetched: the index gave no WARC offset/length"
            return
        if length > WARC_MAX_BYTES:
            meta["content_fetch_error"] = f"WARC record of {length} bytes over the cap"
            meta["content_skipped_size_bytes"] = length
            return
        if filename.startswith("/") or ".." in filename.split("/") or "://" in filename:
            meta["content_fetch_error"] = "not fetched: the WARC file name is not a data path"
            return
        url = f"{self.data_url}/{filename}"
        headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
        meta["content_fetch_url"] = url
        meta["content_fetched_at"] = datetime.now(UTC).isoformat()
        try:
            response = self.warc.get(url, headers=headers)
        except SourceFailed as exc:
            meta["content_fetch_error"] = str(exc)[:300]
            return
        finally:
            self.units_spent += 1
        where = describe(str(response.request.url))
        if response.status_code != 206 and not (
            response.status_code == 200 and len(response.content) == length
        ):
            meta["content_fetch_error"] = (
                f"HTTP {response.status_code} from {where}: not the {length}-byte range asked for"
            )
            return
        try:
            warc = read_response(response.content, WARC_MAX_INFLATED)
        except WarcUnreadable as exc:
            meta["content_fetch_error"] = f"{where}: {exc}"
            return
        meta["warc_http_status"] = warc.http_status
        content_type = warc.http_headers.get("content-type") or (
            f"text/html; charset={meta['charset']}" if meta.get("charset") else None
        )
        page = extract_text(warc.payload, content_type)
        meta.update(content_fetched=True, extractor=EXTRACTOR, text_charset=page.charset)
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
                "common_crawl: the design names no domains, url_prefixes or actors to look up"
            )
        tally = SourceTally(self.platform)
        for name, why in refused:
            tally.tried += 1
            tally.failed.append(why)
            yield failed_source(f"common_crawl {name}: {why}", "error")
        crawls, unknown = self._crawls(request)
        for crawl, why in unknown:
            tally.tried += 1
            tally.failed.append(why)
            yield failed_source(f"common_crawl crawl {crawl}: {why}", "error")
        if not crawls:
            self.rate_limit_state["stopped"] = "no crawl to ask: none overlaps the window"
            if unknown or refused:
                tally.finish()
            return
        self.rate_limit_state["crawls"] = crawls
        texts = TextFetches(options)
        remaining = record_cap(self, request)
        seen: set[str] = set()
        jobs = [(crawl, source) for crawl in crawls for source in sources]
        for index, (crawl, source) in enumerate(jobs):
            if remaining <= 0:
                self.rate_limit_state["stopped"] = (
                    f"record cap reached; {len(jobs) - index} crawl/source queries not asked"
                )
                break
            tally.tried += 1
            what = f"common_crawl {crawl} {source.label}"
            try:
                for lines in self._pages(what, crawl, source, request):
                    mapper = self._mapper(crawl, source, request)
                    page = map_page(lines, mapper, seen=seen, limit=remaining)
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
                not_asked = [f"common_crawl {c} {s.label}" for c, s in jobs[index + 1 :]]
                yield stopped_page(message, not_asked)
                break
            except ArenaError as exc:
                tally.failed.append(str(exc))
                yield failed_source(str(exc), getattr(exc, "reason", "error"))
        tally.finish()
