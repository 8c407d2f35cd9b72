"""feedparser's value rules that ``rss_reader`` must apply as feedparser does, written here
because feedparser keeps them private (``_urljoin``, ``_cp1252``, ``_FeedParserMixin``'s
``looks_like_html``, ``html_types`` and ``_sync_author_detail``, ``_HTMLSanitizer``'s
acceptable elements): a private name may change in any release, and this project uses its
dependencies' public APIs only (tests/storage/test_public_apis.py).

Adapted from feedparser 6.0 (BSD-2-Clause; Copyright 2010-2025 Kurt McKee, 2002-2008 Mark
Pilgrim), the version in requirements.lock. ``tests/arenas/test_rss_reader.py`` compares
rss_reader's entries with feedparser's own, so a feedparser upgrade that changes a rule
fails that test instead of changing records silently.
"""

from __future__ import annotations

import html.entities
import re
import urllib.parse

HTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})

# The elements feedparser's sanitizer accepts: a text whose tags are all among them "looks
# like HTML" to feedparser.
ACCEPTABLE_ELEMENTS = frozenset(
    """
a abbr acronym address area article aside audio b big blockquote br button canvas caption
center cite code col colgroup command datagrid datalist dd del details dfn dialog dir div dl
dt em event-source fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i
img input ins kbd keygen label legend li m map menu meter multicol nav nextid noscript ol
optgroup option output p pre progress q s samp section select small sound source spacer span
strike strong sub sup table tbody td textarea tfoot th thead time tr tt u ul var video
""".split()
)

# Windows-1252 code points a feed sent as C1 controls, mapped as feedparser maps them (the
# five bytes Windows-1252 leaves undefined stay as they are).
CP1252 = {}
for _byte in range(0x80, 0xA0):
    try:
        CP1252[_byte] = bytes([_byte]).decode("cp1252")
    except UnicodeDecodeError:
        pass

_URI_FIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ENTITY = re.compile(r"&#?\w+;")
_TAG = re.compile(r"</?(\w+)")
_NAMED_ENTITY = re.compile(r"&(\w+);")
_EMAIL = re.compile(
    r"(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"
    r"([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"
)


def urljoin(base: str, uri: str) -> str:
    """feedparser's join: extra slashes after the scheme dropped; an invalid URI → ''."""
    uri = _URI_FIXER.sub(r"\1\3", uri)
    try:
        return urllib.parse.urljoin(base, uri)
    except ValueError:
        return ""


def looks_like_html(text: str) -> bool:
    """feedparser's conservative test: a close tag or entity, every tag an accepted element,
    every named entity a known one."""
    if not (_CLOSE_TAG.search(text) or _ENTITY.search(text)):
        return False
    if any(tag.lower() not in ACCEPTABLE_ELEMENTS for tag in _TAG.findall(text)):
        return False
    return all(name in html.entities.entitydefs for name in _NAMED_ENTITY.findall(text))


def author_detail(author: str) -> dict[str, str] | None:
    """feedparser's reading of a byline such as ``kim@avis.dk (Kim Hansen)``: its name and
    e-mail address (None when it has neither)."""
    email = None
    match = _EMAIL.search(author)
    if match:
        email = match.group(0)
        for part in (email, "()", "<>", "&lt;&gt;"):
            author = author.replace(part, "")
        author = author.strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    if not (author or email):
        return None
    detail = {}
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email
    return detail
