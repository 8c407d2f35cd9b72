"""Many threads reserving against one small allocation never overdraw it."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from observatory_pipelines.credits.common import LedgerKey
from observatory_pipelines.credits.ledger import InsufficientCredits
from observatory_pipelines.db.models import CreditTransaction

THREADS = 8
ATTEMPTS_PER_THREAD = 25
COST = 7
ALLOCATION = 500  # room for 71 reservations of 7 out of 200 attempts


def test_concurrent_reservations_never_exceed_the_allocation(ledger, make_user, make_run):
    user = make_user(credits=ALLOCATION)
    run = make_run(user)
    start = threading.Barrier(THREADS)
    granted = [0] * THREADS
    refused = [0] * THREADS
    lowest_seen: list[int] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(ATTEMPTS_PER_THREAD):
                try:
                    ledger.reserve(
                        LedgerKey(user, run, "social_media", f"p{n}-{i}", "medium"), COST
                    )
                    granted[n] += 1
                except InsufficientCredits as exc:
                    assert exc.available < COST
                    refused[n] += 1
                if i % 5 == 0:
                    lowest_seen.append(ledger.get_balance(user).available)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with ledger.engine.connect() as conn:
        reserved_rows, reserved_sum = conn.execute(
            select(
                func.count(), func.coalesce(func.sum(CreditTransaction.credits_consumed), 0)
            ).where(CreditTransaction.transaction_type == "reservation")
        ).one()
    # Serialized per user, every attempt fails only once the balance is below COST.
    assert sum(granted) == reserved_rows == ALLOCATION // COST
    assert sum(refused) == THREADS * ATTEMPTS_PER_THREAD - ALLOCATION // COST
    assert reserved_sum <= ALLOCATION
    assert min(lowest_seen) >= 0
    assert ledger.get_balance(user).available == ALLOCATION - (ALLOCATION // COST) * COST


def test_concurrent_double_settlement_charges_once(ledger, make_user, make_run):
    user = make_user(credits=1000)
    run = make_run(user)
    ledger.reserve(LedgerKey(user, run, "social_media", "youtube", "medium"), 100)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def settle() -> None:
        try:
            start.wait()
            ledger.settle(LedgerKey(user, run, "social_media", "youtube", "medium"), 60)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=settle) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger.get_balance(user).available == 940
