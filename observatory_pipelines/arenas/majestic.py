"""Majestic: backlink and domain metrics for the design's domains (premium only).

One ``GetIndexItemInfo`` call for up to 100 domains (``items``, ``item0``...) gives each
domain's metrics (TrustFlow, CitationFlow, backlinks, referring domains...), stored as one
dated ``domain_metrics`` snapshot a domain a day: its published_at is the UTC day of the
collection and its hash ``{domain}_{YYYY-MM-DD}``, so a second run the same day inserts 0
rows (the spec's pitfall: the original left published_at null, which could not be stored).
Then ``GetBackLinkData`` per domain (``Count`` <= 1,000, ``Mode=1``: one link per referring
domain) gives ``backlink`` records dated by FirstIndexedDate, hashed over source + target
URL. The window does not filter: Majestic's index is a snapshot, not a search by date.

Domains come from the ``domains`` option and the design's terms (a URL is reduced to its
host); anything that is no domain is skipped by name. The key (``app_api_key``) is a query
parameter of the Majestic API; the shared client's errors and logs name host and path only,
so it never reaches a log or an error.

Price (spec): credits = max(1, ceil((metric items + backlink rows) / 1000)); one unit a
domain's metrics and one a backlink row returned. ``estimate_units`` = domains x (1 +
``backlinks_per_domain``), the most a run can spend; ``units_spent`` counts what came back.
Errors are HTTP 200 with a top-level ``Code`` other than ``OK``: ``InvalidAPIKey`` → the key is
flagged; ``InsufficientCredits`` → the key's analysis units are spent (the pool rotates to
the next key, domains already done are not asked again); ``RateLimitExceeded`` → waits
(60 s, capped by ARENA_HTTP_MAX_WAIT) and retries; anything else skips that domain.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

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
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, json_body
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import Reject, SourceTally, map_page, record_cap, require
from observatory_pipelines.arenas.text import plausible_date

DEFAULT_BASE_URL = "https://api.majestic.com"
JSON_PATH = "/api/json"
ITEMS_PER_CALL = 100
MAX_BACKLINKS = 1000
RATE_LIMIT_WAIT = 60.0
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
METRIC_FIELDS = (
    "TrustFlow", "CitationFlow", "ExtBackLinks", "RefDomains", "RefSubNets", "RefIPs",
    "IndexedURLs", "TopicalTrustFlow_Topic_0", "TopicalTrustFlow_Value_0",
    "TopicalTrustFlow_Topic_1", "TopicalTrustFlow_Value_1", "Status", "ResultCode",
    "AnalysisResUnits",
)  # fmt: skip
BACKLINK_FIELDS = (
    "SourceURL", "TargetURL", "SourceTrustFlow", "SourceCitationFlow",
    "SourceTopicalTrustFlow_Topic_0", "FlagNoFollow", "FlagRedirect", "FirstIndexedDate",
    "LastSeenDate", "DateLost", "ReasonLost",
)  # fmt: skip


def as_domain(value: Any) -> str | None:
    """A domain from a design's entry (``dr.dk``, ``https://www.dr.dk/nyheder``), or None."""
    raw = str(value or "").strip().lower()
    if not raw:
        return None
    host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii")  # æ ø å domains (xn--)
    except UnicodeError:
        return None
    return host if _DOMAIN.match(host) else None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@register
