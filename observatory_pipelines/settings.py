"""Every environment variable the project reads, with its default, parsed in one place.

Values are read when asked for (not at import), so tests and CLIs can set the
environment first. Dagster resources read the same variables through ``EnvVar``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def project_root() -> Path:
    """The checkout when installed editable; otherwise the working directory."""
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "pyproject.toml").exists():
        return candidate
    return Path.cwd()


def data_dir() -> Path:
    """Local state (embedded Postgres, object-store folder, generated keys); git-ignored."""
    path = Path(env("OBSERVATORY_DATA_DIR") or project_root() / "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


DEPLOYMENTS = ("local", "production")


def deployment() -> str:
    """``OBSERVATORY_ENV``: ``local`` (default: make run, tests) or ``production`` (the image)."""
    value = (env("OBSERVATORY_ENV") or "local").strip().lower()
    if value not in DEPLOYMENTS:
        raise ValueError(f"OBSERVATORY_ENV must be one of {', '.join(DEPLOYMENTS)}, got {value!r}")
    return value


def database_url() -> str | None:
    """``DATABASE_URL``, else one built from ``POSTGRES_HOST`` and its parts, else None.

    The parts (``POSTGRES_HOST``, ``POSTGRES_PORT``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD``,
    ``POSTGRES_DB``) are percent-encoded here, so a password like ``p@ss/w:rd`` works:
    docker compose cannot encode a password it pastes into a URL. None means the embedded
    server, which only a local deployment may start.
    """
    raw = env("DATABASE_URL")
    if raw or not env("POSTGRES_HOST"):
        return raw
    return url_from_parts(
        host=env("POSTGRES_HOST"),
        port=env("POSTGRES_PORT", "5432"),
        user=env("POSTGRES_USER", "postgres"),
        password=env("POSTGRES_PASSWORD"),
        database=env("POSTGRES_DB") or env("POSTGRES_USER", "postgres"),
    )


def url_from_parts(
    *, host: str, port: str | int, user: str, password: str | None, database: str
) -> str:
    """A ``postgresql://`` URL whose every part is percent-encoded (no reserved character
    in a password, user or database name can move the host)."""

    def part(value: str) -> str:
        return quote(value, safe="")

    if not str(port).isdigit():
        raise ValueError(f"POSTGRES_PORT must be a port number, got {port!r}")
    userinfo = part(user) + (":" + part(password) if password else "")
    hostname = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"postgresql://{userinfo}@{hostname}:{int(port)}/{part(database)}"


def embedded_pg_port() -> int:
    return env_int("EMBEDDED_PG_PORT", 55432)


def embedded_pg_database() -> str:
    return env("EMBEDDED_PG_DATABASE", "observatory")


def partition_premake_months() -> int:
    return env_int("PARTITION_PREMAKE_MONTHS", 3)


def partition_retention_months() -> int | None:
    raw = env("PARTITION_RETENTION_MONTHS")
    return None if raw is None else env_int("PARTITION_RETENTION_MONTHS", 0)


def partition_retention_drop() -> bool:
    return env_bool("PARTITION_RETENTION_DROP", False)


def backup_retention_days() -> int:
    return env_int("BACKUP_RETENTION_DAYS", 30)


def backup_gzip_level() -> int:
    return env_int("BACKUP_GZIP_LEVEL", 6)


def minio_endpoint() -> str | None:
    return env("MINIO_ENDPOINT")


def minio_access_key() -> str:
    return _minio_credential("MINIO_ACCESS_KEY", "MINIO_ROOT_USER")


def minio_secret_key() -> str:
    return _minio_credential("MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD")


def _minio_credential(name: str, root_name: str) -> str:
    """The named credential, else MinIO's root one; MinIO's well-known default only locally
    (a production deployment that forgot its credential must not try ``minioadmin``)."""
    value = env(name) or env(root_name)
    if value:
        return value
    if deployment() == "production":
        raise RuntimeError(f"{name} (or {root_name}) is not set; production has no default")
    return "minioadmin"


def minio_secure() -> bool:
    return env_bool("MINIO_SECURE", False)


def minio_backup_bucket() -> str:
    return env("MINIO_BUCKET", "observatory-backups")


def minio_outputs_bucket() -> str:
    return env("MINIO_OUTPUTS_BUCKET", "observatory-outputs")


def object_store_dir() -> Path:
    return Path(env("OBJECT_STORE_DIR") or data_dir() / "object_store")


def file_import_dir() -> Path:
    """The one folder a design's ``file_import.path`` may read from (operator's choice)."""
    return Path(env("FILE_IMPORT_DIR") or data_dir() / "imports")


def designs_dir() -> Path:
    """The folder of query design files the ``design_files_sensor`` syncs (docs/designs.md)."""
    return Path(env("DESIGNS_DIR") or data_dir() / "designs")


def designs_prefix() -> str | None:
    """A key prefix in the outputs bucket whose ``.yaml`` objects are design files too (unset:
    only DESIGNS_DIR is synced)."""
    return env("DESIGNS_PREFIX") or None


def design_sync_interval_seconds() -> int:
    """How often the ``design_files_sensor`` reads ``DESIGNS_DIR`` (at least 5 s)."""
    return max(5, env_int("DESIGN_SYNC_INTERVAL_SECONDS", 30))


# --- arenas: shared HTTP client (issue 6) ---


def arena_http_max_retries() -> int:
    """Retries after the first attempt for 429, 5xx and network errors."""
    return env_int("ARENA_HTTP_MAX_RETRIES", 4)


def arena_http_backoff_base() -> float:
    """First backoff wait in seconds; doubles each retry (linear for GDELT)."""
    return float(env("ARENA_HTTP_BACKOFF_BASE", "1.0"))


def arena_http_max_wait() -> float:
    """Upper bound in seconds on any single wait (Retry-After or backoff)."""
    return float(env("ARENA_HTTP_MAX_WAIT", "300"))


def arena_rate_limit_scale() -> float:
    """Multiplier on each arena's per-host request spacing (0 disables spacing, e.g. tests)."""
    return float(env("ARENA_RATE_LIMIT_SCALE", "1.0"))


