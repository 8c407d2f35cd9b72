"""Polite fetching of public web pages for url_scraper and domain_crawler (an SSRF surface).

The URLs come from query designs and from collected records, i.e. from people and pages we do
not control, and the collector runs inside the operator's network. So:

- ``check_public_url``: only ``http``/``https`` URLs of public DNS names on the default ports
  (80/443); no IP literal, no user/password, no ``localhost`` or private-use suffix. Checked
  when the design is saved and again before each fetch.
- ``PublicOnlyBackend``: every TCP connection the client opens, redirects included, resolves
  the name itself, refuses it when any address is not globally routable (loopback, private,
  link-local, CGNAT, multicast...) or the port is not 80/443, and connects to the address it
  checked (no second lookup a rebinding DNS server could answer differently).
- ``URL_SCRAPER_ALLOW_HOSTS`` (operator setting, never the design) names hosts exempt from
  both checks, any port: a test or replay server such as ``127.0.0.1``.

Politeness: robots.txt read with ``urllib.robotparser`` for the token ``IssueObservatory``,
fetched through the same guarded client (401/403 = everything disallowed, other 4xx = no
rules, unreachable or 5xx = allowed, as the spec says); a ``Crawl-delay`` longer than the
arena's spacing is honoured; per-host spacing, retries and the size cap are the shared
``ArenaHttpClient``'s; a descriptive User-Agent carrying ``OPERATOR_CONTACT``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import ArenaOptionError, SourceFailed
from observatory_pipelines.arenas.http import ArenaHttpClient, describe
from observatory_pipelines.arenas.mastodon_support import InstanceRefused, instance_host
from observatory_pipelines.arenas.wayback_text import EXTRACTOR, extract_text

ROBOTS_TOKEN = "IssueObservatory"
DEFAULT_PORTS = {"http": 80, "https": 443}
PAGE_MAX_BYTES = 900 * 1024  # spec: pages over 900 KB are skipped
PAGE_TIMEOUT_S = 30.0  # spec: 30 s a page
JS_SHELL_CHARS = 500  # spec: less text than this is probably a page built by JavaScript
MAX_CRAWL_DELAY_S = 30.0  # a robots.txt asking for more is honoured at this much
HTML_TYPES = ("text/html", "application/xhtml+xml")


class UrlRefused(ArenaOptionError):
    """A URL a design or a record gave is not a public web page the fetcher may request."""


class AddressRefused(SourceFailed):
    """A connection (perhaps a redirect's) would reach a non-public address or port."""

    def __init__(self, message: str):
        super().__init__(message, "error")


def allowed_hosts() -> frozenset[str]:
    return frozenset(settings.url_scraper_allow_hosts())


def user_agent() -> str:
    contact = settings.operator_contact()
    tail = f"; contact: {contact}" if contact else ""
    return (
        f"{ROBOTS_TOKEN}/0.1 (+research crawler of Danish public debate; polite, robots.txt{tail})"
    )


def check_public_url(value: Any, what: str) -> str:
    """``value`` stripped when it is a public http(s) page URL, else ``UrlRefused`` saying why."""
    if not isinstance(value, str) or not value.strip():
        raise UrlRefused(f"{what}: {value!r} is not a URL")
    raw = value.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise UrlRefused(f"{what}: {raw!r} refused: not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlRefused(f"{what}: {raw!r} refused: only http and https URLs are fetched")
    if parts.username or parts.password:
        raise UrlRefused(f"{what}: {raw!r} refused: no user or password in the URL")
    host = (parts.hostname or "").lower()
    if host in allowed_hosts():
        return raw
    if port is not None and port not in DEFAULT_PORTS.values():
        raise UrlRefused(f"{what}: {raw!r} refused: port {port} (only 80 and 443 are fetched)")
    public_host(host, what, shown=raw)
    return raw


def public_host(value: Any, what: str, shown: str | None = None) -> str:
    """A public DNS name (lowercase, IDNA) or one the operator allows; else ``UrlRefused``."""
    if isinstance(value, str) and value.strip().lower() in allowed_hosts():
        return value.strip().lower()
    try:
        return instance_host(value)
    except InstanceRefused as exc:
        reason = str(exc).split(" refused: ", 1)[-1] if " refused: " in str(exc) else str(exc)
        raise UrlRefused(f"{what}: {shown or value!r} refused: {reason}") from None


def public_address(host: str, port: int) -> str:
    """The address to connect to for ``host``: every address it resolves to must be public."""
    if port not in DEFAULT_PORTS.values():
        raise AddressRefused(f"{host}:{port} refused: only ports 80 and 443 are fetched")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"{host}: name not resolved ({exc})") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise AddressRefused(f"{host} refused: it resolves to a non-public address")
    if not addresses:
        raise httpcore.ConnectError(f"{host}: no address")
    return addresses[0]


class PublicOnlyBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to checked public addresses."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        name = host.decode("ascii") if isinstance(host, bytes) else str(host)
        if name.strip("[]").lower() not in allowed_hosts():
            # TLS still verifies the certificate for the name: httpcore passes the origin's
            # host as server_hostname, not the address connected to.
            name = public_address(name.strip("[]"), int(port))
        return super().connect_tcp(name, port, timeout, local_address, socket_options)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(retries=0)
        # httpx builds its connection pool with the default backend and offers no parameter
        # for another; the pool is rebuilt with the same TLS context and the guarded one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            http1=True,
            http2=False,
            network_backend=PublicOnlyBackend(),
        )


