"""GDELT DOC 2.0 article lists: one request per term/group, Danish source country.

No paging exists: each query returns up to 250 articles, newest first. GDELT
answers errors with HTML or plain text, so a non-JSON reply skips that term and
is reported (spec). Up to 8 tries with linear waits (10 s x n; 429 waits at
least as long as its Retry-After); ~1 request per 5 s per host.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaError,
    ArenaOption,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SearchTerm,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, check_status, json_body
from observatory_pipelines.arenas.matching import quoted_term, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    in_window,
    map_page,
    record_cap,
)
from observatory_pipelines.arenas.text import clean_str, plausible_date, sha256_hex

DEFAULT_BASE_URL = "http://api.gdeltproject.org"
DOC_PATH = "/api/v2/doc/doc"
MAX_RECORDS = 250
# GDELT names a source's language in English ("Danish"); ISO 639-1 for each language its
# translingual pipeline covers. A name not listed declares nothing (the detector decides):
# cutting it to two letters would make "Estonian" Spanish.
LANGUAGES = {
    "afrikaans": "af", "albanian": "sq", "arabic": "ar", "armenian": "hy",
    "azerbaijani": "az", "bengali": "bn", "bosnian": "bs", "bulgarian": "bg",
    "catalan": "ca", "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da",
    "dutch": "nl", "english": "en", "estonian": "et", "finnish": "fi", "french": "fr",
    "galician": "gl", "georgian": "ka", "german": "de", "greek": "el", "gujarati": "gu",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is",
    "indonesian": "id", "italian": "it", "japanese": "ja", "kannada": "kn",
    "kazakh": "kk", "korean": "ko", "latvian": "lv", "lithuanian": "lt",
    "macedonian": "mk", "malay": "ms", "malayalam": "ml", "marathi": "mr",
    "mongolian": "mn", "nepali": "ne", "norwegian": "no", "norwegiannynorsk": "nn",
    "persian": "fa", "polish": "pl", "portuguese": "pt", "punjabi": "pa",
    "romanian": "ro", "russian": "ru", "serbian": "sr", "sinhalese": "si", "slovak": "sk",
    "slovenian": "sl", "somali": "so", "spanish": "es", "swahili": "sw", "swedish": "sv",
    "tamil": "ta", "telugu": "te", "thai": "th", "tibetan": "bo", "turkish": "tr",
    "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi",
}  # fmt: skip


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")


def group_query(group: list[SearchTerm], country: str) -> str:
    parts = [quoted_term(t) for t in group]
    core = parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
    return f"{core} sourcecountry:{country}"


@register
class GdeltCollector(Collector):
    platform = "gdelt"
    arena = "news_media"
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 5_000
    option_specs = (
        ArenaOption("source_country", "string", "DA", "GDELT source country code"),
        ArenaOption("maxrecords", "int", MAX_RECORDS, f"articles per query, at most {MAX_RECORDS}"),
    )
    min_request_interval = 5.0
    host_setting = "GDELT_API_URL"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.gdelt_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state,
            timeout=120.0,
            min_interval=self.min_request_interval,
            linear_backoff=True,
            backoff_scale=10.0,
            max_retries=7,
        )

    def estimate_units(self, request: CollectionRequest) -> int:
        return len(term_groups(request.terms))

    def health_check(self) -> HealthStatus:
        params = {"query": "danmark sourcecountry:DA", "mode": "artlist", "format": "json"}
        try:
            response = self.http.get(
                f"{self.base_url}{DOC_PATH}", params={**params, "maxrecords": 1}
            )
            json_body(response, "gdelt health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=response.status_code < 400, detail=f"HTTP {response.status_code}")

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        options = request.options or {}
        country = options.get("source_country", self.option_default("source_country"))
        maxrecords = min(int(options.get("maxrecords", MAX_RECORDS)), MAX_RECORDS)
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        for group in term_groups(request.terms):
            if remaining <= 0:
                break
            query = group_query(group, country)
            tally.tried += 1
            self.units_spent += 1
            params = {
                "query": query,
                "mode": "artlist",
                "format": "json",
                "maxrecords": maxrecords,
                "sort": "datedesc",
                "startdatetime": _stamp(request.date_from),
                "enddatetime": _stamp(request.date_to),
            }
            try:
                response = self.http.get(f"{self.base_url}{DOC_PATH}", params=params)
                check_status(response, f"gdelt query {query!r}")
                body = json_body(response, f"gdelt query {query!r}")
                articles = body.get("articles") or [] if isinstance(body, dict) else None
                if articles is None:
                    raise ArenaError(f"gdelt query {query!r}: reply is not a JSON object")
            except ArenaError as exc:
                # Auth errors cannot happen (no credentials): every failure skips the term.
                yield tally.fail(
                    str(exc) if "gdelt" in str(exc) else f"gdelt query {query!r}: {exc}"
                )
                continue
            page = map_page(articles, lambda a: self._map(a, request), seen=seen, limit=remaining)
            remaining -= len(page.records)
            yield tally.ok(page)
        tally.finish()

    def _map(self, article: dict[str, Any], request: CollectionRequest) -> NormalizedRecord:
        url = article.get("url")
        if not url:
            raise Reject("article without url")
        meta = {
            "domain": article.get("domain"),
            "sourcecountry": article.get("sourcecountry"),
            "url_mobile": article.get("url_mobile"),
            "language": article.get("language"),
        }
        published = plausible_date(article.get("seendate"), meta)
        if not in_window(published, request):
            raise Skip
        declared = clean_str(article.get("language"), 50)
        language = LANGUAGES.get("".join((declared or "").lower().split()))
        if declared:
            meta["language_declared"] = declared
        if language:
            meta["language_source"] = "declared"
        title = clean_str(article.get("title"))  # plain text in the artlist JSON
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="article",
            platform_id=sha256_hex(url),
            published_at=published,
            url=url,
            title=title,
            text_content=title,
            language=language,
            author_display_name=article.get("domain"),
            raw_metadata=meta,
            media_urls=[article["socialimage"]] if article.get("socialimage") else [],
            hash_source=url,
        )
