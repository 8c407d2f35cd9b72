"""Google Autocomplete (free, unofficial suggest endpoint): what Google suggests to Danes.

``GET /complete/search?q=&client=chrome&hl=da&gl=dk&ie=utf-8&oe=utf-8``, one request per
term (every term of every group alone, as the spec says); no paging, dates or actors.
The reply is a JSON array, not an object:

- ``client=firefox``: ``["q", ["s1", "s2", ...]]`` (sometimes followed by ``[]`` and a
  ``{"google:suggestsubtypes": ...}`` object);
- ``client=chrome`` (default here): ``["q", ["s1", ...], ["", ...], [], {
  "google:suggestrelevance": [1250, ...], "google:suggesttype": ["QUERY", ...],
  "google:verbatimrelevance": 1300, ...}]`` — the same suggestions plus relevance and type,
  which the spec keeps (relevance is what the paid tiers' ``relevance`` is).

Charset: without ``oe=utf-8`` the endpoint answers ISO-8859-1 (``charset=ISO-8859-1`` in
the Content-Type), so "grønland" arrives as one byte per letter; we ask for UTF-8 and still
decode with the charset the header names, falling back to Latin-1 when the bytes are not
what it says (a body in Latin-1 can always be decoded, never silently as mojibake UTF-8).

A record is ONE SNAPSHOT per term and UTC day (the issue's unit; the original stored one row
per suggestion stamped to the minute, so every run added rows): ``platform_id``
``{hl}-{gl}:{term}:{YYYY-MM-DD}``, ``published_at`` that day 00:00 UTC, the suggestions in
order as ``text_content`` (one a line) and in ``raw_metadata.suggestions``. A second run
the same day finds the same key and inserts nothing. The date window cannot be applied:
suggestions exist only now (forward-only), whatever window the run was asked for.

Paid tiers (spec §8), the same record per term and day: medium asks Serper.dev
(``POST /autocomplete`` ``{q, gl, hl}`` → ``{"suggestions": [{"value": ...}]}``), premium
SerpAPI (``GET /search.json?engine=google_autocomplete`` → ``{"suggestions": [{"value",
"relevance", "type"}]}``), through google_search's client (``serp_providers``) and with its
pooled keys (pool platform ``google_search``, the key stored for the run's tier). One
answered request is one unit, priced per request in costs.py like a Google search; the
estimate is one request per term, which is all a run sends whatever its window (there is no
paging and no history to ask for; the issue's "terms x days" holds for the daily live runs,
one day each). A spent key rotates (terms already asked are not asked again), a refused
one is flagged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.serp_providers import (
    CREDENTIAL_FIELDS,
    SerpProviders,
    provider_for,
)
from observatory_pipelines.arenas.support import SourceTally, failed_source, record_cap
from observatory_pipelines.arenas.text import clamp_record, clean_str

DEFAULT_BASE_URL = "https://suggestqueries.google.com"
SUGGEST_PATH = "/complete/search"
CLIENTS = ("chrome", "firefox")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.I)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$", re.I)
_COUNTRY = re.compile(r"^[a-z]{2}$", re.I)
_XSSI = ")]}'"


def decode_body(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The text of a reply and the charset it was read with (header's, else UTF-8; Latin-1
    when the bytes are not valid in that one)."""
    match = _CHARSET.search(content_type or "")
    declared = match.group(1).lower() if match else "utf-8"
    try:
        return body.decode(declared), declared
    except (LookupError, UnicodeDecodeError):
        return body.decode("latin-1"), "latin-1 (fallback)"


def parse_suggestions(text: str) -> tuple[str | None, list[Any], dict[str, Any]]:
    """(query echo, suggestions as sent, the chrome client's metadata object) of a reply."""
    text = text.lstrip()
    if text.startswith(_XSSI):  # some clients' JSON-hijacking guard
        text = text[len(_XSSI) :]
    data = json.loads(text)
    if not isinstance(data, list) or len(data) < 2 or not isinstance(data[1], list):
        raise ValueError("not the suggest array [query, [suggestions], ...]")
    extra = next((x for x in data[2:] if isinstance(x, dict)), {})
    echo = data[0] if isinstance(data[0], str) else None
    return echo, data[1], extra


class StopCollecting(ArenaError):
    """Google keeps refusing (rate limited through the retries): stop the arena."""


