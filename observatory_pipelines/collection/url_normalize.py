"""URL normalisation for ingest: a clickable clean link, and a key that names the page.

The rules (written here rather than taken from a library: the one we used, ``ural``, is
GPL-3.0, and the project is MIT):

- scheme and host lowercased; the default port (80 for http, 443 for https) dropped;
- tracking parameters dropped (``utm_*``, ``fbclid``, ``gclid`` and the others in
  ``TRACKING_PARAMETERS``); the remaining ones sorted, each kept as written (encoding too);
- the fragment dropped unless it is an app route (``#/...`` or ``#!...``);
- a trailing ``/`` and a final ``index.html``/``index.htm``/``index.php`` dropped;
- the path's case is kept: shortener codes (``bit.ly/AbC``) are case-sensitive, and
  shortened links are never followed;
- the key (``url_key``) also drops the scheme and a ``www``/``m``/``mobile`` subdomain, so
  the http and https, desktop and mobile spellings of one page share a key.

Anything that is not an http(s) URL is returned unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MAX_URL_CHARS = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "wt_mc",
        "xtor",
        "amp",  # the AMP rendering of the same page
    }
)
_INDEX_PAGE = re.compile(r"/index\.(html?|php)$", re.IGNORECASE)
# The common case, split without ``urlsplit`` (a third of the client's ingest time): http(s),
# a plain host (letters, digits, ``.-_``: no user, port, brackets or ``%``), then path, query
# and fragment as ``urlsplit`` divides them. Only for strings without tab, CR or LF (which
# ``urlsplit`` deletes wherever they are); anything else goes through ``urlsplit``.
_PLAIN_URL = re.compile(
    r"(?P<scheme>[hH][tT][tT][pP][sS]?)://(?P<host>[A-Za-z0-9._-]+)(?P<path>/[^?#]*)?"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
_DELETED_BY_URLSPLIT = re.compile(r"[\t\r\n]")
_IRRELEVANT_SUBDOMAIN = re.compile(r"^(www\d*|m|mobile)\.")


def _tracking(parameter: str) -> bool:
    name = unquote(parameter.split("=", 1)[0]).lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def is_http_url(value: str | None) -> bool:
    """An absolute http(s) URL with a host: what ``urlsplit`` says, for the common case without it."""
    if not value:
        return False
    if _PLAIN_URL.fullmatch(value) is not None and _DELETED_BY_URLSPLIT.search(value) is None:
        return True
    return is_http_url_by_urlsplit(value)


def is_http_url_by_urlsplit(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme.lower() in DEFAULT_PORTS and bool(parts.netloc)


def _split(url: str) -> tuple[str, str, str, str, str] | None:
    """(scheme, host[:port], path, query, fragment) of an http(s) URL, else None."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and _DELETED_BY_URLSPLIT.search(url) is None:
        # What urlsplit gives for it: the host lowercased, no port, no user part.
        scheme, host, path, query, fragment = plain.group(
            "scheme", "host", "path", "query", "fragment"
        )
        return scheme.lower(), host.lower(), path or "", query or "", fragment or ""
    return split_by_urlsplit(url)


def split_by_urlsplit(url: str) -> tuple[str, str, str, str, str] | None:
    """``_split`` for any URL (the reference its fast path is tested against)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{parts.port}"
    if "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[0] + "@" + host
    return scheme, host, parts.path, parts.query, parts.fragment


def _parts(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, host[:port], path, query+fragment) after the rules, or None if not http(s)."""
    split = _split(url.strip())
    if split is None:
        return None
    scheme, host, path, query, fragment = split
    path = _INDEX_PAGE.sub("", path).rstrip("/")
    kept = sorted(p for p in query.split("&") if p and not _tracking(p))
    tail = ("?" + "&".join(kept)) if kept else ""
    if fragment.startswith(("/", "!")):
        tail += "#" + fragment
    return scheme, host, path, tail


def clean_url(url: str | None) -> str | None:
    """The link with tracking parameters and fragments removed, still clickable."""
    if not url:
        return None
    try:
        parts = _parts(url)
    except ValueError:  # e.g. a port that is not a number
        return url
    if parts is None:
        return url
    scheme, host, path, tail = parts
    cleaned = f"{scheme}://{host}{path}{tail}"
    return cleaned if len(cleaned) <= MAX_URL_CHARS else url


def url_key(url: str | None) -> str | None:
    """The page's identity: the clean URL without scheme and ``www``/``m`` subdomain."""
    if not url:
        return None
    try:
        parts = _parts(url)
    except ValueError:
        return url
    if parts is None:
        return url
    _split, host, path, tail = parts
    return f"{_IRRELEVANT_SUBDOMAIN.sub('', host)}{path}{tail}"
