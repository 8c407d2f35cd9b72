"""Secret keys from the environment, or generated once into a file outside the database.

A key kept next to the data it protects would protect nothing, so the embedded
default lives under ``data_dir()/secrets`` (mode 0600), never in Postgres.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from observatory_pipelines import settings

_lock = threading.Lock()


def secrets_dir() -> Path:
    path = settings.data_dir() / "secrets"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def load_or_create_key(
    env_value: str | None, env_name: str, filename: str, generate: Callable[[], str]
) -> str:
    """``env_value`` when set; else the key in ``secrets/<filename>``, generated on first use.

    Only a local deployment generates a key: in production every container would make its
    own, and the same author would get a different pseudonym (or a credential encrypted in
    one container could not be read in another). There a missing key stops the process,
    naming the variable.
    """
    if env_value and env_value.strip():
        return env_value.strip()
    if settings.deployment() == "production":
        raise RuntimeError(
            f"{env_name} is not set; production never generates keys (see .env.example)"
        )
    path = secrets_dir() / filename
    with _lock:
        if not path.exists():
            # O_EXCL: two processes racing to create the key keep the first one's.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(generate())
        key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"key file {path} is empty; delete it or set the environment variable")
    return key
