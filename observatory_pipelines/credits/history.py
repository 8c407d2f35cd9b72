"""Transaction history: keyset pages over ``(created_at DESC, id DESC)`` with an opaque cursor.

The cursor is the position of the last row served (base64 of its created_at and
id). The next page is everything strictly after that position, so rows inserted
meanwhile (newer ``created_at``) never shift a page: no row is served twice and
no row that existed when paging began is skipped. Offset paging would do both.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from sqlalchemy import Engine, text

from observatory_pipelines.credits.common import HISTORY_MAX_PAGE, load_sql


class InvalidCursor(ValueError):
    """The cursor was not produced by ``get_transaction_history``."""


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("|")
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return created_at, uuid.UUID(row_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(f"invalid history cursor {cursor[:40]!r}") from None


def history_page(
    engine: Engine, user_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[dict], str | None]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    limit = min(limit, HISTORY_MAX_PAGE)
    # One row more than asked tells whether a next page exists without a count query.
    params: dict = {"user_id": user_id, "limit": limit + 1}
    if cursor:
        params["cursor_created_at"], params["cursor_id"] = decode_cursor(cursor)
        sql = load_sql("history_after")
    else:
        sql = load_sql("history_first")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql), params)]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(last["created_at"], last["id"])
