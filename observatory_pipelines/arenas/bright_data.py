"""Bright Data's Web Scraper API, shared by the facebook and instagram collectors.

Flow (Bright Data's docs and the spec, arenas-more.md §5): ``POST /datasets/v3/trigger?
dataset_id=...&include_errors=true`` with a JSON array of inputs answers ``{"snapshot_id"}``;
``GET /datasets/v3/progress/{id}`` answers ``{"status": starting|running|ready|failed}``;
``GET /datasets/v3/snapshot/{id}?format=json`` answers the rows (202 while not ready).

A trigger is paid: every row of its snapshot is billed, error rows included. So the
snapshot id is written into the task's ``rate_limit_state`` (``bright_data_snapshots``)
right after the trigger, and the collector yields an empty page so the task saves it before
polling starts: a worker that dies (or a run that gives up on a failing progress endpoint)
leaves the id behind, and the next run of the same task polls that snapshot instead of
triggering (and paying for) a new one. A new run of the design starts its task from the
newest earlier task's snapshots (``carried_snapshots``: the run a worker restart failed is
healed as failed, and the next run resumes polling its snapshots).

The host comes from the operator's ``BRIGHT_DATA_API_URL`` only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, error_detail, json_body

DEFAULT_BASE_URL = "https://api.brightdata.com"
API_PREFIX = "/datasets/v3"
MAX_POLLS = 40  # the original: every 30 s, at most 40 polls (20 minutes)
TRIGGER_INTERVAL = 0.5  # courtesy: 2 triggers a second
STATE_KEY = "bright_data_snapshots"


class SnapshotPending(ArenaError):
    """The snapshot was not ready within the polls allowed; its id stays on the task."""


class BrightDataClient:
    """Trigger, poll and download snapshots; counts the billed rows in ``rows_billed``."""

    def __init__(self, platform: str, state: dict[str, Any], credentials: dict[str, Any]):
        self.platform = platform
        self.state = state
        self.credentials = credentials
        self.base_url = (settings.bright_data_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.poll_seconds = settings.bright_data_poll_seconds()
        self.http = ArenaHttpClient(state, min_interval=TRIGGER_INTERVAL, timeout=120.0)
        self.rows_billed = 0

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        token = self.credentials.get("api_token") or self.credentials.get("token")
        if not token:
            raise ArenaAuthError(f"{self.platform}: credential field 'api_token' is missing")
        return {"Authorization": f"Bearer {token}"}

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        detail = error_detail(response)
        body = response.text[:500].lower()
        message = f"{self.platform}: HTTP {status} from {describe(str(response.request.url))}"
        if detail:
            message += detail
        elif "html" in response.headers.get("content-type", ""):
            message += " (an HTML page where JSON was expected)"
        elif "validation_errors" in body:
            message += f" ({response.text[:200]})"
        if "suspended" in body or status == 402:
            # Bright Data suspends an account with a negative balance: another token may work.
            raise ArenaQuotaExceeded(message + " (account suspended or out of balance)")
        if status in (401, 403):
            raise ArenaAuthError(message)
        raise ArenaError(message)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            self._raise(response)
        return json_body(response, self.platform)

    # -- the three calls ----------------------------------------------------------------

    def trigger(self, dataset_id: str, inputs: list[dict[str, Any]], **params: str) -> str:
        url = f"{self.base_url}{API_PREFIX}/trigger"
        query = {"dataset_id": dataset_id, "include_errors": "true", **params}
        try:
            response = self.http.post(url, params=query, json=inputs, headers=self._headers())
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise ArenaQuotaExceeded(f"{self.platform}: trigger rate limited: {exc}") from None
            raise
        body = self._json(response)
        snapshot = body.get("snapshot_id") if isinstance(body, dict) else None
        if not isinstance(snapshot, str) or not snapshot.strip():
            raise ArenaError(
                f"{self.platform}: trigger reply from {describe(url)} has no snapshot_id"
            )
        return snapshot

    def progress(self, snapshot_id: str) -> dict[str, Any]:
        url = f"{self.base_url}{API_PREFIX}/progress/{snapshot_id}"
        body = self._json(self.http.get(url, headers=self._headers()))
        if not isinstance(body, dict):
            raise ArenaError(
                f"{self.platform}: progress reply from {describe(url)} is not an object"
            )
        return body

    def download(self, snapshot_id: str) -> list[Any] | None:
        """The snapshot's rows; None while Bright Data says it is not ready (202)."""
        url = f"{self.base_url}{API_PREFIX}/snapshot/{snapshot_id}"
        response = self.http.get(url, params={"format": "json"}, headers=self._headers())
        if response.status_code == 202:
            return None
        body = self._json(response)
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            body = body["data"]
        if not isinstance(body, list):
            raise ArenaError(f"{self.platform}: snapshot from {describe(url)} is not a JSON array")
        return body

    # -- a resumable collection ---------------------------------------------------------

    def snapshots(self) -> dict[str, dict[str, Any]]:
        return self.state.setdefault(STATE_KEY, {})

    def pending_or_trigger(
        self, key: str, dataset_id: str, inputs: list[dict[str, Any]], **params: str
    ) -> tuple[dict[str, Any], bool]:
        """The snapshot entry for ``key`` (one input batch of this task's window), and whether
        it was triggered just now (the caller then lets the task save the id first)."""
        entry = self.snapshots().get(key)
        if entry is not None:
            return entry, False
        snapshot_id = self.trigger(dataset_id, inputs, **params)
        entry = {"snapshot_id": snapshot_id, "dataset_id": dataset_id, "status": "triggered"}
        self.snapshots()[key] = entry
        return entry, True

    def wait_and_download(self, entry: dict[str, Any]) -> list[Any]:
        """Poll until ready (or failed), then download; counts the billed rows."""
        snapshot_id = entry["snapshot_id"]
        for poll in range(MAX_POLLS):
            progress = self.progress(snapshot_id)
            status = str(progress.get("status") or "").lower()
            entry["polls"] = int(entry.get("polls", 0)) + 1
            if status == "failed":
                entry["status"] = "failed"
                why = str(progress.get("error_message") or progress.get("error") or "")[:200]
                raise SourceFailed(
                    f"{self.platform}: snapshot {snapshot_id} failed" + (f" ({why})" if why else "")
                )
            if status == "ready":
                rows = self.download(snapshot_id)
                if rows is not None:
                    entry["status"] = "downloaded"
                    entry["rows"] = len(rows)
                    self.rows_billed += len(rows)
                    return rows
            if poll + 1 < MAX_POLLS:
                time.sleep(self.poll_seconds)
        raise SnapshotPending(
            f"{self.platform}: snapshot {snapshot_id} not ready after {MAX_POLLS} polls; "
            "its id is kept on the task, the next run polls it again"
        )


def carried_snapshots(previous: dict[str, Any], completed: bool) -> dict[str, Any]:
    """The snapshots of an earlier task of the same design and platform a new task reuses
    instead of triggering them again (each entry is keyed by dataset, inputs and window, so
    only the very same request is reused): every one not reported failed, except that a
    completed task's downloaded snapshots are not fetched again — its records are stored,
    and a new run of the same window then asks Bright Data for a fresh collection."""
    entries = previous.get(STATE_KEY) or {}
    keep = {
        key: dict(entry)
        for key, entry in entries.items()
        if isinstance(entry, dict)
        and entry.get("snapshot_id")
        and entry.get("status") != "failed"
        and not (completed and entry.get("status") == "downloaded")
    }
    return {STATE_KEY: keep} if keep else {}


def iter_batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