def arena_http_max_response_mb() -> int:
    """Responses larger than this are refused instead of read into memory."""
    return env_int("ARENA_HTTP_MAX_RESPONSE_MB", 64)


def rss_fetch_concurrency() -> int:
    """Hosts fetched at once (one request at a time on each). Waiting is all a fetch does
    (parsing runs in other processes): 2,000 feeds on 50 hosts need ~20 at 0.25 s a feed to
    finish as soon as their busiest host allows."""
    value = env_int("RSS_FETCH_CONCURRENCY", 32)
    if value < 1:
        raise ValueError(f"RSS_FETCH_CONCURRENCY must be at least 1, got {value}")
    return value


def rss_feed_timeout_seconds() -> float:
    """Seconds one feed request may take before it counts as a timeout."""
    return float(env("RSS_FEED_TIMEOUT_SECONDS", "30"))


def bluesky_api_url() -> str | None:
    return env("BLUESKY_API_URL")


def reddit_api_url() -> str | None:
    return env("REDDIT_API_URL")


def gdelt_api_url() -> str | None:
    return env("GDELT_API_URL")


def youtube_api_url() -> str | None:
    return env("YOUTUBE_API_URL")


def wikipedia_api_url() -> str | None:
    """MediaWiki Action API per language edition, a template holding ``{lang}``
    (unset: ``https://{lang}.wikipedia.org/w/api.php``)."""
    return env("WIKIPEDIA_API_URL")


def wikipedia_pageviews_url() -> str | None:
    """Wikimedia REST API root for page views (unset: ``https://wikimedia.org/api/rest_v1``)."""
    return env("WIKIPEDIA_PAGEVIEWS_URL")


def operator_contact() -> str | None:
    """How a platform reaches the operator (an e-mail address or a URL), sent in the
    User-Agent where the platform's policy asks for it (Wikimedia's User-Agent policy)."""
    return env("OPERATOR_CONTACT")


def google_autocomplete_api_url() -> str | None:
    """Google's suggest endpoint root (unset: ``https://suggestqueries.google.com``)."""
    return env("GOOGLE_AUTOCOMPLETE_API_URL")


