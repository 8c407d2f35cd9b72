"""Serper.dev and SerpAPI as the Google arenas call them (google_search, google_autocomplete).

One client for both providers: hosts from the operator's settings (``SERPER_API_URL``,
``SERPAPI_API_URL``), the pooled key by provider (Serper's in the ``X-API-KEY`` header,
SerpAPI's as ``api_key``, never in an error message: errors name host and path only), one
answered request = one unit counted on the owning collector (``units_spent``, and per
provider in ``rate_limit_state.requests_billed``), and the providers' failures mapped for
the credential pool: quota spent (Serper: "Not enough credits"; SerpAPI: 429 or 200 with
"run out of searches") raises ``ArenaQuotaExceeded`` so the pool rotates keys; 401/403
raise ``ArenaAuthError`` so the key is flagged; anything else is an ``ArenaError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    Collector,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, error_detail, json_body
from observatory_pipelines.arenas.support import require

SERPER_URL = "https://google.serper.dev"
SERPAPI_URL = "https://serpapi.com"
PROVIDERS = {"medium": "serper", "premium": "serpapi"}
# The pooled credential's field per provider; ``api_key`` serves a credential kept for one.
KEY_FIELDS = {"serper": "serper_api_key|api_key", "serpapi": "serpapi_api_key|api_key"}
CREDENTIAL_FIELDS = ("serper_api_key|serpapi_api_key|api_key",)
HOST_SETTINGS = "SERPER_API_URL / SERPAPI_API_URL"


def provider_for(platform: str, tier: str) -> str:
    """The provider serving ``tier`` (medium: Serper, premium: SerpAPI), else a clear error."""
    provider = PROVIDERS.get(tier)
    if provider is None:
        raise ArenaError(f"{platform} has no {tier} tier (medium: Serper, premium: SerpAPI)")
    return provider


class SerpProviders:
    """Requests to Serper and SerpAPI on behalf of one collector (its credentials, its state,
    its request spacing); each answered request is counted on that collector."""

    def __init__(self, owner: Collector):
        self.owner = owner
        self.serper_url = (settings.serper_api_url() or SERPER_URL).rstrip("/")
        self.serpapi_url = (settings.serpapi_api_url() or SERPAPI_URL).rstrip("/")
        self.http = ArenaHttpClient(
            owner.rate_limit_state,
            min_interval=owner.min_request_interval,
            rate_reset_wait=self._serpapi_out_of_searches,
        )

    def close(self) -> None:
        self.http.close()

    def _key(self, provider: str) -> str:
        (key,) = require(self.owner.credentials, KEY_FIELDS[provider], platform=self.owner.platform)
        return key

    def serper(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST {SERPER_API_URL}/{path}`` with the JSON ``payload``; the reply object."""
        key = self._key("serper")
        url = f"{self.serper_url}/{path}"
        return self._send(
            "serper", url, lambda: self.http.post(url, json=payload, headers={"X-API-KEY": key})
        )

    def serpapi(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET {SERPAPI_API_URL}/search.json`` with ``params`` (``engine`` among them)."""
        key = self._key("serpapi")
        url = f"{self.serpapi_url}/search.json"
        return self._send(
            "serpapi", url, lambda: self.http.get(url, params={**params, "api_key": key})
        )

    def _send(self, provider: str, url: str, send: Callable[[], httpx.Response]) -> dict:
        what = f"{self.owner.platform} {provider}"
        try:
            response = send()
        except SourceFailed as exc:
            if exc.reason == "rate_limited" and provider == "serpapi":
                # SerpAPI's 429 means either the hourly throughput or no searches left;
                # after the waits it is the account: the next key may have some.
                raise ArenaQuotaExceeded(f"{what}: {exc}") from None
            raise
        self._count(provider, response)
        if response.status_code >= 400:
            self._raise(what, response)
        body = json_body(response, what)
        if not isinstance(body, dict):
            raise ArenaError(f"{what}: reply from {describe(url)} is not an object")
        if body.get("error"):  # SerpAPI reports some failures inside a 200
            message = str(body["error"])[:200]
            if "returned any results" in message:  # an empty result, not a failure
                return {key: value for key, value in body.items() if key != "error"}
            if "run out of searches" in message.lower():
                raise ArenaQuotaExceeded(f"{what}: {message}")
            raise ArenaError(f"{what}: {message}")
        return body

    def _count(self, provider: str, response: httpx.Response) -> None:
        # Both providers bill what they answered; a 429 or an error page they do not.
        if response.status_code < 400:
            self.owner.units_spent += 1
            billed = self.owner.rate_limit_state.setdefault("requests_billed", {})
            billed[provider] = int(billed.get(provider, 0)) + 1

    @staticmethod
    def _raise(what: str, response: httpx.Response) -> None:
        status = response.status_code
        detail = error_detail(response)
        text = response.text.lower()
        message = f"{what}: HTTP {status} from {describe(str(response.request.url))}{detail}"
        if "html" in response.headers.get("content-type", "") and not detail:
            message += " (an HTML page where JSON was expected)"
        if "not enough credits" in text or "run out of searches" in text:
            raise ArenaQuotaExceeded(message)
        if status in (401, 403):
            raise ArenaAuthError(message)
        raise ArenaError(message)

    def _serpapi_out_of_searches(self, response: httpx.Response) -> float | None:
        """SerpAPI answers 429 both for hourly throughput and for a spent account; the body
        says which. A spent account is not waited for: the pool rotates to the next key."""
        if "run out of searches" in response.text.lower():
            raise ArenaQuotaExceeded(
                f"{self.owner.platform} serpapi: HTTP 429 (account has run out of searches)"
            )
        return None
