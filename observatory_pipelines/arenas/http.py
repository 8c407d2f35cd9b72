"""The one HTTP client every arena uses: retries, backoff, Retry-After, per-host spacing.

429 waits for ``Retry-After`` (or the arena's default), 5xx and network errors back
off exponentially (linearly for GDELT, per its spec); every wait is capped by
``ARENA_HTTP_MAX_WAIT``. Rate-limit headers land in the collector's
``rate_limit_state`` (saved to ``collection_tasks.rate_limit_state``). Errors name
host and path only: query strings can carry API keys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import ArenaAuthError, ArenaError, SourceFailed
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

USER_AGENT = "IssueObservatory/0.1 (+research; observatory_pipelines)"
_RATE_HEADERS = (
    "x-ratelimit-used",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
)

# Shared by every client in the process: two tasks on one host share its budget.
_slots_lock = threading.Lock()
_next_slot: dict[str, float] = {}


def _wait_for_slot(host: str, interval: float) -> None:
    if interval <= 0:
        return
    with _slots_lock:
        now = time.monotonic()
        slot = max(now, _next_slot.get(host, 0.0))
        _next_slot[host] = slot + interval
    if slot > now:
        time.sleep(slot - now)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def host_key(url: str) -> str:
    """The host (with port) that spacing and one-request-at-a-time apply to."""
    return urlsplit(url).netloc


def describe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


class ArenaHttpClient:
    def __init__(
        self,
        state: dict[str, Any],
        *,
        timeout: float = 30.0,
        min_interval: float = 0.0,
        retry_after_default: float | None = None,
        linear_backoff: bool = False,
        backoff_scale: float = 1.0,
        max_retries: int | None = None,
        headers: dict[str, str] | None = None,
        rate_reset_wait: Callable[[httpx.Response], float | None] | None = None,
        transport: httpx.BaseTransport | None = None,
        keepalive: int | None = None,
    ):
        self.state = state
        # Seconds a 429 without Retry-After should wait, read from the platform's own
        # headers (Mastodon: X-RateLimit-Reset, an ISO time); None falls back as before.
        self.rate_reset_wait = rate_reset_wait
        if max_retries is None:
            max_retries = settings.arena_http_max_retries()
        self.max_retries = max_retries
        self.backoff_base = settings.arena_http_backoff_base() * backoff_scale
        self.max_wait = settings.arena_http_max_wait()
        self.min_interval = min_interval * settings.arena_rate_limit_scale()
        self.max_bytes = settings.arena_http_max_response_mb() * 1024 * 1024
        self.retry_after_default = retry_after_default
        self.linear_backoff = linear_backoff
        # httpx's timeout bounds each read; a server that drips bytes is cut at this total.
        self.timeout = timeout
        self._state_lock = threading.Lock()
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            # The page fetchers pass one that checks every address they connect to
            # (redirects included); no proxy from the environment then, or the check
            # would see the proxy instead of the site.
            transport=transport,
            trust_env=transport is None,
            # Connections kept open between requests (httpx keeps 20): a client fetching
            # more hosts at once (RSS: one lane per host) keeps one per lane, instead of
            # closing and reconnecting on every request past the 20th host.
            limits=httpx.Limits(
                max_connections=max(100, keepalive or 0),
                max_keepalive_connections=keepalive or 20,
            ),
        )

    def close(self) -> None:
        self._client.close()

    def _backoff(self, attempt: int) -> float:
        if self.linear_backoff:
            wait = self.backoff_base * (attempt + 1)
        else:
            wait = self.backoff_base * (2**attempt)
        return min(wait, self.max_wait)

    def _record(self, host: str, response: httpx.Response) -> None:
        seen = {h: response.headers[h] for h in _RATE_HEADERS if h in response.headers}
        # RSS fetches through one client from several threads: counts must not get lost.
        with self._state_lock:
            self.state["requests"] = int(self.state.get("requests", 0)) + 1
            if seen:
                hosts = self.state.setdefault("hosts", {})
                entry = hosts.setdefault(host, {})
                entry.update(seen)
                entry["observed_at"] = datetime.now(UTC).isoformat()

    def _count_retry(self) -> None:
        with self._state_lock:
            self.state["retries"] = int(self.state.get("retries", 0)) + 1

    def _send(self, request: httpx.Request, auth: Any = None) -> httpx.Response:
        deadline = time.monotonic() + self.timeout
        response = self._client.send(request, stream=True, auth=auth)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise SourceFailed(
                        f"{describe(str(request.url))}: response larger than "
                        f"{self.max_bytes // (1024 * 1024)} MB refused",
                        "too_large",
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("body not complete within the timeout")
        finally:
            response.close()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=bytes(body),
            request=request,
            # Where redirects ended (``request`` stays the one sent, for error messages).
            extensions={"final_url": str(response.url)},
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; returns any non-retryable response (caller judges 4xx)."""
        host = host_key(url)
        where = describe(url)
        last_problem, reason = "", "error"
        auth = kwargs.pop("auth", None)
        # Set by whoever runs this request in a worker thread and stops early: the retry
        # waits end at once instead of keeping the process (and Ctrl-C) waiting for them.
        stop: threading.Event | None = kwargs.pop("stop", None)
        for attempt in range(self.max_retries + 1):
            _wait_for_slot(host, self.min_interval)
            request = self._client.build_request(method, url, **kwargs)
            try:
                response = self._send(request, auth)
            except httpx.TooManyRedirects:
                # Asking again goes round the same loop: not retried.
                raise SourceFailed(
                    f"{where}: redirect loop (more than {self._client.max_redirects} redirects)",
                    "redirect_loop",
                ) from None
            except httpx.TimeoutException as exc:
                last_problem, reason = f"timed out ({type(exc).__name__})", "timeout"
                wait = self._backoff(attempt)
            except httpx.HTTPError as exc:
                last_problem, reason = f"network error ({type(exc).__name__})", "network_error"
                wait = self._backoff(attempt)
            else:
                self._record(host, response)
                status = response.status_code
                if status == 429:
                    header = parse_retry_after(response.headers.get("retry-after"))
                    if header is None and self.rate_reset_wait is not None:
                        header = self.rate_reset_wait(response)
                    if header is None:
                        header = self.retry_after_default
                    wait = self._backoff(attempt) if header is None else header
                    if self.linear_backoff:  # GDELT: max(Retry-After, 10 s x n)
                        wait = max(wait, self._backoff(attempt))
                    wait = min(wait, self.max_wait)
                    self.state["last_retry_after"] = wait
                    last_problem, reason = "HTTP 429 rate limited", "rate_limited"
                elif status >= 500:
                    last_problem, reason = f"HTTP {status}", "http_error"
                    wait = self._backoff(attempt)
                else:
                    return response
            if attempt == self.max_retries:
                break
            self._count_retry()
            log.info(
                "arena_http_retry",
                host=host,
                path=urlsplit(url).path,
                problem=last_problem,
                attempt=attempt + 1,
                wait_s=round(wait, 3),
            )
            if stop is None:
                time.sleep(wait)
            elif stop.wait(wait):
                raise SourceFailed(f"{where}: collection stopped while waiting to retry", "stopped")
        raise SourceFailed(f"{where}: {last_problem} after {self.max_retries + 1} attempts", reason)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def check_status(response: httpx.Response, what: str) -> None:
    """Raise the arena error for a 4xx: 401/403 are auth errors, the rest plain errors."""
    status = response.status_code
    if status < 400:
        return
    detail = error_detail(response)
    message = f"{what}: HTTP {status} from {describe(str(response.request.url))}{detail}"
    if status in (401, 403):
        raise ArenaAuthError(message)
    raise ArenaError(message)


def error_detail(response: httpx.Response) -> str:
    """A short, secret-free reason from a JSON error body (``{error, message}`` shapes)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    err = body.get("error")
    if isinstance(err, dict):
        err = err.get("message") or err.get("code")
    message = body.get("message")
    parts = [str(p)[:200] for p in (err, message) if p]
    return (" (" + ": ".join(parts) + ")") if parts else ""


def json_body(response: httpx.Response, what: str) -> Any:
    """Parsed JSON, or an ArenaError naming the source when the body is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("content-type", "unknown type")
        raise ArenaError(
            f"{what}: response from {describe(str(response.request.url))} is not valid JSON ({kind})"
        ) from exc