def folketinget_api_url() -> str | None:
    """Root of Folketinget's ODA service (default ``https://oda.ft.dk/api``)."""
    return env("FOLKETINGET_API_URL")


def telegram_api_url() -> str | None:
    """Root of Telegram's public channel preview, ``/s/<channel>`` below it (default
    ``https://t.me``)."""
    return env("TELEGRAM_API_URL")


def telegram_mtproto_server() -> str | None:
    """``<ip>:<port>`` of the Telegram data centre the MTProto path connects to, overriding
    the address the pooled session carries (unset: the session's own DC; tests: a local DC)."""
    return env("TELEGRAM_MTPROTO_SERVER")


def telegram_flood_wait_max_seconds() -> int:
    """Longest FLOOD_WAIT the MTProto path waits out; a longer one stops the run cleanly."""
    return env_int("TELEGRAM_FLOOD_WAIT_MAX_SECONDS", 60)


def discord_api_url() -> str | None:
    """Root of Discord's REST API, version included (default ``https://discord.com/api/v10``)."""
    return env("DISCORD_API_URL")


def ritzau_via_api_url() -> str | None:
    """Root of Via Ritzau's JSON API (default ``https://via.ritzau.dk/json/v2``)."""
    return env("RITZAU_VIA_API_URL")


def x_twitter_api_url() -> str | None:
    """Root of TwitterAPI.io, the x_twitter medium tier (default ``https://api.twitterapi.io``)."""
    return env("X_TWITTER_API_URL")


def x_twitter_v2_api_url() -> str | None:
    """Root of the official X API v2, the x_twitter premium tier (default ``https://api.x.com``)."""
    return env("X_TWITTER_V2_API_URL")


def twitch_api_url() -> str | None:
    """Root of Twitch's Helix API (default ``https://api.twitch.tv/helix``)."""
    return env("TWITCH_API_URL")


def twitch_auth_url() -> str | None:
    """Root of Twitch's OAuth host, ``/oauth2/token`` below it (default ``https://id.twitch.tv``)."""
    return env("TWITCH_AUTH_URL")


def wayback_api_url() -> str | None:
    """Root of the Internet Archive's Wayback Machine: the CDX index below it at
    ``/cdx/search/cdx``, archived pages at ``/web/`` (default ``https://web.archive.org``)."""
    return env("WAYBACK_API_URL")


def url_scraper_allow_hosts() -> tuple[str, ...]:
    """Host names (comma-separated) the page fetchers (url_scraper, domain_crawler) may reach
    although they are not public: a test or replay server such as ``127.0.0.1``. Any port on
    them is allowed. Unset in production: only public names on ports 80/443 are fetched."""
    return _host_list("URL_SCRAPER_ALLOW_HOSTS")


def serper_api_url() -> str | None:
    """Root of Serper.dev's Google API, ``/search`` below it (default ``https://google.serper.dev``)."""
    return env("SERPER_API_URL")


def serpapi_api_url() -> str | None:
    """Root of SerpAPI, ``/search.json`` below it (default ``https://serpapi.com``)."""
    return env("SERPAPI_API_URL")


def openrouter_api_url() -> str | None:
    """Root of OpenRouter's API, ``/chat/completions`` and ``/key`` below it (ai_chat_search;
    default ``https://openrouter.ai/api/v1``)."""
    return env("OPENROUTER_API_URL")


AI_CHAT_SEARCH_DEFAULT_MODELS = ("openai/gpt-5-nano",)


def ai_chat_search_models() -> tuple[str, ...]:
    """OpenRouter model ids a design may choose for ai_chat_search (comma-separated; the
    first is the default). The operator's list: a design cannot pick a model that costs
    more than the per-call ceiling below was set for."""
    raw = env("AI_CHAT_SEARCH_MODELS") or ""
    models = tuple(m.strip() for m in raw.split(",") if m.strip())
    return models or AI_CHAT_SEARCH_DEFAULT_MODELS


