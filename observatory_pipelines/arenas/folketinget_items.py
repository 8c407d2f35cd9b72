"""Mapping of ODA rows (Sag, Dokument, Møde) to records (spec arenas-more.md §23).

Authors are the actors ODA links to a row (``SagAktør`` / ``DokumentAktør`` with their
``Aktør``): their ODA id becomes ``author_platform_id``, which collection pseudonymizes
with the keyed HMAC like every author. Their public role in the case or document and their
party (``gruppenavnkort``) are kept in ``raw_metadata.actors``; the ``biografi`` field
(birth dates, family, contact details) is never kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.arenas.folketinget_odata import parse_oda_datetime
from observatory_pipelines.arenas.support import Reject
from observatory_pipelines.arenas.text import clean_str

PLATFORM = "folketinget"
ARENA = "parliament"  # none of news/search/web/social fits (spec §23)
PERSON_TYPE = 5  # Aktørtype "Person"
# Roles that make an actor the author of a case or a document, in order of preference.
CASE_AUTHOR_ROLES = ("forslagsstiller", "minister", "spørger", "stiller")
DOCUMENT_AUTHOR_ROLES = ("afsender", "spørger", "stiller", "minister")
# ft.dk case pages exist for these case types (spec: "(v)"; others get no built URL).
CASE_PAGE_TYPES = {3: "lovforslag", 5: "beslutningsforslag"}
SAG_FIELDS = (
    "typeid", "kategoriid", "statusid", "periodeid", "nummer", "nummerprefix",
    "nummernumerisk", "titelkort", "lovnummer", "lovnummerdato", "afgørelse",
    "afgørelsesdato", "afstemningskonklusion", "offentlighedskode", "opdateringsdato",
)  # fmt: skip
DOKUMENT_FIELDS = (
    "typeid", "kategoriid", "statusid", "offentlighedskode", "dato", "frigivelsesdato",
    "modtagelsesdato", "procedurenummer", "spørgsmålstitel", "opdateringsdato",
)  # fmt: skip
MODE_FIELDS = ("nummer", "dato", "lokale", "typeid", "statusid", "periodeid", "opdateringsdato")


def _row_id(row: Any, entity: str) -> int:
    if not isinstance(row, dict):
        raise Reject(f"{entity} row is not a JSON object")
    value = row.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise Reject(f"{entity} row without an id")
    return int(value)


def _pick(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: row.get(name) for name in fields if row.get(name) is not None}


def _text(value: Any) -> str | None:
    """ODA titles carry hard line breaks: kept as written, only trimmed."""
    text = clean_str(value)
    return text.replace("\r\n", "\n") if text else None


def _actor_links(
    links: Any, role_entity: str, preferred: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The linked actors (public facts only) and the one taken as author.

    The author is the actor with the most preferred role; among equals a person before an
    institution, then the lowest ODA id, so the same row gets the same author every run.
    """
    actors: list[dict[str, Any]] = []
    ranked: list[tuple[int, int, int, dict[str, Any]]] = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        actor = link.get("Aktør") if isinstance(link.get("Aktør"), dict) else {}
        role_row = link.get(role_entity) if isinstance(link.get(role_entity), dict) else {}
        actor_id = actor.get("id", link.get("aktørid"))
        if actor_id is None:
            continue
        role = clean_str(role_row.get("rolle"), 200)
        entry = {
            "id": actor_id,
            "name": clean_str(actor.get("navn"), 300),
            "party": clean_str(actor.get("gruppenavnkort"), 50),
            "typeid": actor.get("typeid"),
            "role": role,
            "roleid": link.get("rolleid"),
        }
        actors.append(entry)
        lowered = (role or "").lower()
        rank = next((i for i, r in enumerate(preferred) if r in lowered), len(preferred))
        person = 0 if actor.get("typeid") == PERSON_TYPE else 1
        try:
            order = int(actor_id)
        except (TypeError, ValueError):
            order = 2**62
        ranked.append((rank, person, order, entry))
    author = min(ranked, key=lambda r: r[:3])[3] if ranked else None
    return actors, author


def _author_fields(author: dict[str, Any] | None) -> dict[str, Any]:
    if author is None:
        return {}
    return {
        "author_platform_id": str(author["id"]),
        "author_display_name": author.get("name"),
    }


