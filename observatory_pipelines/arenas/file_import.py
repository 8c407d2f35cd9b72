"""File import: CSV, NDJSON and Zeeschuimer NDJSON for platforms we cannot call.

Sources (``arenas_config["file_import"]``): ``path`` (a file or a folder of
``.csv``/``.ndjson``/``.jsonl`` files, relative to the operator's ``FILE_IMPORT_DIR``
and never outside it) and/or ``files`` (an iterable of ``(name, binary file)`` pairs,
opened by collection from the design's object-store ``prefix``). Files are read
line by line and yielded in pages of ``batch_size`` rows, so memory stays flat.
Each line is decoded as UTF-8, falling back to cp1252; NUL bytes are stripped.
A row without a platform or an id (and no URL to derive one) is rejected and
counted; a file that cannot be opened is reported and skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaOption,
    ArenaOptionError,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
)
from observatory_pipelines.arenas.file_import_fields import (
    ZEESCHUIMER_PLATFORMS,
    field,
    fingerprint,
)
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import Reject, Skip, SourceTally, map_page, record_cap
from observatory_pipelines.arenas.text import (
    clean_str,
    declared_language,
    plausible_date,
    sha256_hex,
    split_author,
)

SUFFIXES = (".csv", ".ndjson", ".jsonl")
BATCH_SIZE = 1_000
csv.field_size_limit(32 * 1024 * 1024)  # 10 MB fields are repaired (truncated), not fatal


def _decoded(binary: IO[bytes]) -> Iterator[str]:
    for raw in binary:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("cp1252", errors="replace")
        yield line.replace("\x00", "").lstrip("\ufeff")


def _rows(name: str, binary: IO[bytes]) -> Iterator[Any]:
    """Dict rows of one file; an unparseable line becomes a ``Reject`` to be counted."""
    lines = _decoded(binary)
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(lines)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Reject(f"{name} line {reader.line_num}: {exc}")
                continue
            yield row
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            yield Reject(f"{name} line {number}: invalid JSON ({exc.msg})")


def import_path(given: Any) -> Path:
    """``given`` resolved under the operator's import folder; anything outside is refused.

    A design is written by a researcher; the files the server can read are the
    operator's, so a design names a path inside ``FILE_IMPORT_DIR`` only (relative, or
    absolute but inside it; ``..`` and symlinks that leave it are refused).
    """
    base = settings.file_import_dir().resolve()
    if not isinstance(given, str) or not given.strip():
        raise ArenaOptionError(f"arenas.file_import.path must be a non-empty path, got {given!r}")
    resolved = (base / given).resolve()
    if resolved != base and base not in resolved.parents:
        raise ArenaOptionError(
            f"arenas.file_import.path {given!r} is outside the import folder "
            "(FILE_IMPORT_DIR); a design may only read files the operator put there"
        )
    return resolved


def check_prefix(prefix: Any) -> None:
    if not isinstance(prefix, str) or prefix.startswith("/") or ".." in prefix.split("/"):
        raise ArenaOptionError(
            f"arenas.file_import.prefix must be a key prefix inside the outputs bucket "
            f"like 'imports/name/' (no leading '/', no '..'), got {prefix!r}"
        )


def _sources(options: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, opener) pairs; the opener returns a binary file or raises OSError."""
    if options.get("path"):
        root = import_path(options["path"])
        if root.is_dir():
            for path in sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES):
                yield path.name, path.open
        else:
            yield root.name, root.open
    for name, handle in options.get("files") or []:
        yield str(name), (lambda _mode, h=handle: h)


