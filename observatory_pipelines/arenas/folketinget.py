"""Folketinget: cases, documents and meetings of the Danish Parliament from its ODA service.

ODA (``https://oda.ft.dk/api``, OData v3, JSON, no key) is read per entity: ``Sag``
(cases: bills, resolutions, Aktstykker, § 20 questions …), ``Dokument`` and ``Møde``
(meetings, with their agenda items). Cases and documents are asked once per term group
with ``substringof`` over their titles (cases also over ``resume``); meetings are read
whole for the window, since their terms live in the agenda items. Every row is checked
against the window and the terms again on the client (ODA ignores a misspelt filter
field and returns everything). Paging, dates and filters: ``folketinget_odata.py``;
mapping: ``folketinget_items.py``.

ODA holds no speech texts: plenary transcripts are XML files on the service's anonymous
FTP (spec §23), which this collector does not read.

Limits: ODA publishes no rate limit; requests are spaced 0.1 s (at most 10 a second, the
spec's politeness figure) and a run spends at most ``max_requests`` requests. Reaching
that budget stops the collection cleanly with what it has and notes it in
``rate_limit_state.stopped`` (saved on the task).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
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
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.folketinget_items import (
    ARENA,
    PLATFORM,
    map_case,
    map_document,
    map_meeting,
)
from observatory_pipelines.arenas.folketinget_odata import (
    PAGE_SIZE,
    entity_url,
    group_filter,
    next_skip,
    odata_error,
    odata_literal,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.matching import matches_groups, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Skip,
    SourceTally,
    failed_source,
    in_window,
    map_page,
    record_cap,
)

DEFAULT_BASE_URL = "https://oda.ft.dk/api"
DEFAULT_MAX_REQUESTS = 1000


@dataclass(frozen=True)
class EntitySpec:
    name: str
    # The date field the window is asked on; ``window_upper`` False asks only its lower
    # bound (a case's update date is after every stage, but may be after the window too).
    date_field: str
    window_upper: bool
    term_fields: tuple[str, ...]  # server-side substringof; () = terms on the client only
    expand: str
    mapper: Callable[[Any], NormalizedRecord]


ENTITIES = {
    "Sag": EntitySpec(
        "Sag",
        "opdateringsdato",
        False,
        ("titel", "resume"),
        "Sagstrin,SagAktør/Aktør,SagAktør/SagAktørRolle,Periode",
        map_case,
    ),
    "Dokument": EntitySpec(
        "Dokument",
        "dato",
        True,
        ("titel",),
        "DokumentAktør/Aktør,DokumentAktør/DokumentAktørRolle,Fil",
        map_document,
    ),
    "Møde": EntitySpec("Møde", "dato", True, (), "Dagsordenspunkt", map_meeting),
}
DEFAULT_ENTITIES = ("Sag", "Dokument", "Møde")


class BudgetSpent(Exception):
    """The run's request budget (``max_requests``) is spent."""