def _first_stage_date(stages: Any, meta: dict[str, Any]) -> datetime | None:
    dates = []
    for stage in stages if isinstance(stages, list) else []:
        if isinstance(stage, dict):
            when = parse_oda_datetime(stage.get("dato"), meta, f"Sagstrin:{stage.get('id')}")
            if when is not None:
                dates.append(when)
    if dates:
        meta["stages"] = {"count": len(dates), "first": min(dates).isoformat()}
        meta["stages"]["last"] = max(dates).isoformat()
    return min(dates) if dates else None


def _case_page(row: dict[str, Any]) -> str | None:
    period = row.get("Periode") if isinstance(row.get("Periode"), dict) else {}
    kind = CASE_PAGE_TYPES.get(row.get("typeid"))
    code, number = clean_str(period.get("kode")), clean_str(row.get("nummer"))
    if not (kind and code and number):
        return None
    return f"https://www.ft.dk/samling/{code}/{kind}/{number.replace(' ', '')}/index.htm"


def map_case(row: Any) -> NormalizedRecord:
    """A Sag: title, resume as text, first stage date (else its update date) as published."""
    case_id = _row_id(row, "Sag")
    meta: dict[str, Any] = {"entity": "Sag", **_pick(row, SAG_FIELDS)}
    actors, author = _actor_links(row.get("SagAktør"), "SagAktørRolle", CASE_AUTHOR_ROLES)
    if actors:
        meta["actors"] = actors
    published = _first_stage_date(row.get("Sagstrin"), meta)
    if published is None:
        published = parse_oda_datetime(row.get("opdateringsdato"), meta, "opdateringsdato")
        if published is not None:
            meta["published_from"] = "opdateringsdato"
    else:
        meta["published_from"] = "Sagstrin.dato"
    platform_id = f"Sag:{case_id}"
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="parliament_case",
        platform_id=platform_id,
        published_at=published,
        url=clean_str(row.get("retsinformationsurl")) or _case_page(row),
        title=_text(row.get("titel")),
        text_content=_text(row.get("resume")),
        language="da",
        raw_metadata=meta,
        hash_source=platform_id,  # one row per ODA case, however often it is edited
        **_author_fields(author),
    )


def map_document(row: Any) -> NormalizedRecord:
    """A Dokument: title, question wording as text (the files' text is not fetched)."""
    doc_id = _row_id(row, "Dokument")
    meta: dict[str, Any] = {"entity": "Dokument", **_pick(row, DOKUMENT_FIELDS)}
    actors, author = _actor_links(
        row.get("DokumentAktør"), "DokumentAktørRolle", DOCUMENT_AUTHOR_ROLES
    )
    if actors:
        meta["actors"] = actors
    files = [
        {"title": clean_str(f.get("titel"), 500), "format": f.get("format"), "url": f["filurl"]}
        for f in row.get("Fil") or []
        if isinstance(f, dict) and clean_str(f.get("filurl"))
    ]
    if files:
        meta["files"] = files
    published = parse_oda_datetime(row.get("dato"), meta, "dato")
    platform_id = f"Dokument:{doc_id}"
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="parliament_document",
        platform_id=platform_id,
        published_at=published,
        url=files[0]["url"] if files else None,
        title=_text(row.get("titel")),
        text_content=_text(row.get("spørgsmålsordlyd")),
        language="da",
        raw_metadata=meta,
        hash_source=platform_id,
        **_author_fields(author),
    )


def map_meeting(row: Any) -> NormalizedRecord:
    """A Møde: its title, and its agenda items' titles as text; no author."""
    meeting_id = _row_id(row, "Møde")
    meta: dict[str, Any] = {"entity": "Møde", **_pick(row, MODE_FIELDS)}
    items = [
        i for i in row.get("Dagsordenspunkt") or [] if isinstance(i, dict) and _text(i.get("titel"))
    ]
    items.sort(key=lambda i: (str(i.get("nummer") or ""), i.get("id") or 0))
    if items:
        meta["agenda"] = [
            {"id": i.get("id"), "nummer": i.get("nummer"), "sagstrinid": i.get("sagstrinid")}
            for i in items
        ]
    published = parse_oda_datetime(row.get("dato"), meta, "dato")
    platform_id = f"Møde:{meeting_id}"
    agenda_text = "\n".join(f"{i.get('nummer') or '-'}. {_text(i.get('titel'))}" for i in items)
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="parliament_meeting",
        platform_id=platform_id,
        published_at=published,
        url=clean_str(row.get("dagsordenurl")),
        title=_text(row.get("titel")),
        text_content=agenda_text or None,
        language="da",
        raw_metadata=meta,
        hash_source=platform_id,
    )
