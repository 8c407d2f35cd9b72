"""Author pseudonyms: keyed HMAC-SHA256 of ``platform:author_id``.

A keyed hash (not a salted plain hash) so that nobody without the key can
confirm a guessed author id by hashing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from observatory_pipelines import settings
from observatory_pipelines.security.keys import load_or_create_key

KEY_FILE = "pseudonymization.key"


@lru_cache(maxsize=4)
def _key_bytes(env_value: str | None) -> bytes:
    return load_or_create_key(env_value, KEY_FILE, lambda: secrets.token_hex(32)).encode()


def pseudonymization_key() -> bytes:
    return _key_bytes(settings.pseudonymization_key())


def pseudonymize(platform: str, author_id: str | None, key: bytes | None = None) -> str | None:
    """64 hex chars for ``platform:author_id``; None when there is no author id."""
    if author_id is None or author_id == "":
        return None
    message = f"{platform}:{author_id}".encode()
    return hmac.new(key or pseudonymization_key(), message, hashlib.sha256).hexdigest()
