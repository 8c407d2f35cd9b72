"""The corpus as the sources publish it: RSS 2.0 feeds and the files a researcher imports.

- ``write_feeds``: one RSS file per outlet feed (``<feed key>.xml``), every article of the
  corpus in it, newest first, as a recorded feed to be replayed (``demo.replay``);
- ``write_imports``: the social posts as files for the file-import arena, each platform in
  the shape its export tools write: Bluesky as flat NDJSON, Reddit as CSV, X as
  Zeeschuimer NDJSON (the envelope with the platform's own JSON under ``data``).

Files are written atomically (a temporary name, then a rename), so a collection reading the
folder never sees half a file, and rewriting the same corpus gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from observatory_pipelines.demo import danish
from observatory_pipelines.demo.corpus import Corpus, Item

OUTLETS = {key: (name, section, host) for key, name, section, host in danish.OUTLETS}
IMPORT_FILES = {"bluesky": "bluesky.ndjson", "reddit": "reddit.csv", "x_twitter": "x.ndjson"}
REDDIT_COLUMNS = (
    "platform",
    "id",
    "url",
    "title",
    "text",
    "created_at",
    "author_id",
    "author_name",
    "score",
    "num_comments",
    "subreddit",
    "language",
    "content_type",
)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def rss_feed(key: str, articles: Iterable[Item]) -> bytes:
    """One outlet feed as RSS 2.0 (``dc:creator`` bylines, ``category`` tags)."""
    name, section, host = OUTLETS[key]
    items = []
    for a in sorted(articles, key=lambda a: a.published_at, reverse=True):
        categories = "".join(f"<category>{escape(t)}</category>" for t in a.tags)
        items.append(
            "<item>"
            f'<guid isPermaLink="true">{escape(a.url)}</guid>'
            f"<title>{escape(a.title or '')}</title>"
            f"<link>{escape(a.url)}</link>"
            f"<description>{escape(a.text)}</description>"
            f"<pubDate>{format_datetime(a.published_at)}</pubDate>"
            f"<dc:creator>{escape(a.author.display_name)}</dc:creator>"
            f"{categories}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(name)} – {escape(section)}</title>"
        f"<link>https://{host}/</link>"
        f"<description>{escape(name)}: {escape(section)} (syntetisk demo-feed)</description>"
        f"<language>da</language>{''.join(items)}</channel></rss>\n"
    ).encode()


def _bluesky_row(p: Item) -> dict:
    return {
        "platform": "bluesky",
        "id": p.item_id,
        "url": p.url,
        "text": p.text,
        "created_at": p.published_at.isoformat().replace("+00:00", "Z"),
        "author_id": p.author.user_id,
        "author_name": p.author.display_name,
        "handle": p.author.handle,
        "lang": p.language,
        "like_count": p.likes,
        "repost_count": p.shares,
        "reply_count": p.comments,
        "embed_url": p.shared_url,
    }


def _reddit_row(p: Item) -> dict:
    return {
        "platform": "reddit",
        "id": p.item_id,
        "url": p.url,
        "title": p.title,
        "text": p.text,
        "created_at": p.published_at.isoformat(),
        "author_id": p.author.user_id,
        "author_name": p.author.handle,
        "score": p.likes,
        "num_comments": p.comments,
        "subreddit": p.community,
        "language": p.language,
        "content_type": "post",
    }


def _x_row(p: Item, nav_index: int) -> dict:
    return {
        "nav_index": f"demo:{nav_index}",
        "source_platform": "x.com",
        "source_url": p.url,
        "timestamp_collected": int(p.published_at.timestamp() * 1000) + 3_600_000,
        "data": {
            "rest_id": p.item_id,
            "legacy": {
                "full_text": p.text,
                "created_at": p.published_at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                "favorite_count": p.likes,
                "retweet_count": p.shares,
                "reply_count": p.comments,
                "lang": p.language,
            },
            "core": {
                "user_results": {
                    "result": {
                        "rest_id": p.author.user_id,
                        "legacy": {
                            "screen_name": p.author.handle,
                            "name": p.author.display_name,
                        },
                    }
                }
            },
            "views": {"count": str(p.views)},
        },
    }


def write_feeds(corpus: Corpus, folder: Path) -> dict[str, Path]:
    """``{feed key: path}`` of one RSS file per outlet feed."""
    by_feed: dict[str, list[Item]] = {key: [] for key in OUTLETS}
    for article in corpus.iter_items(("news",)):
        by_feed[article.outlet_key].append(article)
    paths = {}
    for key, articles in by_feed.items():
        paths[key] = folder / f"{key}.xml"
        _write(paths[key], rss_feed(key, articles))
    return paths


def write_imports(corpus: Corpus, folder: Path) -> dict[str, int]:
    """Rows written per import file (``IMPORT_FILES``) in ``folder``."""
    bluesky, x_lines = io.StringIO(), io.StringIO()
    reddit = io.StringIO()
    writer = csv.DictWriter(reddit, fieldnames=REDDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    counts = dict.fromkeys(IMPORT_FILES, 0)
    for post in corpus.iter_items(tuple(IMPORT_FILES)):
        counts[post.kind] += 1
        if post.kind == "bluesky":
            bluesky.write(json.dumps(_bluesky_row(post), ensure_ascii=False) + "\n")
        elif post.kind == "reddit":
            writer.writerow(_reddit_row(post))
        else:
            x_lines.write(json.dumps(_x_row(post, counts[post.kind]), ensure_ascii=False) + "\n")
    for kind, buffer in (("bluesky", bluesky), ("reddit", reddit), ("x_twitter", x_lines)):
        _write(folder / IMPORT_FILES[kind], buffer.getvalue().encode())
    return counts