def page_client(state: dict[str, Any], interval: float) -> ArenaHttpClient:
    """The shared client with the guarded transport, the page caps and our User-Agent."""
    client = ArenaHttpClient(
        state,
        timeout=PAGE_TIMEOUT_S,
        min_interval=interval,
        headers={"User-Agent": user_agent(), "Accept": "text/html,application/xhtml+xml"},
        transport=_GuardedTransport(),
    )
    client.max_bytes = PAGE_MAX_BYTES
    return client


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class _Robots:
    """robots.txt of each origin, read once a run."""

    def __init__(self, client: ArenaHttpClient, counter) -> None:
        self.client = client
        self.count = counter
        self.parsers: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self.lock = threading.Lock()

    def _load(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        parser = urllib.robotparser.RobotFileParser(f"{origin}/robots.txt")
        try:
            response = self.client.get(f"{origin}/robots.txt")
        except SourceFailed as exc:
            if isinstance(exc, AddressRefused):
                raise
            return None  # unreachable robots.txt: allowed (spec)
        finally:
            self.count()
        status = response.status_code
        if status in (401, 403):
            parser.disallow_all = True  # as RobotFileParser.read() treats them
        elif status >= 400:
            parser.allow_all = True
        else:
            parser.parse(response.content.decode("utf-8", errors="replace").splitlines())
        return parser

    def check(self, url: str) -> tuple[bool, float | None]:
        """(allowed, crawl delay in seconds or None) for ``url`` and our token."""
        origin = _origin(url)
        with self.lock:
            if origin not in self.parsers:
                self.parsers[origin] = self._load(origin)
            parser = self.parsers[origin]
        if parser is None:
            return True, None
        delay = parser.crawl_delay(ROBOTS_TOKEN)
        return parser.can_fetch(ROBOTS_TOKEN, url), float(delay) if delay else None


class _PageMeta(HTMLParser):
    """The publication date a page declares (meta tags, JSON-LD, the first ``<time>``)."""

    _META = ("article:published_time", "og:published_time", "datepublished", "date", "dc.date")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.time: str | None = None
        self.in_ld = False
        self.ld: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name") or values.get("itemprop") or ""
            if key.lower() in self._META and values.get("content"):
                self.found.setdefault(key.lower(), values["content"])
        elif tag == "time" and self.time is None and values.get("datetime"):
            self.time = values["datetime"]
        elif tag == "script" and values.get("type", "").lower() == "application/ld+json":
            self.in_ld = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_ld = False

    def handle_data(self, data):
        if self.in_ld:
            self.ld.append(data)


_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def page_date(html: str, last_modified: str | None) -> tuple[datetime | None, str | None]:
    """(published_at, where it came from): the page's own date, else ``Last-Modified``."""
    parser = _PageMeta()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass
    for key in _PageMeta._META:
        if moment := _iso(parser.found.get(key)):
            return moment, f"meta {key}"
    ld = _LD_DATE.search("".join(parser.ld))
    if ld and (moment := _iso(ld.group(1))):
        return moment, "json-ld datePublished"
    if moment := _iso(parser.time):
        return moment, "time element"
    if last_modified:
        try:
            moment = parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), "last-modified"
    return None, None


