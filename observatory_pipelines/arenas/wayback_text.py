"""Readable text of an archived HTML page (Wayback ``id_`` replies, Common Crawl WARC records).

No extraction library is in the lock: trafilatura is Apache-2.0 since 1.8, but its URL
helper courlan depends on ``tld`` (MPL-1.1 / GPL-2.0 / LGPL-2.1), which the licence check
(tests/test_licences.py) reads as GPL, and adding it means re-locking a file other people
edit. So this is the standard library's ``html.parser`` with a plain readable-text rule:

- ``script``, ``style``, ``noscript``, ``template``, ``svg``, ``iframe``, ``form``,
  ``nav``, ``header``, ``footer``, ``aside`` and ``button`` hold no article text: dropped;
- the text of block elements (``p``, headings, ``li``, ``blockquote``, ``pre``, ``td``...)
  becomes one paragraph each; runs of whitespace collapse;
- when the page has an ``<article>`` (else ``<main>``) with at least ``MIN_MAIN_CHARS``
  characters of paragraphs, only the paragraphs inside it are kept (menus, teasers and
  cookie banners usually sit outside it); otherwise every paragraph of the body;
- paragraphs of fewer than ``MIN_WORDS`` words are dropped unless they are headings
  (link lists, "Del", "Læs mere").

It is a heuristic and says so: records carry ``extractor: "html.parser-readable-text"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

EXTRACTOR = "html.parser-readable-text"
MIN_MAIN_CHARS = 200
MIN_WORDS = 4
_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "form",
        "nav",
        "header",
        "footer",
        "aside",
        "button",
        "select",
        "head",
    }
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = _HEADINGS | frozenset(
    {
        "p",
        "li",
        "blockquote",
        "pre",
        "td",
        "th",
        "dd",
        "dt",
        "figcaption",
        "div",
        "section",
        "article",
        "main",
        "body",
        "table",
        "tr",
        "ul",
        "ol",
        "br",
    }
)
_SPACE = re.compile(r"\s+")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.I)


@dataclass
class ExtractedPage:
    text: str | None
    title: str | None
    language: str | None  # the page's <html lang>, primary subtag, lowercase
    charset: str


@dataclass
class _Paragraph:
    text: str
    heading: bool
    in_main: bool


class _Readable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.skip_depth = 0
        self.main_depth = 0  # inside <article> (or <main>, judged later)
        self.article_depth = 0
        self.buffer: list[str] = []
        self.buffer_heading = False
        self.paragraphs: list[tuple[_Paragraph, bool]] = []  # (paragraph, inside <main>)
        self.title_parts: list[str] = []
        self.in_title = False
        self.og_title: str | None = None
        self.language: str | None = None
        self.saw_article = False
        self.saw_main = False

    def _flush(self) -> None:
        text = _SPACE.sub(" ", "".join(self.buffer)).strip()
        self.buffer = []
        if text:
            paragraph = _Paragraph(text, self.buffer_heading, self.article_depth > 0)
            self.paragraphs.append((paragraph, self.main_depth > 0))
        self.buffer_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs}
        if tag == "html" and values.get("lang"):
            self.language = str(values["lang"]).split("-")[0].strip().lower() or None
        if tag == "meta" and values.get("property") == "og:title" and values.get("content"):
            self.og_title = values["content"]
        if tag == "title":
            self.in_title = True
        if tag in _VOID:
            if tag == "br" and not self.skip_depth:
                self.buffer.append(" ")
            return
        self.stack.append(tag)
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag in _BLOCKS and not self.skip_depth:
            self._flush()
            if tag in _HEADINGS:
                self.buffer_heading = True
        if tag == "article":
            self.article_depth += 1
            self.saw_article = True
        if tag == "main":
            self.main_depth += 1
            self.saw_main = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag not in self.stack:
            return  # a stray end tag: ignore rather than unwind the stack
        while self.stack:
            top = self.stack.pop()
            if top in _SKIP:
                self.skip_depth -= 1
            elif top in _BLOCKS and not self.skip_depth:
                self._flush()
            if top == "article":
                self.article_depth -= 1
            if top == "main":
                self.main_depth -= 1
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if not self.skip_depth:
            self.buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The page's text and the charset read with: the header's, else the page's <meta>,
    else UTF-8; Windows-1252 when the bytes are not valid in the named one."""
    match = _HEADER_CHARSET.search(content_type or "")
    if match:
        declared = match.group(1)
    else:
        meta = _CHARSET.search(body[:4096])
        declared = meta.group(1).decode("ascii", "replace") if meta else "utf-8"
    declared = declared.lower()
    try:
        return body.decode(declared), declared
    except (LookupError, UnicodeDecodeError):
        return body.decode("cp1252", errors="replace"), "cp1252 (fallback)"


def _keep(paragraph: _Paragraph) -> bool:
    return paragraph.heading or len(paragraph.text.split()) >= MIN_WORDS


def extract_text(body: bytes, content_type: str | None = None) -> ExtractedPage:
    """Readable text, title and declared language of an HTML page (see module docstring)."""
    html, charset = decode_html(body, content_type)
    parser = _Readable()
    parser.feed(html)
    parser.close()
    paragraphs = [(p, in_main) for p, in_main in parser.paragraphs if _keep(p)]
    chosen = [p for p, _ in paragraphs]
    for inside in (
        [p for p, _ in paragraphs if p.in_main] if parser.saw_article else [],
        [p for p, in_main in paragraphs if in_main] if parser.saw_main else [],
    ):
        if sum(len(p.text) for p in inside) >= MIN_MAIN_CHARS:
            chosen = inside
            break
    text = "\n\n".join(p.text for p in chosen) or None
    title = _SPACE.sub(" ", "".join(parser.title_parts)).strip() or parser.og_title
    return ExtractedPage(text=text, title=title or None, language=parser.language, charset=charset)
