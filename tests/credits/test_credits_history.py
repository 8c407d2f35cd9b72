"""Keyset-paginated transaction history: every row once, even while rows are being added."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.history import InvalidCursor, decode_cursor, encode_cursor
from observatory_pipelines.db.models import CreditTransaction


def add_rows(engine, user, count: int, label: str) -> list:
    # One statement, one transaction: every row shares created_at, so ties are broken by id.
    with engine.begin() as conn:
        result = conn.execute(
            insert(CreditTransaction).returning(CreditTransaction.id),
            [
                {
                    "user_id": user,
                    "credits_consumed": i,
                    "transaction_type": "reservation",
                    "description": f"{label}-{i}",
                }
                for i in range(count)
            ],
        )
        return [r[0] for r in result]


def test_paging_serves_every_row_once_while_rows_arrive(ledger, make_user):
    user = make_user()
    other = make_user()
    existing = add_rows(ledger.engine, user, 60, "old-a") + add_rows(
        ledger.engine, user, 47, "old-b"
    )
    add_rows(ledger.engine, other, 10, "someone-else")
    served: list = []
    cursor = None
    pages = 0
    while True:
        page, cursor = ledger.get_transaction_history(user, cursor=cursor, limit=10)
        served.extend(row["id"] for row in page)
        pages += 1
        add_rows(ledger.engine, user, 3, f"new-{pages}")  # arrives between page requests
        if cursor is None:
            break
    assert len(served) == len(set(served))
    assert set(existing) <= set(served)
    assert pages == 11  # 107 existing rows in pages of 10; new rows sort before the cursor
    assert not set(served) - set(existing)


def test_rows_are_newest_first_and_complete(ledger, make_user, make_run):
    user = make_user(credits=100)
    run = make_run(user)
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 10)
    ledger.settle(LedgerKey(user, run, "social_media", "youtube", "medium"), 4)
    page, cursor = ledger.get_transaction_history(user)
    assert cursor is None
    assert [r["transaction_type"] for r in page][-1] == "reservation"
    assert {r["transaction_type"] for r in page} == {"reservation", "settlement", "refund"}
    assert set(page[0]) == {
        "id",
        "collection_run_id",
        "arena",
        "platform",
        "tier",
        "credits_consumed",
        "transaction_type",
        "created_at",
        "description",
    }
    keys = [(r["created_at"], r["id"]) for r in page]
    assert keys == sorted(keys, reverse=True)


def test_page_size_is_capped_at_200(ledger, make_user):
    user = make_user()
    add_rows(ledger.engine, user, 230, "bulk")
    page, cursor = ledger.get_transaction_history(user, limit=10_000)
    assert len(page) == 200
    rest, end = ledger.get_transaction_history(user, cursor=cursor, limit=10_000)
    assert len(rest) == 30 and end is None


def test_bad_cursor_and_limit_are_refused(ledger, make_user):
    user = make_user()
    with pytest.raises(InvalidCursor, match="invalid history cursor"):
        ledger.get_transaction_history(user, cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        ledger.get_transaction_history(user, limit=0)


def test_cursor_round_trips():
    from datetime import UTC, datetime
    from uuid import uuid4

    at, row_id = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), uuid4()
    assert decode_cursor(encode_cursor(at, row_id)) == (at, row_id)
