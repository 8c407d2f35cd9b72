"""Hashtags and mentions of a record, æøå-safe, by platform convention (spec §2.5).

- Hashtag: ``#`` not preceded by a word character (or another ``#``), then Unicode letters,
  digits or underscores holding at least one letter: ``#Grønland`` is ``grønland`` (4CAT's
  ASCII pattern makes it ``gr``), ``#2026`` is no tag. Casefolded, then NFC.
- Mention: ``@handle`` not preceded by a word character (so e-mail addresses are not
  mentions); ``.``, ``-``, ``%``, ``_`` allowed inside, trailing punctuation stripped; full
  Bluesky handles (``name.bsky.social``) and Mastodon's ``@user@server`` kept whole.
  Casefolded (handles are case-insensitive on every platform we collect).
- Reddit: ``u/name`` is a mention, ``r/sub`` a subreddit reference.
- Bluesky: link, tag and mention facets are authoritative; tags come from ``#tag`` facets
  and mention DIDs (``mention_ids``) from ``#mention`` facets, handles from the text the
  mention facet spans. The text rules apply only when a post carries no facets.

Links are removed before the rules run, so a URL's ``#fragment`` is no hashtag.
Each list is in order of first appearance, without repeats.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from observatory_pipelines.enrichments.links import MAX_TEXT_CHARS, URL_PATTERN

_HASHTAG = re.compile(r"(?<![\w#&])#(\w*[^\W\d_]\w*)")
_MENTION = re.compile(r"(?<![\w@/])@(\w[\w.\-%]*(?:@\w[\w.\-]*)?)")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/([\w-]{2,})", re.IGNORECASE)
_SUBREDDIT = re.compile(r"(?<![\w/])/?r/(\w{2,})", re.IGNORECASE)
_TRAILING = ".-%_"


@dataclass(frozen=True)
class Tags:
    hashtags: list[str]
    mentions: list[str]
    mention_ids: list[str]
    subreddit_refs: list[str]


def _norm(value: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _handle(raw: str) -> str:
    return _norm(raw.lstrip("@").rstrip(_TRAILING))


def hashtags(text: str) -> list[str]:
    return _unique(_norm(m) for m in _HASHTAG.findall(text))


def _bluesky(text: str, facets: list) -> Tags:
    raw = text.encode("utf-8")
    tags, handles, dids = [], [], []
    for facet in facets:
        index = (facet or {}).get("index") or {}
        for feature in (facet or {}).get("features") or []:
            kind = (feature or {}).get("$type")
            if kind == "app.bsky.richtext.facet#tag" and isinstance(feature.get("tag"), str):
                tags.append(_norm(feature["tag"].lstrip("#")))
            elif kind == "app.bsky.richtext.facet#mention":
                if isinstance(feature.get("did"), str):
                    dids.append(feature["did"])
                start, end = index.get("byteStart"), index.get("byteEnd")
                if isinstance(start, int) and isinstance(end, int):
                    handles.append(_handle(raw[start:end].decode("utf-8", "ignore")))
    return Tags(_unique(tags), _unique(handles), _unique(dids), [])


def record_tags(row: dict[str, Any]) -> Tags:
    """The hashtags, mentions, mention DIDs and subreddit references of one record."""
    platform = (row.get("platform") or "").lower()
    text = " ".join(t for t in (row.get("title"), row.get("text_content")) if t)
    text = text[:MAX_TEXT_CHARS]
    facets = row.get("facets")
    if platform == "bluesky" and isinstance(facets, list) and facets:
        return _bluesky(row.get("text_content") or "", facets)
    text = URL_PATTERN.sub(" ", text)
    patterns = [_MENTION, _REDDIT_USER] if platform == "reddit" else [_MENTION]
    found = sorted((m.start(), m.group(1)) for p in patterns for m in p.finditer(text))
    subreddits = _unique(_norm(m) for m in _SUBREDDIT.findall(text)) if platform == "reddit" else []
    return Tags(hashtags(text), _unique(_handle(h) for _, h in found), [], subreddits)