@register
class GoogleAutocompleteCollector(Collector):
    platform = "google_autocomplete"
    arena = "search"
    supported_tiers = ("free", "medium", "premium")
    # The paid tiers lease google_search's Serper/SerpAPI keys (one account, one quota);
    # the free endpoint takes none.
    needs_credentials = True
    keyless_tiers = ("free",)
    credential_platform = "google_search"
    credentials_by_tier = True
    credential_fields = CREDENTIAL_FIELDS
    max_records_per_run = 5_000
    min_request_interval = 0.1  # 10 calls a second, the spec's courtesy limit
    host_setting = "GOOGLE_AUTOCOMPLETE_API_URL (free) / SERPER_API_URL / SERPAPI_API_URL"
    quota = (
        "free: no published quota (unofficial endpoint), Google may block an IP; medium "
        "Serper.dev and premium SerpAPI per request (one a term), priced as google_search's; "
        "10 calls/s"
    )
    option_specs = (
        ArenaOption(
            "client",
            "string",
            "chrome",
            "free tier: chrome (suggestions with relevance and type) or firefox "
            "(suggestions only); the paid tiers' providers choose their own",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        client = options.get("client")
        if client is not None and client not in CLIENTS:
            raise ArenaOptionError(
                f"arenas.google_autocomplete.client must be one of {', '.join(CLIENTS)}, "
                f"got {client!r}"
            )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        base = settings.google_autocomplete_api_url() or DEFAULT_BASE_URL
        self.url = f"{base.rstrip('/')}{SUGGEST_PATH}"
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)
        self.providers = SerpProviders(self)

    def close(self) -> None:
        self.http.close()
        self.providers.close()

    @staticmethod
    def _locale(request: CollectionRequest) -> tuple[str, str]:
        hl = (request.language or "da").strip()
        gl = (request.locale_country or "dk").strip()
        if not _LANGUAGE.match(hl):
            raise ArenaError(f"google_autocomplete: the design's language {hl!r} is no hl code")
        if not _COUNTRY.match(gl):
            raise ArenaError(f"google_autocomplete: the design's country {gl!r} is no gl code")
        return hl.lower(), gl.lower()

    @staticmethod
    def _queries(request: CollectionRequest) -> list[str]:
        # Every term alone: suggestions complete one typed query, AND-groups mean nothing here.
        return list(dict.fromkeys(" ".join(t.term.split()) for t in request.terms if t.term))

    def estimate_units(self, request: CollectionRequest) -> int:
        return len(self._queries(request))

    def health_check(self) -> HealthStatus:
        try:
            _, suggestions, _ = self._ask_free("danmark", "chrome", "da", "dk")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail=f"{len(suggestions)} suggestions for 'danmark'")

    def _ask(
        self, tier: str, query: str, client: str, hl: str, gl: str
    ) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
        """(suggestion entries in order, entries that were no suggestion, snapshot metadata)."""
        if tier == "free":
            charset, suggestions, extra = self._ask_free(query, client, hl, gl)
            entries, bad = _free_entries(suggestions, extra)
            meta: dict[str, Any] = {"client": client, "charset": charset}
            if isinstance(extra.get("google:verbatimrelevance"), int):
                meta["verbatim_relevance"] = extra["google:verbatimrelevance"]
            return entries, bad, meta
        provider = provider_for(self.platform, tier)
        try:
            if provider == "serper":
                body = self.providers.serper("autocomplete", {"q": query, "gl": gl, "hl": hl})
            else:
                params = {"engine": "google_autocomplete", "q": query, "gl": gl, "hl": hl}
                body = self.providers.serpapi(params)
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopCollecting(f"google_autocomplete {query!r}: {exc}") from None
            raise SourceFailed(f"google_autocomplete {query!r}: {exc}", exc.reason) from None
        except (ArenaAuthError, ArenaQuotaExceeded):
            raise
        except ArenaError as exc:
            raise ArenaError(f"google_autocomplete {query!r}: {exc}") from None
        items = body.get("suggestions")
        if items is None:  # SerpAPI's "hasn't returned any results", Serper's empty answer
            items = []
        if not isinstance(items, list):
            raise SourceFailed(
                f"google_autocomplete {query!r}: {provider}'s suggestions are not a list",
                "unparseable",
            )
        entries, bad = _provider_entries(items)
        meta = {"provider": provider}
        if isinstance(body.get("verbatim_relevance"), int):
            meta["verbatim_relevance"] = body["verbatim_relevance"]
        return entries, bad, meta

    def _ask_free(self, query: str, client: str, hl: str, gl: str) -> tuple[str, list, dict]:
        what = f"google_autocomplete {query!r}"
        params = {"q": query, "client": client, "hl": hl, "gl": gl, "ie": "utf-8", "oe": "utf-8"}
        try:
            response = self.http.get(self.url, params=params)
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
            raise StopCollecting(f"{what}: HTTP 403 from {where} (Google refuses this client)")
        if status >= 400:
            raise SourceFailed(f"{what}: HTTP {status} from {where} ({kind})", "http_error")
        text, charset = decode_body(response.content, kind)
        try:
            _echo, suggestions, extra = parse_suggestions(text)
        except ValueError:
            raise SourceFailed(
                f"{what}: HTTP {status} from {where} is not the suggest JSON array ({kind})",
                "unparseable",
            ) from None
        return charset, suggestions, extra

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        client = (request.options or {}).get("client") or self.option_default("client")
        hl, gl = self._locale(request)
        remaining = record_cap(self, request)
        tally = SourceTally(self.platform)
        queries = self._queries(request)
        tier = request.tier or "free"
        if tier not in self.supported_tiers:
            raise ArenaError(f"google_autocomplete has no {tier} tier (free, medium, premium)")
        # Terms asked with an earlier key of this task (a spent key rotated): not paid twice.
        done: list[str] = self.rate_limit_state.setdefault("terms_done", [])
        for index, query in enumerate(queries):
            if query in done:
                continue
            if remaining <= 0:
                self.rate_limit_state["stopped"] = (
                    f"record cap reached; {len(queries) - index} terms not asked"
                )
                break
            tally.tried += 1
            fetched_at = datetime.now(UTC)
            try:
                entries, bad, meta = self._ask(tier, query, client, hl, gl)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise  # the pool flags or rotates the key; the terms done are kept
            except StopCollecting as exc:
                # Asking on would only be refused too: keep the snapshots taken, say why.
                message = str(exc)
                self.rate_limit_state["stopped"] = message
                tally.failed.append(message)
                page = failed_source(message, "rate_limited")
                page.skipped += [
                    SkippedSource(
                        f"google_autocomplete {q!r}",
                        "stopped",
                        f"google_autocomplete {q!r}: not asked, the collection stopped",
                    )
                    for q in queries[index + 1 :]
                ]
                yield page
                break
            except ArenaError as exc:
                message = str(exc)
                tally.failed.append(message)
                yield failed_source(message, getattr(exc, "reason", "error"))
                continue
            page = self._snapshot(query, entries, bad, {**meta, "tier": tier}, hl, gl, fetched_at)
            done.append(query)
            remaining -= len(page.records)
            yield tally.ok(page)
        tally.finish()

    def _snapshot(
        self,
        query: str,
        kept: list[dict[str, Any]],
        bad: int,
        extra_meta: dict[str, Any],
        hl: str,
        gl: str,
        fetched_at: datetime,
    ) -> Page:
        day = fetched_at.replace(hour=0, minute=0, second=0, microsecond=0)
        platform_id = f"{hl}-{gl}:{query}:{day:%Y-%m-%d}"
        meta: dict[str, Any] = {
            "query": query,
            "suggestions": kept,
            "suggestion_count": len(kept),
            **extra_meta,
            "hl": hl,
            "gl": gl,
            "fetched_at": fetched_at.isoformat(),
        }
        record = NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="autocomplete_snapshot",
            platform_id=platform_id,
            # The day of the snapshot: one record per term and day, whatever the run's window.
            published_at=day,
            url=None,
            title=query,
            text_content="\n".join(e["suggestion"] for e in kept) or None,
            language=hl.split("-")[0],
            author_display_name="Google",
            raw_metadata=meta,
            hash_source=platform_id,
        )
        page = Page(records=[clamp_record(record)], rejected=bad)
        if bad:
            page.rejection_reasons.append(f"{bad} suggestions for {query!r} were not strings")
        return page