def ai_chat_search_max_usd_per_call() -> float:
    """The most one ai_chat_search call (a chat completion with its web search) is expected
    to cost in US dollars (default 0.02): the estimate reserves this per call and a run
    stops before a call that could overrun its reservation."""
    raw = env("AI_CHAT_SEARCH_MAX_USD_PER_CALL")
    try:
        value = float(raw) if raw is not None else 0.02
    except ValueError as exc:
        raise ValueError(f"AI_CHAT_SEARCH_MAX_USD_PER_CALL must be a number, got {raw!r}") from exc
    if not value > 0:
        raise ValueError(f"AI_CHAT_SEARCH_MAX_USD_PER_CALL must be above 0, got {raw!r}")
    return value


def threads_api_url() -> str | None:
    """Root of the Threads API, ``/keyword_search`` and ``/{user-id}/threads`` below it
    (default ``https://graph.threads.net/v1.0``)."""
    return env("THREADS_API_URL")


def tiktok_api_url() -> str | None:
    """Root of TikTok's Research API, ``/v2/oauth/token/`` and ``/v2/research/...`` below it
    (default ``https://open.tiktokapis.com``)."""
    return env("TIKTOK_API_URL")


def bright_data_api_url() -> str | None:
    """Root of Bright Data's API, ``/datasets/v3/...`` below it (facebook, instagram; default
    ``https://api.brightdata.com``)."""
    return env("BRIGHT_DATA_API_URL")


def bright_data_poll_seconds() -> float:
    """Seconds between two polls of a Bright Data snapshot's progress (default 30)."""
    raw = env("BRIGHT_DATA_POLL_SECONDS")
    try:
        return max(0.0, float(raw)) if raw is not None else 30.0
    except ValueError:
        return 30.0


def majestic_api_url() -> str | None:
    """Root of the Majestic API, ``/api/json`` below it (default ``https://api.majestic.com``)."""
    return env("MAJESTIC_API_URL")


def event_registry_api_url() -> str | None:
    """Root of Event Registry / NewsAPI.ai, ``/api/v1/article/getArticles`` below it (default
    ``https://newsapi.ai``)."""
    return env("EVENT_REGISTRY_API_URL")


def common_crawl_api_url() -> str | None:
    """Root of Common Crawl's index server (``/collinfo.json``, ``/{crawl}-index``;
    default ``https://index.commoncrawl.org``)."""
    return env("COMMON_CRAWL_API_URL")


def common_crawl_data_url() -> str | None:
    """Root the WARC files are fetched from by byte range (default
    ``https://data.commoncrawl.org``)."""
    return env("COMMON_CRAWL_DATA_URL")


# Mastodon instances are sources a design may name (like RSS feed URLs), so there is no one
# API host: the template turns an instance's host name into the base URL the collector calls.
MASTODON_DEFAULT_INSTANCES = ("mastodon.social", "helvede.net", "mstdn.dk", "expressional.social")


def mastodon_instance_url_template() -> str:
    """Base URL of an instance, ``{host}`` standing for its name (tests: the replay server)."""
    template = env("MASTODON_INSTANCE_URL_TEMPLATE", "https://{host}") or "https://{host}"
    if "{host}" not in template:
        raise ValueError(f"MASTODON_INSTANCE_URL_TEMPLATE must contain {{host}}, got {template!r}")
    return template


def _host_list(name: str) -> tuple[str, ...]:
    raw = env(name) or ""
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def mastodon_default_instances() -> tuple[str, ...]:
    """Instances a design that names none collects from (comma-separated host names)."""
    return _host_list("MASTODON_DEFAULT_INSTANCES") or MASTODON_DEFAULT_INSTANCES


def mastodon_allowed_instances() -> tuple[str, ...]:
    """When set, the only instances (and actors' home hosts) the collector may call."""
    return _host_list("MASTODON_ALLOWED_INSTANCES")


def backup_schedule() -> str:
    """Cron (UTC) of the nightly_backup job."""
    return env("BACKUP_SCHEDULE", "0 2 * * *")


def backup_drill_schedule() -> str:
    """Cron (UTC) of the weekly restore_drill job."""
    return env("BACKUP_DRILL_SCHEDULE", "0 4 * * 0")


def backup_max_age_hours() -> int:
    """The latest_backup check fails when the newest backup is older than this."""
    return env_int("BACKUP_MAX_AGE_HOURS", 26)


