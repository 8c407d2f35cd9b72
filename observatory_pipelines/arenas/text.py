"""Shared cleaning for every arena: HTML stripping, date parsing, ints, and column limits.

Sources send HTML in summaries, NUL bytes, 10 MB fields and dates from 1970 or
2100. Everything a collector maps passes through ``clamp_record`` so a record
always fits ``content_records`` (varchar limits, no NUL, bounded text).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from observatory_pipelines.arenas.base import NormalizedRecord

MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 2_000
MAX_URL_CHARS = 2_000
MAX_ID_CHARS = 500
MAX_NAME_CHARS = 500
MAX_LANGUAGE_CHARS = 10
MAX_META_STRING_CHARS = 20_000
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)

# A tag starts with a letter, "/", "!" or "?": "x < y" and "if x<3" are text, not tags.
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")
_DROP_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_GDELT_DATE = re.compile(r"^(\d{8})T?(\d{6})Z?$")
_TWITTER_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}$")


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_NAME_IN_PARENS = re.compile(r"^\s*(?P<email>\S+@\S+)\s*\((?P<name>[^)]*)\)\s*$")
# "und" (undetermined), "zxx" (no linguistic content), "mul", "mis": no language declared.
_NO_LANGUAGE = frozenset({"und", "zxx", "mul", "mis", "xx"})
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


def strip_html(value: str | None) -> str | None:
    """Visible text of an HTML fragment, entities decoded once, whitespace collapsed; None if empty.

    Only for values the source marks as HTML: plain text keeps its angle brackets.
    """
    if value is None:
        return None
    text = _DROP_BLOCKS.sub(" ", str(value))
    text = _TAG.sub(" ", text)
    text = html.unescape(text).replace("\x00", "")
    text = _SPACE.sub(" ", text).strip()
    return text or None


def typed_text(value: str | None, content_type: str | None) -> str | None:
    """A field as the source published it: markup stripped only when its type says HTML."""
    if content_type and content_type.split(";")[0].strip().lower() in HTML_TYPES:
        return strip_html(value)
    return clean_str(value)


def without_emails(value: str) -> str:
    """``value`` with every e-mail address removed (they identify people; never stored)."""
    return _EMAIL.sub("[e-mail removed]", value) if "@" in value else value


def split_author(value: Any, name: Any = None, email: Any = None) -> tuple[str | None, str | None]:
    """(display name, identity) of an author string such as ``jens@x.dk (Jens Hansen)``.

    The display name never holds an e-mail address (None when only an address is given);
    the identity (what the pseudonym is computed over) is the name, else the address.
    """
    raw = clean_str(value)
    found_email = clean_str(email)
    display = clean_str(name)
    if raw:
        match = _NAME_IN_PARENS.match(raw)
        if match:
            display = display or clean_str(match["name"])
            found_email = found_email or match["email"]
        elif "<" in raw and "@" in raw:  # RFC 5322 "Jens Hansen <jens@x.dk>"
            parsed_name, address = parseaddr(raw)
            display = display or clean_str(parsed_name)
            found_email = found_email or clean_str(address)
        elif _EMAIL.fullmatch(raw):
            found_email = found_email or raw
        else:
            display = display or raw
    if display:
        display = clean_str(_SPACE.sub(" ", _EMAIL.sub(" ", display)).strip(" ,;()<>"))
    return display, display or found_email


def declared_language(value: Any, meta: dict[str, Any]) -> str | None:
    """ISO 639 primary subtag of a declared language (``en-GB`` → ``en``), noted in ``meta``.

    The raw value goes to ``meta["language_declared"]``; ``language_source`` becomes
    ``declared`` when it names a language. "und", "zxx" and unreadable tags declare none.
    """
    raw = clean_str(value, 50)
    if raw is None:
        return None
    meta["language_declared"] = raw
    match = _LANGUAGE_TAG.match(raw.lower())
    if not match or match.group(1) in _NO_LANGUAGE:
        return None
    meta["language_source"] = "declared"
    return match.group(1)


def absolute_url(value: Any, base: str | None, meta: dict[str, Any], key: str) -> str | None:
    """``value`` resolved against ``base``; None (raw kept in ``meta[key]``) if not http(s)."""
    raw = clean_str(value)
    if raw is None:
        return None
    resolved = urljoin(base, raw) if base else raw
    if urlsplit(resolved).scheme.lower() in ("http", "https") and urlsplit(resolved).netloc:
        return resolved
    meta[key] = raw[:MAX_URL_CHARS]
    return None


def clean_str(value: Any, limit: int | None = None) -> str | None:
    """A string without NUL bytes, optionally cut at ``limit``; None for empty/None."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    if not text:
        return None
    return text[:limit] if limit else text