@register
class FolketingetCollector(Collector):
    platform = PLATFORM
    arena = ARENA
    supported_tiers = ("free",)
    needs_credentials = False
    max_records_per_run = 20_000
    option_specs = (
        ArenaOption(
            "entities",
            "list of strings",
            list(DEFAULT_ENTITIES),
            "ODA entities to read: Sag (cases), Dokument (documents), Møde (meetings)",
        ),
        ArenaOption(
            "case_types",
            "list of ints",
            None,
            "Sagstype ids of the cases wanted (3 Lovforslag, 5 Beslutningsforslag, "
            "8 Aktstykke, 10 § 20-spørgsmål, …); default: every type",
        ),
        ArenaOption(
            "max_requests",
            "int",
            DEFAULT_MAX_REQUESTS,
            "requests one run may send; reaching it stops the run cleanly with what it has",
        ),
    )
    min_request_interval = 0.1  # ODA publishes no limit; the spec asks for ≤ 10 requests/s
    quota: str = "no published limit; ≤ 10 requests/s and max_requests (default 1000) per run"
    host_setting = "FOLKETINGET_API_URL"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (settings.folketinget_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.http = ArenaHttpClient(
            self.rate_limit_state, min_interval=self.min_request_interval, retry_after_default=30
        )
        self._budget = self._budget_total = DEFAULT_MAX_REQUESTS

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Also the values: they go into an OData filter, so they are checked before use."""
        super().check_options(options)

        def refuse(name: str, wanted: str) -> None:
            raise ArenaOptionError(
                f"arenas.{cls.platform}.{name} must be {wanted}, got {options[name]!r}"
            )

        entities = options.get("entities")
        if entities is not None and not (
            isinstance(entities, list) and all(isinstance(e, str) for e in entities)
        ):
            refuse("entities", "a list of entity names")
        types = options.get("case_types")
        if types is not None and not (
            isinstance(types, list)
            and all(isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in types)
        ):
            refuse("case_types", "a list of Sagstype ids (positive ints)")
        cls.check_counts(options, "max_requests")

    # -- estimate and health -------------------------------------------------------------

    def _entities(self, request: CollectionRequest) -> list[str]:
        chosen = (request.options or {}).get("entities") or list(DEFAULT_ENTITIES)
        if isinstance(chosen, str):
            chosen = [chosen]
        return [str(name) for name in chosen]

    def estimate_units(self, request: CollectionRequest) -> int:
        """One request per source and at least one page; at most the request budget."""
        groups = max(1, len(term_groups(request.terms)))
        pages = max(1, min(-(-record_cap(self, request) // PAGE_SIZE), 10))
        sources = sum(
            (1 if ENTITIES[name].term_fields == () else groups)
            for name in self._entities(request)
            if name in ENTITIES
        )
        budget = int((request.options or {}).get("max_requests", DEFAULT_MAX_REQUESTS))
        return min(sources * pages, max(budget, 0))

    def health_check(self) -> HealthStatus:
        url = entity_url(self.base_url, "Sag")
        try:
            body = self._json(url, {"$top": "1", "$select": "id"}, "folketinget health")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        ok = isinstance(body.get("value"), list)
        return HealthStatus(ok=ok, detail="ODA answered" if ok else "no value list in the reply")

    # -- requests ------------------------------------------------------------------------

    def _json(self, url: str, params: dict[str, str], what: str) -> dict[str, Any]:
        """One ODA request: JSON object or a clear error naming URL (host/path) and status."""
        response = self.http.get(url, params=params)
        self.units_spent += 1
        where, status = describe(url), response.status_code
        kind = response.headers.get("content-type", "")
        looks_html = "html" in kind.lower() or response.content.lstrip()[:1] == b"<"
        if looks_html:
            raise ArenaError(
                f"{what}: HTTP {status} from {where} is an HTML page where JSON was expected"
            )
        try:
            body = response.json()
        except ValueError:
            raise ArenaError(
                f"{what}: response from {where} (HTTP {status}) is not valid JSON"
            ) from None
        if status >= 400:
            detail = odata_error(body)
            raise ArenaError(
                f"{what}: HTTP {status} from {where}" + (f" ({detail})" if detail else "")
            )
        if not isinstance(body, dict):
            raise ArenaError(f"{what}: reply from {where} is not a JSON object")
        return body

    def _spend(self) -> None:
        if self._budget <= 0:
            raise BudgetSpent
        self._budget -= 1

    # -- collection ----------------------------------------------------------------------

    def _sources(self, request: CollectionRequest) -> Iterator[tuple[str, EntitySpec | None, str]]:
        """(label, entity or None when unknown, $filter) for every query of the run."""
        groups = term_groups(request.terms)
        case_types = (request.options or {}).get("case_types") or []
        for name in dict.fromkeys(self._entities(request)):
            spec = ENTITIES.get(name)
            if spec is None:
                yield f"folketinget entity {name!r}", None, ""
                continue
            window = [f"{spec.date_field} ge {odata_literal(request.date_from)}"]
            if spec.window_upper:
                window.append(f"{spec.date_field} lt {odata_literal(request.date_to)}")
            if name == "Sag" and case_types:
                types = " or ".join(f"typeid eq {int(t)}" for t in case_types)
                window.append(f"({types})")
            if not spec.term_fields or not groups:
                yield f"folketinget {name}", spec, " and ".join(window)
                continue
            for group in groups:
                terms = group_filter(group, spec.term_fields)
                label = f"folketinget {name} {' + '.join(t.term for t in group)!r}"
                yield label, spec, " and ".join([*window, f"({terms})"] if terms else window)

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        options = request.options or {}
        self._budget = max(0, int(options.get("max_requests", DEFAULT_MAX_REQUESTS)))
        self._budget_total = self._budget
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        counts = self.rate_limit_state.setdefault("odata_count", {})
        for label, spec, odata_filter in self._sources(request):
            if remaining <= 0:
                break
            tally.tried += 1
            if spec is None:
                known = ", ".join(ENTITIES)
                message = f"{label}: not an ODA entity this collector reads (known: {known})"
                tally.failed.append(message)
                yield failed_source(message)
                continue
            url = entity_url(self.base_url, spec.name)
            skip: int | None = 0
            while skip is not None and remaining > 0:
                params = {
                    "$filter": odata_filter,
                    "$orderby": "id",  # a stable order, or $skip pages could overlap
                    "$expand": spec.expand,
                    "$top": str(PAGE_SIZE),
                    "$skip": str(skip),
                }
                if skip == 0:
                    params["$inlinecount"] = "allpages"
                try:
                    self._spend()
                    body = self._json(url, params, label)
                except BudgetSpent:
                    yield self._stopped(label, url, skip, tally)
                    tally.finish()
                    return
                except SourceFailed as exc:
                    tally.failed.append(f"{label}: {exc}")
                    yield failed_source(f"{label}: {exc}", exc.reason)
                    break
                except ArenaError as exc:
                    yield tally.fail(str(exc) if str(exc).startswith(label) else f"{label}: {exc}")
                    break
                if skip == 0 and body.get("odata.count") is not None:
                    try:
                        counts[label.removeprefix("folketinget ")] = int(body["odata.count"])
                    except (TypeError, ValueError):
                        pass
                rows = body.get("value")
                if not isinstance(rows, list):
                    yield tally.fail(f"{label}: reply from {describe(url)} has no value list")
                    break
                check = partial(self._checked, spec, request=request)
                page = map_page(rows, check, seen=seen, limit=remaining)
                remaining -= len(page.records)
                yield tally.ok(page)
                skip = next_skip(body, len(rows), skip) if rows else None
        tally.finish()

    def _checked(
        self, spec: EntitySpec, row: Any, *, request: CollectionRequest
    ) -> NormalizedRecord:
        """The mapped row, if it is in the window and matches the terms (else Skip)."""
        record = spec.mapper(row)
        if not in_window(record.published_at, request):
            raise Skip
        if request.terms:
            text = "\n".join(p for p in (record.title, record.text_content) if p)
            if not matches_groups(text, request.terms):
                raise Skip
        return record

    def _stopped(self, label: str, url: str, skip: int, tally: SourceTally) -> Page:
        message = (
            f"{label}: request budget of {self._budget_total} requests (max_requests) spent; "
            f"collection stopped with what it had (next $skip {skip})"
        )
        self.rate_limit_state["stopped"] = {
            "reason": "max_requests",
            "max_requests": self._budget_total,
            "requests": self.units_spent,
            "source": label,
            "next_skip": skip,
        }
        tally.pages_ok += 1  # a stop is not a failure: what was collected stands
        return Page(
            records=[],
            errors=[message],
            rejection_reasons=[message],
            skipped=[SkippedSource(label[:200], "stopped", message, describe(url))],
        )

    def close(self) -> None:
        self.http.close()
