"""Via Ritzau's release items: the reply's shapes, HTML bodies as text, field variants.

The JSON API is public but undocumented (no SLA): everything here follows the shape the
original collector read (spec arenas-more.md §11), tolerant of the variants it met or
that an undocumented API may drift into. Fields not confirmed against a live reply are
listed as unverified in docs/arenas.md (ritzau_via).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from observatory_pipelines.arenas.text import clean_str

# Where a page's releases sit: a bare array (the original's usual reply) or an object
# holding them under one of these keys (seen variants; which one is live: unverified).
RELEASE_LIST_KEYS = ("releases", "items", "data", "results")
# The release's time under its known names (``published`` became ``publishedAt`` once).
DATE_KEYS = ("published", "publishedAt", "published_at", "publishDate", "date")
# Tags whose end is a line break in the text (the spec's p/br/div/h/li, plus their kin).
_BLOCK_TAGS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "table", "blockquote", "section", "article"}
    | {f"h{n}" for n in range(1, 7)}
)
_DROPPED_TAGS = frozenset({"script", "style", "template"})


class _TextOfHtml(HTMLParser):
    """Visible text of a release body: block ends become newlines, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _DROPPED_TAGS:
            self._dropping += 1
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def html_to_text(value: Any) -> str | None:
    """A release's HTML as plain text: one line per block, spaces collapsed, no empty lines.

    Plain text passes through unchanged (apart from whitespace), so a body sent without
    markup is not mangled. Broken markup never raises: html.parser reads what it can.
    """
    raw = clean_str(value)
    if raw is None:
        return None
    parser = _TextOfHtml()
    parser.feed(raw)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = "\n".join(line for line in lines if line)
    return text or None


def release_items(body: Any) -> list[Any] | None:
    """The releases of one reply, or None when the reply holds no list of them."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in RELEASE_LIST_KEYS:
            if isinstance(body.get(key), list):
                return body[key]
    return None


def first_present(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) not in (None, ""):
            return item[key]
    return None


def publisher_of(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id, name) of the release's publisher: an object, a bare name, or flat fields."""
    publisher = item.get("publisher")
    if isinstance(publisher, dict):
        pid = first_present(publisher, ("id", "publisherId", "uuid"))
        name = first_present(publisher, ("name", "title", "displayName"))
    elif isinstance(publisher, str):
        pid, name = None, publisher
    else:
        pid, name = None, None
    pid = pid if pid is not None else first_present(item, ("publisherId", "publisher_id"))
    name = name if name is not None else first_present(item, ("publisherName", "publisher_name"))
    return clean_str(pid), clean_str(name)


def named_list(value: Any) -> list[dict[str, Any]]:
    """``[{id, name}]`` of channels (or documents) however they came: objects or names."""
    out: list[dict[str, Any]] = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict):
            out.append(
                {
                    "id": entry.get("id"),
                    "name": clean_str(entry.get("name") or entry.get("title"), 300),
                    **({"url": clean_str(entry["url"])} if entry.get("url") else {}),
                }
            )
        elif isinstance(entry, str | int) and not isinstance(entry, bool):
            out.append({"id": None, "name": clean_str(entry, 300)})
    return out


def image_urls(value: Any) -> list[str]:
    urls = []
    for entry in value if isinstance(value, list) else []:
        url = entry.get("url") if isinstance(entry, dict) else entry
        url = clean_str(url) if isinstance(url, str) else None
        if url:
            urls.append(url)
    return urls


def contact_count(value: Any) -> int:
    """How many contact persons a release names (their names and e-mails are not kept)."""
    if isinstance(value, dict):
        persons = value.get("persons")
        return len(persons) if isinstance(persons, list) else 0
    return len(value) if isinstance(value, list) else 0
