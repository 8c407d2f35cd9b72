"""URLs of a record → clean link, page key, host, registered domain and outlet (spec §2.4).

One extractor for the whole project (the original had three URL regexes). Each record's
links come from:

- its own ``url`` (``self_reference``), except Google results, and on YouTube/TikTok only
  for videos, as the original did;
- its title and text (``text_extracted``): a link starts with ``http(s)://`` or ``www.``
  (``https://`` is put in front of the latter) and ends at whitespace, angle/square
  brackets, quotes, a pipe, comma or semicolon; trailing ``.,;:!?>]}'"`` and an unbalanced
  ``)`` are stripped;
- Bluesky's link facets and external embed (``structured``): they are authoritative.

Cleaning and the page key are the collection's (``collection.url_normalize``: one place
for the rule). Unlike the original, domain-only links (``https://dr.dk``) are kept and
flagged ``domain_only``, shortened links are kept and flagged ``is_shortener`` (never
followed: that needs the network), and the registered domain comes from tldextract's
public-suffix snapshot shipped inside the wheel (constructed so that it never fetches).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tldextract

from observatory_pipelines.collection.url_normalize import clean_url, url_key

OUTLETS_FILE = Path(__file__).resolve().parent / "reference" / "outlets.csv"
SHORTENERS = frozenset(
    """t.co bit.ly bitly.com tinyurl.com ow.ly buff.ly is.gd tiny.cc ift.tt lnkd.in dlvr.it
    shar.es goo.gl fb.me trib.al cutt.ly rebrand.ly s.id t.ly qr.ae""".split()
)
URL_PATTERN = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\[\]\"'`|,;]+", re.IGNORECASE)
_TRAILING = ".,;:!?>]}'\""
MAX_TEXT_CHARS = 200_000  # a record's text is scanned up to here (articles are shorter)


@dataclass(frozen=True)
class Link:
    ordinal: int
    url_type: str  # self_reference | text_extracted | structured
    url_raw: str
    url_clean: str
    url_key: str
    host: str
    registered_domain: str | None
    outlet: str | None
    is_shortener: bool
    domain_only: bool


@cache
def _extractor() -> tldextract.TLDExtract:
    # No suffix-list URLs and no cache dir: only the snapshot inside the package, no network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@cache
def outlets() -> dict[str, str]:
    """The curated Danish outlet map: domain (registered domain or a host) → outlet name."""
    with OUTLETS_FILE.open(encoding="utf-8", newline="") as handle:
        return {
            row["domain"].strip().lower(): row["outlet"].strip() for row in csv.DictReader(handle)
        }


def registered_domain(host: str) -> str | None:
    """``nyheder.tv2.dk`` → ``tv2.dk``, ``bbc.co.uk`` → ``bbc.co.uk``; None for IPs etc."""
    found = _extractor()(host)
    return found.top_domain_under_public_suffix or None


def outlet_of(host: str, domain: str | None) -> str | None:
    """The outlet of the most specific listed domain the host falls under."""
    table = outlets()
    parts = host.split(".")
    for start in range(len(parts) - 1):
        name = table.get(".".join(parts[start:]))
        if name is not None:
            return name
    return table.get(domain) if domain else None


def _strip_trailing(url: str) -> str:
    while url:
        if url[-1] in _TRAILING:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def text_urls(text: str | None) -> list[str]:
    """The links written in ``text``, in order, ``www.`` ones with ``https://`` in front."""
    if not text:
        return []
    found = []
    for match in URL_PATTERN.finditer(text[:MAX_TEXT_CHARS]):
        url = _strip_trailing(match.group(0))
        if url.lower().startswith("www."):
            url = "https://" + url
        found.append(url)
    return found


def _bluesky_links(facets: Any, embed: Any) -> list[str]:
    links = []
    for facet in facets if isinstance(facets, list) else []:
        for feature in (facet or {}).get("features") or []:
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#link":
                if isinstance(feature.get("uri"), str):
                    links.append(feature["uri"])
    while isinstance(embed, dict):
        external = embed.get("external")
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            links.append(external["uri"])
        embed = embed.get("media")  # recordWithMedia may wrap an external embed
    return links


def _candidates(row: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    own = row.get("url")
    platform = (row.get("platform") or "").lower()
    if own and platform != "google_search":
        if platform not in ("youtube", "tiktok") or row.get("content_type") == "video":
            found.append(("self_reference", own))
    if platform == "bluesky":
        found += [("structured", u) for u in _bluesky_links(row.get("facets"), row.get("embed"))]
    for field in ("title", "text_content"):
        found += [("text_extracted", u) for u in text_urls(row.get(field))]
    return found


def link(ordinal: int, url_type: str, raw: str) -> Link | None:
    """One link's cleaned forms, or None when it is no http(s) URL with a host."""
    cleaned = clean_url(raw)
    try:
        host = (urlsplit(cleaned).hostname or "") if cleaned else ""
    except ValueError:
        return None
    key = url_key(cleaned)
    if not host or not key or not cleaned.lower().startswith(("http://", "https://")):
        return None
    split = urlsplit(cleaned)
    domain = registered_domain(host)
    return Link(
        ordinal=ordinal,
        url_type=url_type,
        url_raw=raw,
        url_clean=cleaned,
        url_key=key,
        host=host,
        registered_domain=domain,
        outlet=outlet_of(host, domain),
        is_shortener=host.removeprefix("www.") in SHORTENERS,
        domain_only=split.path in ("", "/") and not split.query,
    )


def record_links(row: dict[str, Any]) -> list[Link]:
    """Every distinct link of one record (distinct by page key), first appearance first."""
    links: list[Link] = []
    seen: set[str] = set()
    for url_type, raw in _candidates(row):
        found = link(len(links) + 1, url_type, raw)
        if found is not None and found.url_key not in seen:
            seen.add(found.url_key)
            links.append(found)
    return links
