"""The credit ledger: balances, reservations, settlement and refunds, in Postgres.

Balance, over allocations valid on today's UTC date
(``valid_from <= today`` and ``valid_until`` null or ``>= today``)::

    available = allocated - reserved - settled + refunded

Rows written per (collection run, arena, platform) — at most one of each
``transaction_type`` (unique partial index from migration 003):

=====================  ==========================================  ===================
call                   rows                                        available changes
=====================  ==========================================  ===================
reserve(R)             reservation R                               -R
settle(actual=X)       settlement X, refund R (releases all of R)  +R - X  (net -X)
refund() (failure)     refund R                                    +R      (net 0)
refund(credits=N)      settlement R-N, refund R                    +N      (net -(R-N))
=====================  ==========================================  ===================

So a run that reserved R and settled at X leaves the user exactly X poorer than
before the reservation, and a failed run leaves them exactly as they were (the
original wrote ``refund = R - X`` next to ``settlement = X`` and charged X twice).
A key is *closed* once its refund row exists; settle and refund on a closed key
change nothing, which is what makes them idempotent. Settling above the
reservation charges the real cost (logged at WARNING); the balance check flags
any balance that goes negative that way.

Concurrency: every write takes a per-user ``pg_advisory_xact_lock``
(``credit_lock_user``, migration 004) inside the one transaction that reads the
balance or key state and inserts, so concurrent reservations cannot overdraw.
``reserve`` is a single autocommitted call of ``credit_reserve`` (lock, key
check, balance check, insert): the lock is never held across a client round
trip. The balance formula itself is ``credit_balance`` in the same migration.
Each call commits before it returns; database errors surface as
``CreditReservationError`` carrying ``collection_run_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from observatory_pipelines.credits.common import (
    Balance,
    CreditReservationError,
    InsufficientCredits,
    as_uuid,
    check_amount,
    check_key,
    db_error,
    load_sql,
)
from observatory_pipelines.credits.estimate import estimate_credits
from observatory_pipelines.credits.history import history_page
from observatory_pipelines.credits.settlement import settle_finished_run, unsettled_finished_runs
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

__all__ = [
    "Balance",
    "CreditLedger",
    "CreditReservationError",
    "InsufficientCredits",
    "lock_user",
]


def lock_user(conn: Connection, user_id: uuid.UUID) -> None:
    """Serialize credit writes of one user until the surrounding transaction ends.

    The same lock ``credit_reserve`` takes (both via migration 004's ``credit_lock_user``).
    """
    conn.execute(text("SELECT credit_lock_user(CAST(:user_id AS uuid))"), {"user_id": user_id})


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

    def reserve(
        self,
        user_id: Any,
        collection_run_id: Any,
        arena: str,
        platform: str,
        tier: str,
        credits: int,
    ) -> None:
        """Hold ``credits`` for one arena of a run, or raise ``InsufficientCredits``.

        Reserving the same key again with the same amount is a no-op.
        """
        run = check_key(collection_run_id, arena, platform)
        credits = check_amount("credits", credits, collection_run_id)
        try:
            user = as_uuid(user_id, "user_id")
        except ValueError as exc:
            raise CreditReservationError(str(exc), collection_run_id) from None
        params = {
            "user_id": user,
            "run_id": run,
            "arena": arena,
            "platform": platform,
            "tier": tier,
            "credits": credits,
            "today": self.today(),
            "description": f"reserved {credits} for {platform}",
        }
        try:
            # Autocommit: the statement is its own transaction, so the user's lock is released
            # by the server's commit, not after another client round trip.
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                row = conn.execute(text(load_sql("reserve")), params).one()
        except SQLAlchemyError as exc:
            raise db_error("reservation", collection_run_id, exc) from exc
        if row.outcome == "reserved":
            log.info(
                "credits.reserved",
                user_id=str(user),
                collection_run_id=str(run),
                platform=platform,
                credits=credits,
            )
            return
        if row.outcome == "exists":
            if row.existing_credits == credits and row.existing_user == user:
                return
            raise CreditReservationError(
                f"run {run} already holds a reservation of {row.existing_credits} "
                f"for {arena}/{platform}",
                collection_run_id,
            )
        if row.outcome == "closed":
            raise CreditReservationError(
                f"run {run} has already settled {arena}/{platform}; cannot reserve again",
                collection_run_id,
            )
        log.info(
            "credits.insufficient",
            user_id=str(user),
            collection_run_id=str(run),
            platform=platform,
            needed=credits,
            available=row.available,
        )
        raise InsufficientCredits(credits, int(row.available), collection_run_id)

    @staticmethod
    def _key_state(conn: Connection, run: uuid.UUID, arena: str, platform: str) -> dict:
        row = conn.execute(
            text(load_sql("key_state")), {"run_id": run, "arena": arena, "platform": platform}
        ).one()
        return dict(row._mapping)

    def _close(
        self,
        action: str,
        user_id: Any,
        collection_run_id: Any,
        arena: str,
        platform: str,
        tier: str,
        charge: Callable[[int], int | None],
    ) -> None:
        """Close a key under the user's lock: optional settlement row, then the releasing refund.

        ``charge(reserved)`` gives the settlement amount, or None for a pure refund.
        """
        run = check_key(collection_run_id, arena, platform)
        try:
            user = as_uuid(user_id, "user_id")
            with self._engine.begin() as conn:
                lock_user(conn, user)
                state = self._key_state(conn, run, arena, platform)
                if state["closed"]:
                    log.info(
                        f"credits.{action}.already_closed",
                        collection_run_id=str(run),
                        platform=platform,
                    )
                    return
                if state["reserved_by"] is not None and state["reserved_by"] != str(user):
                    raise CreditReservationError(
                        f"run {run} {arena}/{platform} was reserved by another user",
                        collection_run_id,
                    )
                reserved = state["reserved"] or 0
                settled = charge(reserved)
                rows = []
                if settled is not None:
                    rows.append(("settlement", settled, f"settled {settled} for {platform}"))
                rows.append(("refund", reserved, f"released reservation of {reserved}"))
                for kind, amount, description in rows:
                    conn.execute(
                        text(load_sql("insert_tx")),
                        {
                            "user_id": user,
                            "run_id": run,
                            "arena": arena,
                            "platform": platform,
                            "tier": tier,
                            "credits": amount,
                            "transaction_type": kind,
                            "description": description,
                        },
                    )
        except ValueError as exc:
            raise CreditReservationError(str(exc), collection_run_id) from None
        except SQLAlchemyError as exc:
            raise db_error(action, collection_run_id, exc) from exc
        if settled is not None and settled > reserved:
            log.warning(
                "credits.settled_above_reservation",
                collection_run_id=str(run),
                platform=platform,
                reserved=reserved,
                actual=settled,
            )
        log.info(
            f"credits.{action}",
            user_id=str(user),
            collection_run_id=str(run),
            platform=platform,
            reserved=reserved,
            charged=settled or 0,
        )

    def settle(
        self,
        user_id: Any,
        collection_run_id: Any,
        arena: str,
        platform: str,
        tier: str,
        actual: int,
    ) -> None:
        """Charge the real cost ``actual`` and release the reservation (surplus returns)."""
        actual = check_amount("actual", actual, collection_run_id)
        self._close(
            "settle", user_id, collection_run_id, arena, platform, tier, lambda _reserved: actual
        )

    def refund(
        self,
        user_id: Any,
        collection_run_id: Any,
        arena: str,
        platform: str,
        tier: str,
        credits: int | None = None,
    ) -> None:
        """Close the reservation returning ``credits`` of it (None: all of it, for failures).

        Returning N of a reservation R charges the remaining R - N as a settlement.
        """
        if credits is not None:
            credits = check_amount("credits", credits, collection_run_id)

        def charge(reserved: int) -> int | None:
            if credits is None or credits == reserved:
                return None
            if credits > reserved:
                raise CreditReservationError(
                    f"cannot refund {credits}: only {reserved} reserved for {arena}/{platform}",
                    collection_run_id,
                )
            return reserved - credits

        self._close("refund", user_id, collection_run_id, arena, platform, tier, charge)

    # -- reads and the settlement job (their own modules) -----------------------------------

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

    def unsettled_finished_runs(self, older_than: Any = None) -> list:
        return unsettled_finished_runs(self, older_than)

    def settle_finished_run(self, collection_run_id: Any):
        return settle_finished_run(self, collection_run_id)
