"""Author pseudonyms: keyed HMAC-SHA256 of ``platform:author_id``, or of the author's name.

A keyed hash (not a salted plain hash) so that nobody without the key can
confirm a guessed author id by hashing it. A source that names its authors without an
id (an RSS byline) gets a pseudonym over the normalised name, scoped by platform
(``platform:name:<name>``, so a name never collides with an id of the same spelling).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from functools import lru_cache

from observatory_pipelines import settings
from observatory_pipelines.security.keys import load_or_create_key

KEY_FILE = "pseudonymization.key"


@lru_cache(maxsize=4)
def _key_bytes(env_value: str | None, deployment: str) -> bytes:  # deployment: cache key
    return load_or_create_key(
        env_value, "PSEUDONYMIZATION_KEY", KEY_FILE, lambda: secrets.token_hex(32)
    ).encode()


def pseudonymization_key() -> bytes:
    return _key_bytes(settings.pseudonymization_key(), settings.deployment())


def pseudonymize(platform: str, author_id: str | None, key: bytes | None = None) -> str | None:
    """64 hex chars for ``platform:author_id``; None when there is no author id."""
    if author_id is None or author_id == "":
        return None
    message = f"{platform}:{author_id}".encode()
    return hmac.new(key or pseudonymization_key(), message, hashlib.sha256).hexdigest()


def normalized_author_name(name: str) -> str:
    """NFC, whitespace collapsed, case folded: "Jens  HANSEN" and "jens hansen" are one."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def pseudonymize_name(platform: str, name: str | None, key: bytes | None = None) -> str | None:
    """64 hex chars for an author known only by name (or address); None without one."""
    normalized = normalized_author_name(name) if name else ""
    if not normalized:
        return None
    message = f"{platform}:name:{normalized}".encode()
    return hmac.new(key or pseudonymization_key(), message, hashlib.sha256).hexdigest()
