"""Folketinget's ODA service (OData v3) as the collector reads it: filters, dates, paging.

Facts (spec arenas-more.md §23, checked against the third-party ODA documentation that
tested the live service):
- datetimes are Danish local time without an offset and with up to 7 fractional digits
  (``2025-09-09T17:49:11.8723456``); a filter literal is ``datetime'2026-02-01T00:00:00'``
  in the same local time;
- ``substringof(needle, field)`` is case-sensitive. The spec suggests ``tolower()``, but the
  ODA documentation lists ``tolower``/``toupper`` as not available, so each term is
  asked in the spellings Danish titles use (as written, lower case, capitalised, upper case)
  and the real matching happens on the client;
- a misspelt field in ``$filter`` is ignored silently and the service returns everything:
  every record is checked against the window and the terms on the client again;
- at most 100 rows come back whatever ``$top`` says; ``odata.nextLink`` (server-driven
  ``$skip``) is followed when present, else ``$skip`` steps by 100 until a short page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

from observatory_pipelines.arenas.base import SearchTerm
from observatory_pipelines.arenas.text import EARLIEST_PLAUSIBLE, FUTURE_TOLERANCE, clean_str

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
PAGE_SIZE = 100  # the service's hard maximum per response
_ODA_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?$"
)


def odata_literal(value: datetime) -> str:
    """A window bound as an ODA datetime literal: Copenhagen local time, no offset."""
    local = value.astimezone(COPENHAGEN).replace(tzinfo=None)
    return f"datetime'{local.strftime('%Y-%m-%dT%H:%M:%S')}'"


def odata_string(value: str) -> str:
    """A string literal for ``$filter`` (a quote is doubled, as OData escapes it)."""
    return "'" + value.replace("'", "''") + "'"


def parse_oda_datetime(value: Any, meta: dict[str, Any], key: str) -> datetime | None:
    """An ODA datetime (Copenhagen local time) as aware UTC; None with a note when unusable.

    An explicit offset or ``Z`` is honoured should the service ever send one.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    parsed: datetime | None = None
    match = _ODA_DATETIME.match(text)
    if match:
        year, month, day, hour, minute, second, fraction = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            local = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                micro,
                tzinfo=COPENHAGEN,
            )
            parsed = local.astimezone(UTC)
        except (ValueError, OverflowError):  # "0001-01-01T00:00:00" is ODA's "no date"
            parsed = None
    else:
        try:
            aware = datetime.fromisoformat(text.replace("Z", "+00:00"))
            parsed = aware.astimezone(UTC) if aware.tzinfo else None
        except ValueError:
            parsed = None
    if parsed is None:
        meta.setdefault("dates_invalid", {})[key] = clean_str(text, 200)
        return None
    if parsed < EARLIEST_PLAUSIBLE or parsed > datetime.now(UTC) + FUTURE_TOLERANCE:
        meta.setdefault("dates_invalid", {})[key] = parsed.isoformat()
        return None
    return parsed


def spellings(term: str) -> list[str]:
    """The forms one term is asked in, since ``substringof`` is case-sensitive."""
    forms = [term, term.lower(), term[:1].upper() + term[1:].lower(), term.upper()]
    return list(dict.fromkeys(f for f in forms if f))


def _term_text(term: SearchTerm) -> str:
    return " ".join(term.term.split()).lstrip("#")


def group_filter(group: list[SearchTerm], fields: tuple[str, ...]) -> str:
    """A group's terms ANDed, each term found in any of ``fields`` in any spelling."""
    parts = []
    for term in group:
        text = _term_text(term)
        if not text:
            continue
        alternatives = [
            f"substringof({odata_string(form)},{field})"
            for field in fields
            for form in spellings(text)
        ]
        parts.append("(" + " or ".join(alternatives) + ")")
    return " and ".join(parts)


def entity_url(base_url: str, entity: str) -> str:
    """``{base}/{Entity}`` with Danish letters percent-encoded (``M%C3%B8de``)."""
    return f"{base_url}/{quote(entity, safe='')}"


def next_skip(body: dict[str, Any], rows: int, skip: int) -> int | None:
    """Where the next page starts, or None at the end.

    ``odata.nextLink`` carries the server's ``$skip``; only that number is taken from it, so
    the next request goes to the operator's configured host with the collector's own query
    (a link naming another host is never followed there).
    """
    link = body.get("odata.nextLink") or body.get("@odata.nextLink")
    if isinstance(link, str) and link:
        values = parse_qs(urlsplit(link).query).get("$skip")
        try:
            server_skip = int(values[-1]) if values else None
        except ValueError:
            server_skip = None
        if server_skip is not None:
            return server_skip if server_skip > skip else None  # a link that does not advance
    if rows >= PAGE_SIZE:
        return skip + rows
    return None


def odata_error(body: Any) -> str:
    """The message of an OData v3 error body (``{"odata.error": {"message": {"value"}}}``)."""
    if not isinstance(body, dict):
        return ""
    error = body.get("odata.error") or body.get("error")
    if not isinstance(error, dict):
        return ""
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return clean_str(message, 200) or clean_str(error.get("code"), 200) or ""