def to_int(value: Any) -> int | None:
    """Engagement counts arrive as ints, floats or strings ("1234"); anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number < 2**63 else None


def parse_datetime(value: Any) -> datetime | None:
    """The instant ``value`` names, as aware UTC; None when it names none.

    Forms: ISO 8601 (with or without offset, fraction or time; ``Z``), RFC 822/1123/2822 and
    RFC 850 with numeric offsets (``+0200``, ``+02:00``) or named zones (``CEST``, ``EST``,
    ``GMT``, military letters), GDELT ``YYYYMMDDTHHMMSSZ``, Twitter's ``ctime``-like form and
    epoch seconds or milliseconds. A date without a time is that day's 00:00; a time without
    a zone is taken as UTC. feedparser's own ``*_parsed`` is not used for the named zones it
    does not know (``CEST`` came out as UTC).
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
            number = float(value)
            if number > 1e11:  # epoch milliseconds (Zeeschuimer)
                number /= 1000
            parsed = datetime.fromtimestamp(number, tz=UTC)
        else:
            parsed = _parse_text_date(str(value).strip())
    except (TypeError, ValueError, OverflowError, OSError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# Zone names real feeds write, in hours east of UTC. Ambiguous ones (IST: India or Ireland;
# CST: US Central or China) take the reading RFC 822 gives or the one feeds most often mean.
NAMED_ZONES: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5,
    "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "WEST": 1, "BST": 1, "EET": 2, "EEST": 3,
    "MSK": 3, "IST": 5.5, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AWST": 8,
    "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}  # fmt: skip
# Military letters as the military defines them (A = +1 … M = +12 without J, N = -1 … Y = -12,
# Z = UTC); RFC 822 printed the signs reversed, but feeds that use them mean these.
for _number, _letter in enumerate("ABCDEFGHIKLM", start=1):
    NAMED_ZONES.setdefault(_letter, _number)
for _number, _letter in enumerate("NOPQRSTUVWXY", start=1):
    NAMED_ZONES.setdefault(_letter, -_number)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "januar", "january"),
            ("feb", "februar", "february"),
            ("mar", "mrz", "marts", "march", "märz"),
            ("apr", "april"),
            ("may", "maj", "mai"),
            ("jun", "juni", "june"),
            ("jul", "juli", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "okt", "oktober", "october"),
            ("nov", "november"),
            ("dec", "dez", "december", "dezember"),
        ),
        start=1,
    )
    for name in names
}
_RFC822 = re.compile(
    r"^(?:[^\W\d_]+\.?,?\s*)?"  # day name, any language
    r"(?P<day>\d{1,2})(?:\.)?[\s-]+(?P<month>[^\W\d_]+)\.?[\s-]+(?P<year>\d{2,4})"
    r"(?:[\sT]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<zone>[+-]\d{2}:?\d{2}|[+-]\d{2}|(?:GMT|UTC|UT)?[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})?"
    r"\s*(?:\([^)]*\))?$"
)
_OFFSET = re.compile(r"^(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{4}-W\d{2}")
_ISO_ZONE_GAP = re.compile(r"(\d)\s+(?=[+-]\d{2}(?::?\d{2})?$|Z$)")


def _zone(name: str | None) -> timezone | None:
    """The tzinfo a zone token names; UTC for none, None for a name nobody defines."""
    if not name:
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    hours = NAMED_ZONES.get(name.upper())
    return None if hours is None else timezone(timedelta(hours=hours))


