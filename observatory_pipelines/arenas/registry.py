"""Which collector serves which platform key; the credit estimate and collection look here.

Built-in arenas register themselves on import; ``_load_builtin`` imports them the
first time the registry is asked, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from observatory_pipelines.arenas.base import Collector

BUILTIN_MODULES = (
    "observatory_pipelines.arenas.rss_feeds",
    "observatory_pipelines.arenas.bluesky",
    "observatory_pipelines.arenas.reddit",
    "observatory_pipelines.arenas.gdelt",
    "observatory_pipelines.arenas.youtube",
    "observatory_pipelines.arenas.file_import",
    "observatory_pipelines.arenas.wikipedia",
    "observatory_pipelines.arenas.google_autocomplete",
    "observatory_pipelines.arenas.mastodon",
    "observatory_pipelines.arenas.folketinget",
    "observatory_pipelines.arenas.telegram",
    "observatory_pipelines.arenas.discord",
    "observatory_pipelines.arenas.ritzau_via",
    "observatory_pipelines.arenas.twitch",
    "observatory_pipelines.arenas.wayback",
    "observatory_pipelines.arenas.common_crawl",
    "observatory_pipelines.arenas.x_twitter",
    "observatory_pipelines.arenas.google_search",
    "observatory_pipelines.arenas.event_registry",
    "observatory_pipelines.arenas.url_scraper",
    "observatory_pipelines.arenas.domain_crawler",
    "observatory_pipelines.arenas.facebook",
    "observatory_pipelines.arenas.instagram",
    "observatory_pipelines.arenas.threads",
    "observatory_pipelines.arenas.majestic",
    "observatory_pipelines.arenas.tiktok",
    "observatory_pipelines.arenas.ai_chat_search",
)

_collectors: dict[str, type[Collector]] = {}
_lock = threading.Lock()
_loaded = False


def register(cls: type[Collector]) -> type[Collector]:
    """Class decorator: make ``cls`` the collector for ``cls.platform``."""
    if not cls.platform:
        raise ValueError(f"{cls.__name__} has no platform key")
    _collectors[cls.platform] = cls
    return cls


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            _loaded = True


def get_collector_class(platform: str) -> type[Collector]:
    """The collector class for a platform key; KeyError when none is registered."""
    _load_builtin()
    try:
        return _collectors[platform]
    except KeyError:
        raise KeyError(f"no collector registered for platform {platform!r}") from None


def available_platforms() -> list[str]:
    _load_builtin()
    return sorted(_collectors)


def build_collector(
    platform: str,
    *,
    credentials: dict[str, Any] | None = None,
    rate_limit_state: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Collector:
    """The platform's collector; a design's ``options`` are checked first (ArenaOptionError)."""
    cls = get_collector_class(platform)
    if options is not None:
        cls.check_options(options)
    return cls(credentials=credentials, rate_limit_state=rate_limit_state)
