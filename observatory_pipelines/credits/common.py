"""What the ledger's modules share: SQL files, the ledger key, errors, the balance type.

Nothing here imports another module of ``credits``: ``ledger`` (the service) sits on top
of ``common``, ``estimate`` and ``history``, never the other way round.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

SQL_DIR = Path(__file__).with_name("sql")
HISTORY_MAX_PAGE = 200


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def as_uuid(value: Any, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


@dataclass(frozen=True)
class LedgerKey:
    """Who is charged for which arena of which run: one reservation's identity.

    The ledger holds at most one reservation, settlement and release per
    (run, arena, platform); ``user_id`` is whom they are charged to and ``tier`` is
    recorded with them. Built once per arena by the caller and passed to
    ``reserve``/``settle``/``release``; invalid parts are refused here, by name.
    """

    user_id: uuid.UUID
    collection_run_id: uuid.UUID
    arena: str
    platform: str
    tier: str

    def __post_init__(self) -> None:
        try:
            run = as_uuid(self.collection_run_id, "collection_run_id")
        except ValueError as exc:
            raise InvalidLedgerRequest(str(exc), self.collection_run_id) from None
        object.__setattr__(self, "collection_run_id", run)
        try:
            object.__setattr__(self, "user_id", as_uuid(self.user_id, "user_id"))
        except ValueError as exc:
            raise InvalidLedgerRequest(str(exc), run) from None
        if not self.arena or not self.platform:
            raise InvalidLedgerRequest(
                f"arena and platform are required (got arena={self.arena!r}, "
                f"platform={self.platform!r})",
                run,
            )

    def __str__(self) -> str:
        return f"run {self.collection_run_id} {self.arena}/{self.platform} (user {self.user_id})"


# -- errors --------------------------------------------------------------------------------


class LedgerError(RuntimeError):
    """A ledger call refused or failed, with nothing written; ``collection_run_id`` says where."""

    def __init__(self, message: str, collection_run_id: Any = None):
        super().__init__(message)
        self.collection_run_id = collection_run_id


class InvalidLedgerRequest(LedgerError):
    """A key part or an amount is malformed (not a UUID, empty, negative, not an integer)."""


class UnknownUser(LedgerError):
    def __init__(self, key: LedgerKey):
        super().__init__(
            f"unknown user {key.user_id}: cannot reserve for {key.arena}/{key.platform} "
            f"of run {key.collection_run_id}",
            key.collection_run_id,
        )
        self.key = key


class InsufficientCredits(LedgerError):
    def __init__(self, needed: int, available: int, collection_run_id: Any = None):
        super().__init__(
            f"insufficient credits: need {needed}, available {available}", collection_run_id
        )
        self.needed = needed
        self.available = available


class ReservationConflict(LedgerError):
    """The key already holds a different reservation, is closed, or belongs to another user."""


class UnknownReservation(LedgerError):
    """Settle or release of a key that was never reserved."""

    def __init__(self, key: LedgerKey, action: str):
        super().__init__(f"cannot {action} {key}: it was never reserved", key.collection_run_id)
        self.key = key


class SettlementConflict(LedgerError):
    """The key was already closed differently (settled at another cost, or released)."""


class LedgerUnavailable(LedgerError):
    """The database refused or failed the write (the message names the run and the cause)."""


def db_error(action: str, run_id: Any, exc: SQLAlchemyError) -> LedgerUnavailable:
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return LedgerUnavailable(
        f"credit {action} failed for collection run {run_id}: {type(orig).__name__}: {first_line}",
        run_id,
    )


def check_amount(name: str, value: Any, run_id: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidLedgerRequest(f"{name} must be a non-negative integer, got {value!r}", run_id)
    return value


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    allocated: int
    reserved: int
    settled: int
    refunded: int
    available: int


@dataclass(frozen=True)
class Settlement:
    """How a settle closed a key: ``actual`` asked, ``charged`` written, the rest not charged."""

    actual: int
    charged: int
    reserved: int

    @property
    def uncharged(self) -> int:
        return self.actual - self.charged