def _free_entries(suggestions: list[Any], extra: dict[str, Any]) -> tuple[list[dict], int]:
    """The suggest endpoint's suggestions with the chrome client's relevance and type."""
    relevance = extra.get("google:suggestrelevance")
    types = extra.get("google:suggesttype")

    def nth(values: Any, position: int) -> Any:
        return values[position] if isinstance(values, list) and position < len(values) else None

    return _entries(
        (value, nth(relevance, position), nth(types, position))
        for position, value in enumerate(suggestions)
    )


def _provider_entries(items: list[Any]) -> tuple[list[dict], int]:
    """Serper's ``{value}`` / SerpAPI's ``{value, relevance, type}`` items, in order."""
    return _entries(
        (item.get("value"), item.get("relevance"), item.get("type"))
        if isinstance(item, dict)
        else (None, None, None)
        for item in items
    )


def _entries(rows: Iterable[tuple[Any, Any, Any]]) -> tuple[list[dict], int]:
    """(suggestion, relevance, type) rows as ranked entries, and how many were no string (a
    null entry is nothing a user was shown)."""
    kept: list[dict[str, Any]] = []
    bad = 0
    for value, relevance, kind in rows:
        text = clean_str(value) if isinstance(value, str) else None
        if text is None:
            bad += 1
            continue
        entry: dict[str, Any] = {"rank": len(kept), "suggestion": text}
        if relevance is not None:
            entry["relevance"] = relevance
        if kind is not None:
            entry["type"] = kind
        kept.append(entry)
    return kept, bad
