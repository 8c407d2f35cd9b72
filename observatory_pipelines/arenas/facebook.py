"""Facebook public pages and groups through Bright Data's Web Scraper API (medium tier).

Actor-only (spec §5): Bright Data's keyword discovery was rejected on every scraper, so the
design names pages (``custom_pages``, or the actors' facebook presences) and one trigger goes
to the posts dataset per page URL (the groups dataset for ``/groups/`` URLs) with
``num_of_posts`` = min(days x 50, the cap still open) and the window's Copenhagen dates. The
shared client (``bright_data.py``) keeps each snapshot id on the task, so a restarted task
polls the snapshot it already paid for.

Only facebook.com URLs are sent (a bare name becomes ``https://www.facebook.com/{name}``);
any other host is skipped and named in the task's errors.

Price: Bright Data bills every snapshot row (~$1.50 per 1,000 records, error rows included):
1 unit = 1 row, 10 units a credit (costs.py). ``estimate_units`` = min(pages x days x 50, cap).

Premium, Meta Content Library, is the institutional path (an application via SOMAR/ICPSR,
clean-room access); it is not built and the premium tier is refused.

Comments (the comments dataset, batches of post URLs) are not collected yet; rows that carry a
``comment_id`` map to ``content_type = comment``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
    SourceFailed,
)
from observatory_pipelines.arenas.bright_data import (
    STATE_KEY,
    BrightDataClient,
    SnapshotPending,
    carried_snapshots,
    iter_batches,
)
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    SourceTally,
    in_window,
    map_page,
    record_cap,
)
from observatory_pipelines.arenas.text import plausible_date

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
POSTS_DATASET = "gd_lkaxegm826bjpoo9m5"
GROUPS_DATASET = "gd_lz11l67o2cb3r0lkj3"
POSTS_PER_DAY = 50  # the original's num_of_posts estimate
FACEBOOK_HOSTS = {"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"}


def window_days(request: CollectionRequest) -> int:
    return max(1, -(-int((request.date_to - request.date_from).total_seconds()) // 86_400))


def copenhagen_dates(request: CollectionRequest) -> tuple[str, str]:
    """Bright Data's MM-DD-YYYY dates: the window's first and last Copenhagen day."""
    first = request.date_from.astimezone(COPENHAGEN).date()
    last = (request.date_to - timedelta(seconds=1)).astimezone(COPENHAGEN).date()
    return first.strftime("%m-%d-%Y"), last.strftime("%m-%d-%Y")


def page_url(raw: str, hosts: set[str], root: str) -> str | None:
    """The page's canonical URL on the platform, or None when it names another host."""
    value = raw.strip()
    if not value:
        return None
    if "://" not in value and "/" not in value.strip("/") and "." not in value:
        name = value.strip("/").lstrip("@")
        return f"{root}/{name}" if name and name.lower() != "groups" else None
    parts = urlsplit(value if "://" in value else f"https://{value}")
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in hosts:
        return None
    if parts.username or parts.password or parts.port:
        return None
    path = parts.path.rstrip("/")
    if not path or path.lower() == "/groups":
        return None
    return f"{root}{path}"


