"""The credit ledger: balances, reservations, settlement and releases, in Postgres.

Balance, over allocations valid on today's UTC date
(``valid_from <= today`` and ``valid_until`` null or ``>= today``)::

    available = allocated - reserved - settled + refunded

Rows written per ``LedgerKey`` (collection run, arena, platform) — at most one of each
``transaction_type`` (unique partial index from migration 003):

=====================  ===========================================  ===================
call                   rows                                         available changes
=====================  ===========================================  ===================
reserve(R)             reservation R                                -R
settle(actual=X)       settlement C, refund R (releases all of R),  +R - C  (net -C)
                       uncharged X-C when C < X
release()              refund R                                     +R      (net 0)
=====================  ===========================================  ===================

``C = min(X, R + available)``: a settlement charges the real cost, but never more than
the reservation plus what the user still has, so **no call ever makes available negative**.
The part of the real cost that could not be charged is recorded as an ``uncharged`` row
(outside the balance) and logged at WARNING. The rules, and every error, are in
``docs/credits.md``.

A key is *closed* once its refund row exists. Settling a closed key again with the same
actual cost, and releasing a closed key, change nothing (that is what makes retries safe);
settling it with a different cost, or settling a released key, raises
``SettlementConflict``. Settling or releasing a key that was never reserved raises
``UnknownReservation``; nothing is written by a call that raises.

Concurrency: every write takes a per-user ``pg_advisory_xact_lock``
(``credit_lock_user``, migration 004) inside the one transaction that reads the
balance or key state and inserts, so concurrent calls cannot overdraw.
``reserve`` is a single autocommitted call of ``credit_reserve`` (lock, key
check, balance check, insert): the lock is never held across a client round
trip. The balance formula itself is ``credit_balance`` in the same migration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from observatory_pipelines.credits.common import (
    Balance,
    InsufficientCredits,
    LedgerError,
    LedgerKey,
    ReservationConflict,
    Settlement,
    SettlementConflict,
    UnknownReservation,
    UnknownUser,
    as_uuid,
    check_amount,
    db_error,
    load_sql,
)
from observatory_pipelines.credits.estimate import estimate_credits
from observatory_pipelines.credits.history import history_page
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

FINISHED_RUN_STATUSES = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class UnsettledRun:
    collection_run_id: uuid.UUID
    status: str
    initiated_by: uuid.UUID
    finished_at: datetime | None
    open_reservations: int
    open_credits: int


def lock_user(conn: Connection, user_id: uuid.UUID) -> None:
    """Serialize credit writes of one user until the surrounding transaction ends.

    The same lock ``credit_reserve`` takes (both via migration 004's ``credit_lock_user``).
    """
    conn.execute(text("SELECT credit_lock_user(CAST(:user_id AS uuid))"), {"user_id": user_id})


def _insert(conn: Connection, key: LedgerKey, kind: str, amount: int, description: str) -> None:
    conn.execute(
        text(load_sql("insert_tx")),
        {
            "user_id": key.user_id,
            "run_id": key.collection_run_id,
            "arena": key.arena,
            "platform": key.platform,
            "tier": key.tier,
            "credits": amount,
            "transaction_type": kind,
            "description": description,
        },
    )


class CreditLedger:
    """Synchronous ledger service over an engine; every write commits before returning."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None):
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def engine(self) -> Engine:
        return self._engine

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger clock must return a timezone-aware datetime")
        return now.astimezone(UTC)

    def today(self) -> date:
        """Today's date in UTC (allocation validity is judged in UTC, not local time)."""
        return self.now().date()

    # -- balance ---------------------------------------------------------------------------

    def _balance(self, conn: Connection, user_id: uuid.UUID) -> Balance:
        row = conn.execute(
            text(load_sql("balance")), {"user_id": user_id, "today": self.today()}
        ).one()
        return Balance(*(int(v) for v in row))

    def get_balance(self, user_id: Any) -> Balance:
        user = as_uuid(user_id, "user_id")
        with self._engine.connect() as conn:
            return self._balance(conn, user)

    # -- writes ----------------------------------------------------------------------------

    def reserve(self, key: LedgerKey, credits: int) -> None:
        """Hold ``credits`` for one arena of a run, or raise (``InsufficientCredits``,
        ``UnknownUser``, ``ReservationConflict``). Reserving a key again with the same
        amount is a no-op."""
        run = key.collection_run_id
        credits = check_amount("credits", credits, run)
        params = {
            "user_id": key.user_id,
            "run_id": run,
            "arena": key.arena,
            "platform": key.platform,
            "tier": key.tier,
            "credits": credits,
            "today": self.today(),
            "description": f"reserved {credits} for {key.platform}",
        }
        try:
            # Autocommit: the statement is its own transaction, so the user's lock is released
            # by the server's commit, not after another client round trip.
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                row = conn.execute(text(load_sql("reserve")), params).one_or_none()
        except SQLAlchemyError as exc:
            raise db_error("reservation", run, exc) from exc
        if row is None:
            raise UnknownUser(key)
        if row.outcome == "reserved":
            log.info(
                "credits.reserved",
                user_id=str(key.user_id),
                collection_run_id=str(run),
                platform=key.platform,
                credits=credits,
            )
            return
        if row.outcome == "exists":
            if row.existing_credits == credits and row.existing_user == key.user_id:
                return
            raise ReservationConflict(
                f"run {run} already holds a reservation of {row.existing_credits} "
                f"for {key.arena}/{key.platform}",
                run,
            )
        if row.outcome == "closed":
            raise ReservationConflict(
                f"run {run} has already settled {key.arena}/{key.platform}; cannot reserve again",
                run,
            )
        log.info(
            "credits.insufficient",
            user_id=str(key.user_id),
            collection_run_id=str(run),
            platform=key.platform,
            needed=credits,
            available=row.available,
        )
        raise InsufficientCredits(credits, int(row.available), run)

    def _open_state(self, conn: Connection, key: LedgerKey, action: str) -> dict:
        """The key's state under the user's lock; refuses a key never reserved or not theirs."""
        lock_user(conn, key.user_id)
        state = dict(
            conn.execute(
                text(load_sql("key_state")),
                {"run_id": key.collection_run_id, "arena": key.arena, "platform": key.platform},
            )
            .one()
            ._mapping
        )
        if state["reserved"] is None:
            raise UnknownReservation(key, action)
        if as_uuid(state["reserved_by"], "reserved_by") != key.user_id:
            raise ReservationConflict(
                f"cannot {action} {key}: it was reserved by user {state['reserved_by']}",
                key.collection_run_id,
            )
        return state

    def settle(self, key: LedgerKey, actual: int) -> Settlement:
        """Charge the real cost ``actual`` (capped so available stays >= 0) and release the
        whole reservation. Returns what was charged; see the module docstring for the rules."""
        run = key.collection_run_id
        actual = check_amount("actual", actual, run)
        try:
            with self._engine.begin() as conn:
                state = self._open_state(conn, key, "settle")
                reserved = int(state["reserved"])
                if state["closed"]:
                    return self._settled_before(key, state, actual)
                available = self._balance(conn, key.user_id).available
                # Releasing R gives back R; charging more than R + available would overdraw.
                charged = min(actual, max(available + reserved, 0))
                _insert(conn, key, "settlement", charged, f"settled {charged} for {key.platform}")
                _insert(conn, key, "refund", reserved, f"released reservation of {reserved}")
                if charged < actual:
                    _insert(
                        conn,
                        key,
                        "uncharged",
                        actual - charged,
                        f"real cost {actual} exceeded reservation {reserved} + available "
                        f"{available}; {actual - charged} not charged",
                    )
        except LedgerError:
            raise
        except SQLAlchemyError as exc:
            raise db_error("settlement", run, exc) from exc
        if charged < actual:
            log.warning(
                "credits.settlement_capped",
                collection_run_id=str(run),
                platform=key.platform,
                reserved=reserved,
                actual=actual,
                charged=charged,
            )
        log.info(
            "credits.settle",
            user_id=str(key.user_id),
            collection_run_id=str(run),
            platform=key.platform,
            reserved=reserved,
            charged=charged,
        )
        return Settlement(actual=actual, charged=charged, reserved=reserved)

    @staticmethod
    def _settled_before(key: LedgerKey, state: dict, actual: int) -> Settlement:
        reserved = int(state["reserved"])
        if state["settled"] is None:
            raise SettlementConflict(
                f"cannot settle {key} at {actual}: its reservation of {reserved} was released "
                "without a charge",
                key.collection_run_id,
            )
        charged = int(state["settled"])
        before = charged + int(state["uncharged"] or 0)
        if before != actual:
            raise SettlementConflict(
                f"cannot settle {key} at {actual}: already settled at {before}",
                key.collection_run_id,
            )
        log.info("credits.settle.already_closed", collection_run_id=str(key.collection_run_id))
        return Settlement(actual=actual, charged=charged, reserved=reserved)

    def release(self, key: LedgerKey) -> int:
        """Give the whole reservation back, charging nothing (a failed or refused arena).

        Returns the credits released; 0 when the key was already closed (settled or released),
        which changes nothing. A partial charge is a ``settle`` of the part used.
        """
        run = key.collection_run_id
        try:
            with self._engine.begin() as conn:
                state = self._open_state(conn, key, "release")
                if state["closed"]:
                    log.info("credits.release.already_closed", collection_run_id=str(run))
                    return 0
                reserved = int(state["reserved"])
                _insert(conn, key, "refund", reserved, f"released reservation of {reserved}")
        except LedgerError:
            raise
        except SQLAlchemyError as exc:
            raise db_error("release", run, exc) from exc
        log.info(
            "credits.released",
            user_id=str(key.user_id),
            collection_run_id=str(run),
            platform=key.platform,
            released=reserved,
        )
        return reserved

    # -- reads -----------------------------------------------------------------------------

    def open_reservations(self, collection_run_id: Any) -> list[LedgerKey]:
        """The keys of one run's reservations that no settle or release has closed yet."""
        run = as_uuid(collection_run_id, "collection_run_id")
        with self._engine.connect() as conn:
            rows = conn.execute(text(load_sql("open_reservations")), {"run_id": run}).all()
        return [LedgerKey(r.user_id, run, r.arena, r.platform, r.tier) for r in rows]

    def unsettled_finished_runs(self, older_than: timedelta | None = None) -> list:
        """Finished runs with open reservations; ``older_than`` keeps only runs finished
        longer ago (the balance check flags those)."""
        cutoff = None
        if older_than is not None:
            if not isinstance(older_than, timedelta):
                raise ValueError(f"older_than must be a timedelta, got {older_than!r}")
            cutoff = self.now() - older_than
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(load_sql("unsettled_runs")),
                {"statuses": list(FINISHED_RUN_STATUSES), "cutoff": cutoff},
            )
            return [UnsettledRun(**r._mapping) for r in rows]

    def orphan_rows(self) -> list[tuple[uuid.UUID, str, str]]:
        """Keys settled or released without a reservation (written outside this API)."""
        with self._engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(load_sql("orphan_rows")))]

    def estimate(
        self,
        arenas_config: Any,
        date_from: Any,
        date_to: Any,
        terms: list[str] | None = None,
        tier: str | None = None,
    ) -> dict[str, int]:
        """Estimated credits per arena key; ``sum(...)`` for the total (see ``estimate.py``)."""
        return estimate_credits(self._engine, arenas_config, date_from, date_to, terms, tier)

    def get_transaction_history(
        self, user_id: Any, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[dict], str | None]:
        """One page, newest first, and the cursor of the next page (None at the end)."""
        return history_page(self._engine, as_uuid(user_id, "user_id"), cursor, limit)

    def all_balances(self) -> list[dict]:
        """Every user's balance, most at risk first (for the ``credit_balances`` asset)."""
        with self._engine.connect() as conn:
            rows = conn.execute(text(load_sql("all_balances")), {"today": self.today()})
            return [dict(r._mapping) for r in rows]
