"""URL rules of ingest (collection/url_normalize.py): one clickable link, one key per page."""

from __future__ import annotations

import random

import pytest

from observatory_pipelines.collection import url_normalize
from observatory_pipelines.collection.url_normalize import clean_url, url_key

CASES = [
    # (given, clean link, key)
    (
        "HTTPS://WWW.Example.DK:443/a/b/?utm_source=x&b=2&a=1&fbclid=z&gclid=q#frag",
        "https://www.example.dk/a/b?a=1&b=2",
        "example.dk/a/b?a=1&b=2",
    ),
    ("http://example.dk:80/", "http://example.dk", "example.dk"),
    ("https://example.dk:8080/X?", "https://example.dk:8080/X", "example.dk:8080/X"),
    ("https://bit.ly/AbC", "https://bit.ly/AbC", "bit.ly/AbC"),  # shortener: case kept
    (
        "https://www.dr.dk/nyheder/1?utm_source=rss&fbclid=abc#top",
        "https://www.dr.dk/nyheder/1",
        "dr.dk/nyheder/1",
    ),
    ("https://example.dk/a/?x=1", "https://example.dk/a?x=1", "example.dk/a?x=1"),
    ("https://example.dk/#/route", "https://example.dk#/route", "example.dk#/route"),
    ("https://m.example.dk/p/index.html", "https://m.example.dk/p", "example.dk/p"),
    ("https://example.dk/a%20b?q=æ", "https://example.dk/a%20b?q=æ", "example.dk/a%20b?q=æ"),
    ("http://www.dr.dk/x?amp=1&utm_medium=a", "http://www.dr.dk/x", "dr.dk/x"),
]


@pytest.mark.parametrize(("given", "clean", "key"), CASES)
def test_clean_link_and_page_key(given, clean, key):
    assert clean_url(given) == clean
    assert url_key(given) == key


def test_http_and_https_desktop_and_mobile_share_a_key():
    keys = {url_key(u) for u in ("http://dr.dk/a", "https://www.dr.dk/a/", "https://m.dr.dk/a")}
    assert keys == {"dr.dk/a"}


@pytest.mark.parametrize("given", ["mailto:a@b.dk", "not a url", "https://example.dk:port/x"])
def test_anything_else_is_left_as_it_is(given):
    assert clean_url(given) == given and url_key(given) == given


def test_empty_and_overlong():
    assert clean_url(None) is None and url_key("") is None
    long = "https://example.dk/" + "a" * 2100 + "?utm_source=x"
    assert clean_url(long) == long  # too long to store cleaned: kept whole


# Pieces a URL is made of, odd ones included (user parts, ports, brackets, percent signs,
# tabs and newlines urlsplit deletes, leading spaces and controls, non-ASCII hosts).
_PIECES = [
    "http", "https", "HTTP", "Https", "ftp", "mailto:", "javascript:", ":", "//", "/", "?", "#",
    "&", "=", "@", "%", "%41", "[", "]", "::1", ":8080", ":80", ":443", ":x", "www.", "m.",
    "example.dk", "EXAMPLE.DK", "dr.dk", "a_b-c.", "æøå.dk", "index.html", "utm_source=rss",
    "fbclid=1", "a=1", "b", "!", " ", "\t", "\n", "\r", "\x01", "x", "Æ", ".", "-", "_",
]  # fmt: skip


def _random_url(rng: random.Random) -> str:
    start = rng.choice(["http://", "https://", "HTTPS://", "http:/", " http://", ""])
    return start + "".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 9)))


def _outcome(function, *args):
    try:
        return ("value", function(*args))
    except ValueError as exc:
        return ("error", type(exc))


def test_the_fast_split_says_what_urlsplit_says_for_random_urls():
    # The common case is split by a regular expression instead of urlsplit (a third of the
    # ingest's client time): for any string it must give urlsplit's answer, or fall back to it.
    rng = random.Random(20)
    fast_taken = 0
    for _ in range(50_000):
        url = _random_url(rng)
        assert _outcome(url_normalize._split, url) == _outcome(
            url_normalize.split_by_urlsplit, url
        ), url
        if url:
            assert _outcome(url_normalize.is_http_url, url) == _outcome(
                url_normalize.is_http_url_by_urlsplit, url
            ), url
        fast_taken += url_normalize._PLAIN_URL.fullmatch(url) is not None
    assert fast_taken > 2_000  # the comparison covered the fast path, not only the fallback