@register
class FacebookCollector(Collector):
    platform = "facebook"
    arena = "social_media"
    supported_tiers = ("medium",)
    needs_credentials = True
    max_records_per_run = 5_000
    host_setting = "BRIGHT_DATA_API_URL"
    credential_fields = ("api_token|token",)
    quota = (
        "Bright Data bills every snapshot row (~$1.50 per 1,000, error rows included); "
        "2 triggers a second; a snapshot is polled every 30 s, at most 40 times"
    )
    option_specs = (
        ArenaOption(
            "custom_pages",
            "list of strings",
            [],
            "facebook.com page or group URLs (or bare page names) collected besides the "
            "actors' facebook presences; other hosts are skipped",
        ),
    )
    hosts = FACEBOOK_HOSTS
    root = "https://www.facebook.com"
    resumable_state = (STATE_KEY,)

    @classmethod
    def carry_over(cls, previous: dict[str, Any], completed: bool) -> dict[str, Any]:
        return carried_snapshots(previous, completed)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = BrightDataClient(self.platform, self.rate_limit_state, self.credentials)

    # -- sources and cost ---------------------------------------------------------------

    # What the collection loop below differs in per platform (instagram overrides them).
    sources_option = "custom_pages"
    refusal = (
        "not a facebook.com page URL; skipped (only facebook.com pages are sent to Bright Data)"
    )
    urls_per_trigger = 1
    trigger_params: dict[str, str] = {}

    def source_url(self, raw: str) -> str | None:
        """The canonical URL Bright Data is sent for ``raw``; None: not this platform's."""
        return page_url(raw, self.hosts, self.root)

    def dataset_for(self, url: str) -> str:
        return GROUPS_DATASET if "/groups/" in url else POSTS_DATASET

    def sources(self, request: CollectionRequest) -> tuple[list[str], list[str]]:
        """(URLs to collect, names refused because they are not on this platform)."""
        raw = [str(p) for p in (request.options or {}).get(self.sources_option) or []]
        for actor in request.actors:
            raw += [v for v in (actor.platform_username, actor.platform_user_id) if v][:1]
        urls: list[str] = []
        refused: list[str] = []
        for value in raw:
            url = self.source_url(value)
            if url is None:
                refused.append(value.strip()[:200])
            elif url not in urls:
                urls.append(url)
        return urls, refused

    def estimate_units(self, request: CollectionRequest) -> int:
        if request.tier not in self.supported_tiers:
            return 0
        pages, _ = self.sources(request)
        return min(len(pages) * window_days(request) * POSTS_PER_DAY, record_cap(self, request))

    def health_check(self) -> HealthStatus:
        try:
            self.client.progress("s_health_check")
        except ArenaAuthError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        except ArenaError:
            return HealthStatus(ok=True, detail="token accepted (no such snapshot)")
        return HealthStatus(ok=True, detail="token accepted")

    # -- collection ---------------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier != "medium":
            raise ArenaError(
                f"{self.platform} has no {request.tier} tier here: medium is Bright Data; "
                "premium, Meta Content Library, needs an institutional application and is not "
                "implemented"
            )
        urls, refused = self.sources(request)
        tally = SourceTally(self.platform)
        for name in refused:
            yield tally.fail(f"{self.platform} {name!r}: {self.refusal}")
        remaining = record_cap(self, request)
        start, end = copenhagen_dates(request)
        seen: set[str] = set()
        for batch in iter_batches(urls, self.urls_per_trigger):
            if remaining <= 0:
                break
            tally.tried += 1
            dataset = self.dataset_for(batch[0])
            per_url = max(1, min(window_days(request) * POSTS_PER_DAY, remaining // len(batch)))
            inputs = [
                {"url": url, "num_of_posts": per_url, "start_date": start, "end_date": end}
                for url in batch
            ]
            key = f"{dataset} {' '.join(batch)} {start} {end}"
            label = batch[0] if len(batch) == 1 else f"{batch[0]} (+{len(batch) - 1})"
            try:
                entry, fresh = self.client.pending_or_trigger(
                    key, dataset, inputs, **self.trigger_params
                )
                if entry.get("status") == "downloaded":
                    continue  # this task already stored it
                if fresh:
                    # Saved on the task before any polling: a restart polls, not re-triggers.
                    yield Page(records=[])
                rows = self.client.wait_and_download(entry)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except (SourceFailed, SnapshotPending, ArenaError) as exc:
                yield tally.fail(f"{self.platform} {label}: {exc}")
                continue
            finally:
                self.units_spent = self.client.rows_billed
            mapper = functools.partial(self._map, request=request)
            page = map_page(rows, mapper, seen=seen, limit=remaining)
            remaining -= len(page.records)
            yield tally.ok(page)
        tally.finish()

    def _error_row(self, item: dict[str, Any]) -> None:
        if item.get("error_code") or (item.get("error") and not item.get("post_id")):
            target = (
                item.get("input", {}).get("url") if isinstance(item.get("input"), dict) else None
            )
            errors = self.rate_limit_state.setdefault("error_rows", [])
            if len(errors) < 50:
                errors.append(
                    {"url": str(target)[:300], "error_code": str(item.get("error_code"))[:50]}
                )
            raise Reject(
                f"Bright Data error row ({item.get('error_code') or 'error'}) for {target}"
            )

    def _map(self, item: Any, request: CollectionRequest) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("snapshot row is not an object")
        self._error_row(item)
        meta: dict[str, Any] = {
            key: item.get(key)
            for key in (
                "post_type", "reactions_breakdown", "parent_id", "group_id", "event_id",
                "parent_post_id", "actual_poster_name", "num_reactions", "page_url",
            )
            if item.get(key) is not None
        }  # fmt: skip
        published = plausible_date(item.get("date_posted"), meta)
        if published is not None and not in_window(published, request):
            raise Skip  # upstream date filters are loose (spec)
        post_id = _text(item.get("post_id"))
        comment_id = _text(item.get("comment_id"))
        url = _text(item.get("url")) or (f"{self.root}/{post_id}" if post_id else None)
        text = next(
            (
                _text(item.get(k))
                for k in ("content", "message", "description", "story")
                if _text(item.get(k))
            ),
            None,
        )
        likes = _int(item.get("num_likes"))
        if likes is None and isinstance(item.get("reactions_breakdown"), dict):
            likes = (
                sum(v for v in item["reactions_breakdown"].values() if isinstance(v, int)) or None
            )
        # The original read ``shares``; Bright Data's posts output is believed to say
        # ``num_shares`` (spec): both are read.
        shares = _int(item.get("num_shares"))
        if shares is None:
            shares = _int(item.get("shares"))
        display = _text(item.get("group_name")) or _text(item.get("page_name"))
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="comment" if comment_id else "post",
            platform_id=comment_id or post_id,
            published_at=published,
            url=url,
            title=_text(item.get("name")),
            text_content=text,
            language=None,  # Bright Data gives none
            author_platform_id=_text(item.get("user_url")),
            author_display_name=display,
            views_count=_int(item.get("video_view_count")),
            likes_count=likes,
            shares_count=shares,
            comments_count=_int(item.get("num_comments")),
            raw_metadata=meta,
            media_urls=_media(item),
            hash_source=text or url,
        )

    def close(self) -> None:
        self.client.close()


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _media(item: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value.startswith("http") and value not in found:
            found.append(value)
        elif isinstance(value, dict):
            add(value.get("url"))
        elif isinstance(value, list):
            for v in value:
                add(v)

    for key in ("post_image", "attachments", "image_url", "video_url", "full_picture", "images"):
        add(item.get(key))
    return found