@register
class FileImportCollector(Collector):
    platform = "file_import"
    arena = "import"
    supported_tiers = ("free", "medium", "premium")
    needs_credentials = False
    max_records_per_run = 10_000_000
    # ``files`` is not written by designs: collection opens it from ``prefix``.
    option_specs = (
        ArenaOption(
            "path", "string", None, "a file or folder inside the operator's FILE_IMPORT_DIR"
        ),
        ArenaOption(
            "prefix", "string", None, "a key prefix in the outputs bucket, e.g. imports/x/"
        ),
        ArenaOption("files", "(set by collection)", None, "opened by collection from prefix"),
        ArenaOption("batch_size", "int", BATCH_SIZE, "rows per page"),
        ArenaOption("platform", "string", None, "platform of rows that name none"),
        ArenaOption(
            "zeeschuimer_platform", "string", None, "platform of Zeeschuimer rows that name none"
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        if options.get("path"):
            import_path(options["path"])
        if "prefix" in options:
            check_prefix(options["prefix"])
        if isinstance(options.get("files"), list | tuple | str | dict):
            raise ArenaOptionError(
                "arenas.file_import.files is opened by collection from 'prefix'; "
                "a design names a prefix or a path instead"
            )

    def estimate_units(self, request: CollectionRequest) -> int:
        return 0

    def health_check(self) -> HealthStatus:
        return HealthStatus(ok=True, detail="reads local files; nothing to call")

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        options = request.options or {}
        batch = int(options.get("batch_size", BATCH_SIZE))
        remaining = record_cap(self, request)
        tally = SourceTally(self.platform)
        for name, opener in _sources(options):
            if remaining <= 0:
                break
            tally.tried += 1
            try:
                binary = opener("rb")
            except OSError as exc:
                yield tally.fail(f"file {name}: cannot open ({type(exc).__name__}: {exc.strerror})")
                continue
            with binary:
                for chunk in _batched(_rows(name, binary), batch):
                    page = map_page(
                        chunk,
                        lambda r, n=name: self._map(r, n, options),
                        seen=None,  # no id set: files can hold millions of rows; ingest dedups
                        limit=remaining,
                    )
                    remaining -= len(page.records)
                    yield tally.ok(page)
                    if remaining <= 0:
                        break
        tally.finish()

    def _map(self, row: Any, name: str, options: dict[str, Any]) -> NormalizedRecord:
        if isinstance(row, Reject):
            raise row
        if not isinstance(row, dict):
            raise Reject(f"{name}: row is not an object")
        meta: dict[str, Any] = {"source_file": name}
        arena = "import"
        data = row
        if isinstance(row.get("data"), dict) and ("source_platform" in row or "nav_index" in row):
            envelope = {k: v for k, v in row.items() if k != "data"}
            meta["zeeschuimer"] = envelope
            data = row["data"]
            arena = "social_media"
            source = row.get("source_platform") or options.get("zeeschuimer_platform")
            platform = ZEESCHUIMER_PLATFORMS.get(str(source), str(source) if source else None)
            if data.get("ad_id") or data.get("is_ad"):
                raise Skip  # Instagram ads are not debate
        else:
            platform = row.get("platform") or fingerprint(row) or options.get("platform")
        if not platform:
            raise Reject(f"{name}: row without platform")
        url = (
            field(data, "url") or row.get("source_url")
            if arena == "social_media"
            else field(data, "url")
        )
        platform_id = field(data, "platform_id")
        if platform_id is None and url:
            platform_id = sha256_hex(str(url))  # spec: ids derive from the URL when absent
        published = plausible_date(field(data, "published_at"), meta)
        # A file says nothing of markup: its text is stored as written (no stripping).
        raw_text = field(data, "text")
        text = clean_str(raw_text)
        media = field(data, "media_urls") if "media_urls" in data else None
        if isinstance(media, str):
            media = [m.strip() for m in media.split(",")]
        meta["data" if arena == "social_media" else "row"] = data
        display, identity = split_author(_str(field(data, "author_name")))
        return NormalizedRecord(
            platform=str(platform).strip().lower(),
            arena=arena,
            content_type=str(field(data, "content_type") or "post"),
            platform_id=str(platform_id) if platform_id is not None else None,
            published_at=published,
            url=url,
            title=clean_str(field(data, "title")),
            text_content=text,
            language=declared_language(field(data, "language"), meta),
            author_platform_id=_str(field(data, "author_id")),
            author_display_name=display,
            author_identity=identity,
            views_count=field(data, "views"),
            likes_count=field(data, "likes"),
            shares_count=field(data, "shares"),
            comments_count=field(data, "comments"),
            raw_metadata=meta,
            media_urls=list(media or []),
            hash_source=text,
        )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