class MajesticCollector(Collector):
    platform = "majestic"
    arena = "web"
    supported_tiers = ("premium",)
    needs_credentials = True
    credential_fields = ("app_api_key|api_key",)
    max_records_per_run = 50_000
    host_setting = "MAJESTIC_API_URL"
    min_request_interval = 1.0  # spec: ~1 request a second
    quota = (
        "analysis units of the key's plan (Full API: 100 M a month); 1 unit a domain's "
        "metrics and a backlink row; 1,000 units a credit, at least 1 a run"
    )
    option_specs = (
        ArenaOption(
            "domains",
            "list of strings",
            [],
            "domains (or URLs, reduced to their host) measured besides the design's terms",
        ),
        ArenaOption(
            "backlinks_per_domain",
            "int",
            100,
            "backlinks asked per domain (GetBackLinkData Count, 0-1000; 0 = metrics only)",
        ),
        ArenaOption("datasource", "string", "fresh", "fresh | historic (Majestic's index)"),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.majestic_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        count = options.get("backlinks_per_domain", 100)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise ArenaOptionError(
                f"arenas.majestic.backlinks_per_domain must be an int from 0 to 1000, got {count!r}"
            )
        source = options.get("datasource", "fresh")
        if source not in ("fresh", "historic"):
            raise ArenaOptionError(
                f"arenas.majestic.datasource must be fresh or historic, got {source!r}"
            )
        if not isinstance(options.get("domains", []), list):
            raise ArenaOptionError("arenas.majestic.domains must be a list of domains")

    # -- domains and estimate -----------------------------------------------------------

    @staticmethod
    def _entries(request: CollectionRequest) -> list[str]:
        entries = [str(d) for d in (request.options or {}).get("domains") or []]
        entries += [t.term for t in request.terms]
        return [e for e in dict.fromkeys(e.strip() for e in entries) if e]

    def _domains(self, request: CollectionRequest) -> tuple[list[str], list[str]]:
        good: list[str] = []
        bad: list[str] = []
        for entry in self._entries(request):
            domain = as_domain(entry)
            if domain is None:
                bad.append(entry)
            elif domain not in good:
                good.append(domain)
        return good, bad

    @staticmethod
    def _backlinks(request: CollectionRequest) -> int:
        value = (request.options or {}).get("backlinks_per_domain")
        return 100 if value is None else int(value)

    def estimate_units(self, request: CollectionRequest) -> int:
        if request.tier not in self.supported_tiers:
            return 0
        domains, _ = self._domains(request)
        return len(domains) * (1 + self._backlinks(request))

    def health_check(self) -> HealthStatus:
        try:
            self._call({"cmd": "GetSubscriptionInfo"})
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="key accepted")

    # -- requests -----------------------------------------------------------------------

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        (key,) = require(self.credentials, *self.credential_fields, platform=self.platform)
        url = f"{self.base_url}{JSON_PATH}"
        for attempt in range(self.http.max_retries + 1):
            response = self.http.get(url, params={"app_api_key": key, **params})
            where = describe(url)
            if response.status_code >= 400:
                kind = response.headers.get("content-type", "unknown type")
                hint = " (an HTML page where JSON was expected)" if "html" in kind else ""
                message = f"majestic: HTTP {response.status_code} from {where}{hint}"
                if response.status_code in (401, 403):
                    raise ArenaAuthError(message)
                raise ArenaError(message)
            body = json_body(response, "majestic")
            if not isinstance(body, dict):
                raise ArenaError(f"majestic: reply from {where} is not a JSON object")
            code = str(body.get("Code") or "")
            if code == "OK":
                return body
            detail = f"majestic {params.get('cmd')}: {code} ({str(body.get('ErrorMessage'))[:200]})"
            if code == "InvalidAPIKey":
                raise ArenaAuthError(detail)
            if code == "InsufficientCredits":
                raise ArenaQuotaExceeded(detail + ": the key's analysis units are spent")
            if code != "RateLimitExceeded" or attempt == self.http.max_retries:
                raise ArenaError(detail)
            self.rate_limit_state["rate_limited"] = (
                int(self.rate_limit_state.get("rate_limited", 0)) + 1
            )
            time.sleep(min(RATE_LIMIT_WAIT, self.http.max_wait))
        raise ArenaError("majestic: rate limited through every retry")  # pragma: no cover

    # -- collection ---------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier not in self.supported_tiers:
            raise ArenaError(
                f"majestic has no {request.tier} tier (premium only: a Majestic API plan)"
            )
        domains, bad = self._domains(request)
        tally = SourceTally(self.platform)
        for entry in bad:
            tally.tried += 1
            yield tally.fail(f"majestic {entry[:100]!r}: not a domain, skipped")
        options = request.options or {}
        datasource = options.get("datasource") or "fresh"
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        remaining = record_cap(self, request)
        done = self.rate_limit_state.setdefault("domains_done", [])
        metrics_done = self.rate_limit_state.setdefault("metrics_done", [])
        todo = [d for d in domains if d not in metrics_done]
        for start in range(0, len(todo), ITEMS_PER_CALL):
            chunk = todo[start : start + ITEMS_PER_CALL]
            tally.tried += 1
            params: dict[str, Any] = {"cmd": "GetIndexItemInfo", "items": len(chunk)}
            params.update({f"item{i}": d for i, d in enumerate(chunk)})
            params["datasource"] = datasource
            try:
                rows = _table(self._call(params), "Results")
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                yield tally.fail(f"majestic metrics {', '.join(chunk)[:150]}: {exc}")
                continue
            self.units_spent += len(chunk)
            metrics_done.extend(chunk)
            page = map_page(rows, lambda row: self._metrics(row, day, datasource), limit=remaining)
            remaining -= len(page.records)
            yield tally.ok(page)
        count = self._backlinks(request)
        for domain in domains:
            if count == 0 or remaining <= 0:
                break
            if domain in done:
                continue
            tally.tried += 1
            params = {
                "cmd": "GetBackLinkData",
                "item": domain,
                "Count": min(count, MAX_BACKLINKS),
                "Mode": 1,
                "datasource": datasource,
            }
            try:
                rows = _table(self._call(params), "BackLinks")
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                yield tally.fail(f"majestic backlinks {domain}: {exc}")
                continue
            self.units_spent += len(rows)
            done.append(domain)
            page = map_page(
                rows, lambda row, d=domain: self._backlink(row, d, datasource), limit=remaining
            )
            remaining -= len(page.records)
            yield tally.ok(page)
        tally.finish()

    def _metrics(self, row: Any, day: datetime, datasource: str) -> NormalizedRecord:
        if not isinstance(row, dict) or not isinstance(row.get("Item"), str):
            raise Reject("metrics row without an Item")
        domain = as_domain(row["Item"]) or row["Item"]
        key = f"{domain}_{day.date().isoformat()}"
        meta = {f: row.get(f) for f in METRIC_FIELDS if row.get(f) is not None}
        meta["datasource"] = datasource
        trust = _int(row.get("TrustFlow"))
        if trust is not None:
            meta["engagement_score"] = trust
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="domain_metrics",
            platform_id=_sha256(key),
            published_at=day,
            url=f"https://{domain}",
            title=f"Majestic metrics for {domain} on {day.date().isoformat()}",
            author_platform_id=domain,
            author_display_name=domain,
            raw_metadata=meta,
            hash_source=key,  # one snapshot a domain a day
        )

    def _backlink(self, row: Any, domain: str, datasource: str) -> NormalizedRecord:
        if not isinstance(row, dict):
            raise Reject("backlink row is not an object")
        source, target = row.get("SourceURL"), row.get("TargetURL")
        if not isinstance(source, str) or not source or not isinstance(target, str):
            raise Reject("backlink without SourceURL or TargetURL")
        meta = {f: row.get(f) for f in BACKLINK_FIELDS if row.get(f) not in (None, "")}
        meta["datasource"] = datasource
        meta["target_domain"] = domain
        trust = _int(row.get("SourceTrustFlow"))
        if trust is not None:
            meta["engagement_score"] = trust
        published = plausible_date(row.get("FirstIndexedDate"), meta)
        host = urlsplit(source).hostname
        anchor = row.get("AnchorText") if isinstance(row.get("AnchorText"), str) else None
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="backlink",
            platform_id=_sha256(source + target),
            published_at=published,
            url=source,
            text_content=anchor or None,
            author_platform_id=host,
            author_display_name=host,
            raw_metadata=meta,
            hash_source=source + target,
        )

    def close(self) -> None:
        self.http.close()


def _table(body: dict[str, Any], name: str) -> list[Any]:
    tables = body.get("DataTables")
    table = tables.get(name) if isinstance(tables, dict) else None
    data = table.get("Data") if isinstance(table, dict) else None
    if not isinstance(data, list):
        raise ArenaError(f"majestic: reply has no DataTables.{name}.Data list")
    return data
