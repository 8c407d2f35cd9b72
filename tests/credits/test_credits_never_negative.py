"""8 processes reserving and settling above their reservations never drive a balance negative.

Real processes (not threads), each with its own engine and connections, against the test
database: the per-user advisory lock and the settlement cap are what keep the balance
>= 0, not anything shared in one interpreter.
"""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import func, select

from observatory_pipelines.credits.common import InsufficientCredits, LedgerKey
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.db.models import CreditTransaction

PROCESSES = 8
ATTEMPTS = 15
RESERVE = 5
ACTUAL = 40  # eight times the reservation: uncapped, this would overdraw at once
ALLOCATION = 1000


def _worker(url, user, run, n, barrier, results) -> None:
    from observatory_pipelines.db.engine import get_engine

    ledger = CreditLedger(get_engine(url))
    seen, charged, uncharged, refused = [], 0, 0, 0
    barrier.wait()
    for i in range(ATTEMPTS):
        key = LedgerKey(user, run, "social_media", f"p{n}-{i}", "medium")
        try:
            ledger.reserve(key, RESERVE)
        except InsufficientCredits:
            refused += 1
            seen.append(ledger.get_balance(user).available)
            continue
        seen.append(ledger.get_balance(user).available)
        settlement = ledger.settle(key, ACTUAL)
        charged += settlement.charged
        uncharged += settlement.uncharged
        seen.append(ledger.get_balance(user).available)
    results.put((n, min(seen), charged, uncharged, refused))


def test_eight_processes_never_overdraw(database_url, ledger, make_user, make_run):
    user = make_user(credits=ALLOCATION)
    run = make_run(user)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(database_url, user, run, n, barrier, results))
        for n in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    lowest = min(o[1] for o in outcomes)
    charged = sum(o[2] for o in outcomes)
    uncharged = sum(o[3] for o in outcomes)
    settled_keys = PROCESSES * ATTEMPTS - sum(o[4] for o in outcomes)

    assert lowest >= 0  # every balance any process saw after its own call
    balance = ledger.get_balance(user)
    assert balance.available >= 0
    assert balance.reserved == balance.refunded == settled_keys * RESERVE  # all released
    assert balance.available == ALLOCATION - charged
    assert charged + uncharged == settled_keys * ACTUAL  # every capped part is on record
    assert uncharged > 0  # the cap was really exercised
    with ledger.engine.connect() as conn:
        written = conn.execute(
            select(
                CreditTransaction.transaction_type, func.sum(CreditTransaction.credits_consumed)
            ).group_by(CreditTransaction.transaction_type)
        ).all()
    assert dict(written)["settlement"] == charged
    assert dict(written)["uncharged"] == uncharged
