"""Picks an API credential for a platform, records its use and errors, rotates on quota.

A credential is *available* when active and either never exhausted or past its
``quota_reset_at`` (set when the platform said the quota is spent). Among those,
the one with the fewest errors and the oldest use goes first, so keys rotate.
Secrets are decrypted only into the ``Lease`` handed to a collector; logs and
error messages carry the credential id and name, never its content.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from observatory_pipelines.logs import get_logger
from observatory_pipelines.security.credentials import (
    CredentialDecryptError,
    decrypt_credentials,
    encrypt_credentials,
)

log = get_logger(__name__)
_SQL = Path(__file__).parent / "sql"
PICK_SQL = (_SQL / "credential_pick.sql").read_text()
DEFAULT_QUOTA_BACKOFF = timedelta(hours=1)


class NoCredentialAvailable(RuntimeError):
    """No active credential with quota left for a platform."""


@dataclass
class Lease:
    id: str
    name: str
    platform: str
    credentials: dict[str, Any] = field(repr=False)

    def secret_values(self) -> list[str]:
        return [str(v) for v in self.credentials.values() if v is not None and len(str(v)) >= 4]


def add_credential(
    engine: Engine,
    platform: str,
    name: str,
    credentials: dict[str, Any],
    *,
    tier: str = "free",
    daily_quota: int | None = None,
    monthly_quota: int | None = None,
    notes: str | None = None,
) -> str:
    """Store a credential encrypted; returns its id."""
    statement = text(
        "INSERT INTO api_credentials (platform, tier, credential_name, credentials, daily_quota,"
        " monthly_quota, notes) VALUES (:platform, :tier, :name, :credentials, :daily, :monthly,"
        " :notes) RETURNING id"
    ).bindparams(bindparam("credentials", type_=JSONB))
    with engine.begin() as conn:
        new_id = conn.execute(
            statement,
            {
                "platform": platform,
                "tier": tier,
                "name": name,
                "credentials": encrypt_credentials(credentials),
                "daily": daily_quota,
                "monthly": monthly_quota,
                "notes": notes,
            },
        ).scalar_one()
    log.info("credential.added", cred_id=str(new_id), platform=platform, name=name)
    return str(new_id)


class CredentialPool:
    def __init__(self, engine: Engine):
        self.engine = engine

    def acquire(
        self, platform: str, tier: str | None = None, exclude: set[str] | None = None
    ) -> Lease:
        """The best available credential; undecryptable ones are marked and skipped."""
        excluded = set(exclude or ())
        while True:
            with self.engine.begin() as conn:
                row = conn.execute(
                    text(PICK_SQL),
                    {"platform": platform, "tier": tier, "exclude": [str(x) for x in excluded]},
                ).first()
                if row is None:
                    raise NoCredentialAvailable(
                        f"no active {platform} credential"
                        + (f" stored for tier {tier}" if tier else "")
                        + " with quota left"
                        + (f" (tried {len(excluded)})" if excluded else "")
                    )
                conn.execute(
                    text("UPDATE api_credentials SET last_used_at = now() WHERE id = :id"),
                    {"id": row.id},
                )
            try:
                values = decrypt_credentials(row.credentials, credential_id=row.id)
            except CredentialDecryptError as exc:
                self.record_error(str(row.id), str(exc))
                excluded.add(str(row.id))
                continue
            log.info("credential.acquired", cred_id=str(row.id), platform=platform)
            return Lease(
                id=str(row.id), name=row.credential_name, platform=platform, credentials=values
            )

    def record_error(self, credential_id: str, message: str) -> None:
        """Count an error against the credential (``message`` must already be free of secrets)."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE api_credentials SET error_count = error_count + 1,"
                    " last_error_at = now(), updated_at = now() WHERE id = :id"
                ),
                {"id": uuid.UUID(credential_id)},
            )
        log.warning("credential.error", cred_id=credential_id, error=message)

    def mark_exhausted(self, credential_id: str, reset_at: datetime | None = None) -> None:
        """Quota spent: skip the credential until ``reset_at`` (default: one hour)."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE api_credentials SET quota_reset_at = COALESCE(:reset, now() + :backoff),"
                    " last_error_at = now(), updated_at = now() WHERE id = :id"
                ),
                {
                    "id": uuid.UUID(credential_id),
                    "reset": reset_at,
                    "backoff": DEFAULT_QUOTA_BACKOFF,
                },
            )
        log.warning("credential.quota_exhausted", cred_id=credential_id)


def scrub(message: str, lease: Lease | None) -> str:
    """``message`` with any of the lease's secret values replaced by ***."""
    if lease is None:
        return message
    for secret in lease.secret_values():
        message = message.replace(secret, "***")
    return message