def pg_bin_dir(major: int) -> Path | None:
    """``PG_BIN_DIR_<major>``: the operator's pg_dump/psql for servers of that major version."""
    raw = env(f"PG_BIN_DIR_{int(major)}")
    return Path(raw) if raw else None


# Where distributions put each major's client binaries (Debian/Ubuntu, PGDG RPMs, Homebrew).
DEFAULT_PG_BIN_SEARCH_PATH = (
    "/usr/lib/postgresql/{major}/bin:/usr/pgsql-{major}/bin:"
    "/opt/homebrew/opt/postgresql@{major}/bin:/usr/local/opt/postgresql@{major}/bin"
)


def pg_bin_search_path() -> list[str]:
    """``PG_BIN_SEARCH_PATH``: ``:``-separated folders with ``{major}``, searched when no
    ``PG_BIN_DIR_<major>`` is set; ``none`` turns the search off."""
    raw = env("PG_BIN_SEARCH_PATH", DEFAULT_PG_BIN_SEARCH_PATH)
    if raw.strip().lower() == "none":
        return []
    return [part for part in raw.split(":") if part.strip()]


def pseudonymization_key() -> str | None:
    """HMAC key for author pseudonyms; unset = a key generated once under data_dir()/secrets."""
    return env("PSEUDONYMIZATION_KEY")


def credentials_encryption_key() -> str | None:
    """Fernet key for api_credentials; unset = a key generated once under data_dir()/secrets."""
    return env("CREDENTIALS_ENCRYPTION_KEY")


def ingest_batch_size() -> int:
    """Records per COPY/INSERT batch of the collection ingest."""
    return env_int("INGEST_BATCH_SIZE", 5000)


def collection_sensor_interval_seconds() -> int:
    """How often the new-query-design sensor looks for designs (at most 60 s)."""
    return min(env_int("COLLECTION_SENSOR_INTERVAL_SECONDS", 30), 60)


def partition_oldest_month() -> str:
    """Oldest month (YYYY-MM) partition maintenance creates; older rows stay in the default."""
    return env("PARTITION_OLDEST_MONTH", "2000-01")


def minio_region() -> str | None:
    """Unset: the client asks the server for each bucket's region (MinIO answers us-east-1)."""
    return env("MINIO_REGION")


def analysis_work_mem() -> str:
    """Postgres work_mem for one analysis transaction (sorts/hashes of the SQL models)."""
    return env("ANALYSIS_WORK_MEM", "64MB")


def analysis_temp_buffers() -> str:
    """Postgres temp_buffers for an analysis session: the stg_content temp table stays in memory."""
    return env("ANALYSIS_TEMP_BUFFERS", "256MB")


def collection_stale_run_hours() -> float:
    """Hours without activity after which a running collection run whose Dagster run is
    unknown to the instance is declared dead (failed, credits refunded) by the settlement job."""
    raw = env("COLLECTION_STALE_RUN_HOURS")
    if raw is None:
        return 6.0
    try:
        hours = float(raw)
    except ValueError as exc:
        raise ValueError(f"COLLECTION_STALE_RUN_HOURS must be a number, got {raw!r}") from exc
    if hours <= 0:
        raise ValueError(f"COLLECTION_STALE_RUN_HOURS must be positive, got {raw!r}")
    return hours


# --- the offline demo (make run; issue 16) ---


def demo_dir() -> Path:
    """Where setup_local writes the offline demo's recorded feeds and the replay's pid/log."""
    return Path(env("DEMO_DIR") or data_dir() / "demo")


def demo_replay_host() -> str:
    """Interface the demo's feed replay listens on (loopback: it is for this machine only)."""
    return env("DEMO_REPLAY_HOST", "127.0.0.1")


def demo_replay_port() -> int:
    """Port of the demo's feed replay; the offline demo design's feed URLs are built from it."""
    return env_int("DEMO_REPLAY_PORT", 8791)


# --- research analyses (issue 19) ---


def spike_alert_webhook_url() -> str | None:
    """``SPIKE_ALERT_WEBHOOK_URL``: where ``volume_spike_sensor`` POSTs a new volume spike
    (JSON); unset, spikes are only logged. The operator's endpoint, never one from a design;
    it may carry a token, so it is never logged."""
    return env("SPIKE_ALERT_WEBHOOK_URL")
