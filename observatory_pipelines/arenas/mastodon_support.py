"""Mastodon helpers: instance host names a design may name, status HTML to text, paging ids.

Instance names come from query designs (like RSS feed URLs), so each one is checked to be a
plain public DNS name before anything connects to it: no IP literal, no port, no path, no
``localhost`` or private-use suffix, https only; and, on the real network, every address it
resolves to must be public (a name that resolves to 10.0.0.1 is refused as well).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from observatory_pipelines.arenas.base import ArenaOptionError

# RFC 1123 labels; a name needs at least one dot (a bare "intranet" is a LAN name).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PRIVATE_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".home.arpa",
    ".arpa",
    ".test",
    ".invalid",
    ".example",
)


class InstanceRefused(ArenaOptionError):
    """An instance name a design gave is not a public host the collector may call."""


def instance_host(value: object) -> str:
    """The instance's host name (lowercase, IDNA) or ``InstanceRefused`` saying why not.

    Accepted: ``helvede.net``, ``https://helvede.net``, ``https://helvede.net/`` and
    ``@user@host`` style hosts are not accepted here (that is an actor, not an instance).
    """
    if not isinstance(value, str) or not value.strip():
        raise InstanceRefused(f"instance {value!r} is not a host name")
    raw = value.strip()
    text = raw.lower()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "https":
            raise InstanceRefused(
                f"instance {raw!r} refused: instances are reached over https only"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise InstanceRefused(f"instance {raw!r} refused: give the host name without a path")
        text = parts.netloc
    if "@" in text or "/" in text or "?" in text or "#" in text:
        raise InstanceRefused(f"instance {raw!r} refused: give a plain host name")
    if ":" in text or text.startswith("["):
        raise InstanceRefused(f"instance {raw!r} refused: no port or IP address, a host name")
    text = text.rstrip(".")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise InstanceRefused(f"instance {raw!r} refused: an IP address, not a host name")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InstanceRefused(f"instance {raw!r} refused: not a valid host name") from None
    labels = text.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InstanceRefused(f"instance {raw!r} refused: not a valid public host name")
    if labels[-1].isdigit():  # 10.1 or 127.1 style shorthand addresses
        raise InstanceRefused(f"instance {raw!r} refused: an IP address, not a host name")
    if text == "localhost" or text.endswith(_PRIVATE_SUFFIXES):
        raise InstanceRefused(f"instance {raw!r} refused: a local or private host name")
    return text


def non_public_address(addresses: Iterable[str]) -> str | None:
    """The first address that is not globally routable (loopback, private, link-local...)."""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return address
    return None


def resolve_public(host: str) -> None:
    """Refuse a host whose DNS answer holds a non-public address (``InstanceRefused``).

    A resolution failure is left to the request (it is reported as an unreachable instance).
    """
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return
    bad = non_public_address(info[4][0] for info in infos)
    if bad is not None:
        raise InstanceRefused(f"instance {host!r} refused: it resolves to a non-public address")


def split_acct(value: str) -> tuple[str, str | None]:
    """(username, host or None) of ``user``, ``@user@host``, ``user@host`` or a profile URL."""
    text = value.strip()
    if text.lower().startswith("https://"):
        parts = urlsplit(text)
        name = parts.path.strip("/").split("/")[0].lstrip("@")
        return name, parts.netloc.lower() or None
    text = text.lstrip("@")
    if "@" in text:
        user, host = text.split("@", 1)
        return user, host.lower() or None
    return text, None


def snowflake_id(moment: datetime) -> str:
    """The smallest Mastodon status id of ``moment`` (ids are ms timestamps shifted by 16 bits)."""
    return str(int(moment.timestamp() * 1000) << 16)


def next_max_id(link_header_next: str | None) -> str | None:
    """``max_id`` of the Link header's rel="next" URL (the URL itself is never followed: its
    host is the server's to choose, ours is the configured instance)."""
    if not link_header_next:
        return None
    values = parse_qs(urlsplit(link_header_next).query).get("max_id")
    return values[-1] if values else None


class _TextOfHtml(HTMLParser):
    """Visible text of a status: paragraphs and line breaks kept as newlines."""

    _BLOCKS = frozenset({"p", "div", "blockquote", "li", "ul", "ol", "pre", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def status_text(html_content: str | None) -> str | None:
    """Plain text of a status's HTML ``content`` (``<p>`` → blank line, ``<br>`` → newline).

    Python's own ``html.parser`` does the parsing (maintained with CPython; the lock holds no
    other HTML parser but feedparser's sgmllib fork, which is meant for feeds). Link texts are
    kept whole: Mastodon splits a long URL into invisible/ellipsis spans whose texts together
    are the full URL.
    """
    if not html_content:
        return None
    parser = _TextOfHtml()
    parser.feed(str(html_content))
    parser.close()
    text = "".join(parser.parts).replace("\x00", "").replace("\r", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    joined = "\n".join(lines)
    joined = re.sub(r"\n{3,}", "\n\n", joined).strip()
    return joined or None
