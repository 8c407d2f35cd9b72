"""What the ledger's modules share: SQL files, errors, the balance type, input checks."""

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


class CreditReservationError(RuntimeError):
    """A ledger write failed; ``collection_run_id`` says for which run."""

    def __init__(self, message: str, collection_run_id: Any = None):
        super().__init__(message)
        self.collection_run_id = collection_run_id


class InsufficientCredits(CreditReservationError):
    def __init__(self, needed: int, available: int, collection_run_id: Any = None):
        super().__init__(
            f"insufficient credits: need {needed}, available {available}", collection_run_id
        )
        self.needed = needed
        self.available = available


@dataclass(frozen=True)
class Balance:
    allocated: int
    reserved: int
    settled: int
    refunded: int
    available: int


def as_uuid(value: Any, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


def db_error(action: str, run_id: Any, exc: SQLAlchemyError) -> CreditReservationError:
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return CreditReservationError(
        f"credit {action} failed for collection run {run_id}: {type(orig).__name__}: {first_line}",
        run_id,
    )


def check_key(run_id: Any, arena: str, platform: str) -> uuid.UUID:
    try:
        run = as_uuid(run_id, "collection_run_id")
    except ValueError as exc:
        raise CreditReservationError(str(exc), run_id) from None
    if not arena or not platform:
        raise CreditReservationError(
            f"arena and platform are required (got arena={arena!r}, platform={platform!r})",
            run_id,
        )
    return run


def check_amount(name: str, value: Any, run_id: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CreditReservationError(
            f"{name} must be a non-negative integer, got {value!r}", run_id
        )
    return value
