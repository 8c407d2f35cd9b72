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
from urllib.parse import SplitResult, unquote, urlsplit

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
_IRRELEVANT_SUBDOMAIN = re.compile(r"^(www\d*|m|mobile)\.")


def _tracking(parameter: str) -> bool:
    name = unquote(parameter.split("=", 1)[0]).lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def _parts(url: str) -> tuple[SplitResult, str, str, str] | None:
    """(split url, host[:port], path, query+fragment) after the rules, or None if not http(s)."""
    parts = urlsplit(url.strip())
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
    path = _INDEX_PAGE.sub("", parts.path).rstrip("/")
    query = sorted(p for p in parts.query.split("&") if p and not _tracking(p))
    tail = ("?" + "&".join(query)) if query else ""
    if parts.fragment.startswith(("/", "!")):
        tail += "#" + parts.fragment
    return parts._replace(scheme=scheme), host, path, tail


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
    split, host, path, tail = parts
    cleaned = f"{split.scheme}://{host}{path}{tail}"
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