@dataclass
class FetchedPage:
    source_url: str
    final_url: str
    status: int
    text: str | None
    title: str | None
    language: str | None
    published_at: datetime | None
    meta: dict[str, Any] = field(default_factory=dict)


class PageFetcher:
    """Fetches one page at a time: robots.txt first, then the page, then its readable text."""

    def __init__(self, state: dict[str, Any], interval: float) -> None:
        self.client = page_client(state, interval)
        self.robots = _Robots(self.client, self._count)
        self.requests = 0
        self.last_fetch: dict[str, float] = {}
        self.scale = settings.arena_rate_limit_scale()

    def _count(self) -> None:
        self.requests += 1

    def close(self) -> None:
        self.client.close()

    def _crawl_delay(self, url: str, delay: float | None) -> None:
        host = urlsplit(url).netloc
        if delay:
            wait = min(delay, MAX_CRAWL_DELAY_S) * self.scale
            since = time.monotonic() - self.last_fetch.get(host, float("-inf"))
            if since < wait:
                time.sleep(wait - since)
        self.last_fetch[host] = time.monotonic()

    def fetch(self, url: str, what: str) -> FetchedPage:
        """The page, or ``SourceFailed`` naming ``what`` and why it was not fetched."""
        check_public_url(url, what)
        allowed, delay = self.robots.check(url)
        if not allowed:
            raise SourceFailed(f"{what}: disallowed by robots.txt for {ROBOTS_TOKEN}", "error")
        self._crawl_delay(url, delay)
        started = time.monotonic()
        try:
            response = self.client.get(url)
        except SourceFailed as exc:
            raise SourceFailed(f"{what}: {exc}", exc.reason) from None
        finally:
            self._count()
        took_ms = int((time.monotonic() - started) * 1000)
        final_url = str(response.extensions.get("final_url") or response.url)
        if _origin(final_url) != _origin(url):
            # Redirected to another site: its robots.txt decides whether we keep the page.
            if not self.robots.check(final_url)[0]:
                raise SourceFailed(
                    f"{what}: redirected to {describe(final_url)}, which robots.txt "
                    f"disallows for {ROBOTS_TOKEN}",
                    "error",
                )
        status = response.status_code
        kind = response.headers.get("content-type", "")
        if status >= 400:
            raise SourceFailed(
                f"{what}: HTTP {status} from {describe(final_url)} ({kind or 'no type'})",
                "http_error",
            )
        if not kind.lower().startswith(HTML_TYPES):
            raise SourceFailed(
                f"{what}: {describe(final_url)} is {kind or 'of no type'}, not an HTML page",
                "unparseable",
            )
        extracted = extract_text(response.content, kind)
        html = response.content.decode(extracted.charset.split(" ")[0], errors="replace")
        published, date_source = page_date(html, response.headers.get("last-modified"))
        text_chars = len(extracted.text or "")
        return FetchedPage(
            source_url=url,
            final_url=final_url,
            status=status,
            text=extracted.text,
            title=extracted.title,
            language=extracted.language,
            published_at=published,
            meta={
                "source_url": url,
                "final_url": final_url,
                "http_status_code": status,
                "content_type_header": kind,
                "extraction_method": EXTRACTOR,
                "charset": extracted.charset,
                "needs_playwright": text_chars < JS_SHELL_CHARS,
                "robots_txt_allowed": True,
                "crawl_delay_s": delay,
                "fetch_duration_ms": took_ms,
                "content_length_bytes": len(response.content),
                "page_date_source": date_source,  # None: undated, ingest uses collected_at
                "fetched_at": datetime.now(UTC).isoformat(),
            },
        )