def _parse_text_date(text: str) -> datetime | None:
    match = _GDELT_DATE.match(text)
    if match:
        return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    if _ISO.match(text):
        iso = _ISO_ZONE_GAP.sub(r"\1", text)
        if iso[-1:] in "zZ":
            iso = iso[:-1] + "+00:00"
        return datetime.fromisoformat(iso)
    if _TWITTER_DATE.match(text):
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
    match = _RFC822.match(text)
    if match:
        month = _MONTHS.get(match["month"].lower())
        zone = _zone(match["zone"])
        if month is not None and zone is not None:
            year = int(match["year"])
            if len(match["year"]) == 2:  # RFC 2822 4.3: 00-49 → 20xx, 50-99 → 19xx
                year += 2000 if year < 50 else 1900
            return datetime(
                year,
                month,
                int(match["day"]),
                int(match["hour"] or 0),
                int(match["minute"] or 0),
                int(match["second"] or 0),
                tzinfo=zone,
            )
    return parsedate_to_datetime(text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def plausible_date(value: Any, meta: dict[str, Any]) -> datetime | None:
    """The parsed date, or None with a note in ``meta`` when missing, unparseable or absurd."""
    parsed = parse_datetime(value)
    if parsed is None:
        if value not in (None, ""):
            meta["published_at_invalid"] = clean_str(value, 200)
        return None
    now = datetime.now(UTC)
    if parsed < EARLIEST_PLAUSIBLE or parsed > now + FUTURE_TOLERANCE:
        meta["published_at_invalid"] = parsed.isoformat()
        return None
    return parsed


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _clamp_id(value: str | None) -> str | None:
    value = clean_str(value)
    if value is not None and len(value) > MAX_ID_CHARS:
        return "sha256:" + sha256_hex(value)  # stable and unique, unlike a cut
    return value


def _clamp_url(value: str | None, meta: dict[str, Any], key: str) -> str | None:
    value = clean_str(value)
    if value is not None and len(value) > MAX_URL_CHARS:
        meta[f"{key}_dropped"] = f"longer than {MAX_URL_CHARS} characters"
        return None  # a cut URL points nowhere
    return value


def clean_json(value: Any, depth: int = 0) -> Any:
    """JSON-safe copy for jsonb: no NUL (Postgres rejects \\u0000), bounded strings and depth."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return without_emails(value.replace("\x00", "")[:MAX_META_STRING_CHARS])
    if isinstance(value, dict):
        return {
            str(k).replace("\x00", ""): clean_json(v, depth + 1)
            for k, v in value.items()
            if not callable(v)
        }
    if isinstance(value, list | tuple):
        return [clean_json(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_META_STRING_CHARS]


def clamp_record(record: NormalizedRecord) -> NormalizedRecord:
    """Fit a record to the column limits, noting in raw_metadata what was cut."""
    meta = clean_json(record.raw_metadata or {})
    text = clean_str(record.text_content)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        meta["text_truncated_from"] = len(text)
        text = text[:MAX_TEXT_CHARS]
    record.text_content = text
    record.title = clean_str(record.title, MAX_TITLE_CHARS)
    record.content_type = clean_str(record.content_type, 50) or "post"
    record.platform = clean_str(record.platform, 50) or record.platform
    record.platform_id = _clamp_id(record.platform_id)
    record.url = _clamp_url(record.url, meta, "url")
    record.language = clean_str(record.language, MAX_LANGUAGE_CHARS)
    record.author_platform_id = _clamp_id(record.author_platform_id)
    display = clean_str(record.author_display_name, MAX_NAME_CHARS)
    record.author_display_name = split_author(display)[0] if display and "@" in display else display
    record.author_identity = clean_str(record.author_identity, MAX_NAME_CHARS)
    record.media_urls = [
        u for u in (clean_str(m) for m in record.media_urls or []) if u and len(u) <= MAX_URL_CHARS
    ]
    record.views_count = to_int(record.views_count)
    record.likes_count = to_int(record.likes_count)
    record.shares_count = to_int(record.shares_count)
    record.comments_count = to_int(record.comments_count)
    if record.hash_source is not None:
        record.hash_source = clean_str(record.hash_source, MAX_TEXT_CHARS)
    record.raw_metadata = meta
    return record
