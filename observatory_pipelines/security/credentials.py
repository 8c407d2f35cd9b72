"""Encryption at rest for ``api_credentials.credentials`` (Fernet).

The column holds ``{"ciphertext": "<fernet token>"}``; the plaintext dict only
exists in memory while a collector uses it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from observatory_pipelines import settings
from observatory_pipelines.security.keys import load_or_create_key

KEY_FILE = "credentials.key"


class CredentialDecryptError(RuntimeError):
    """A stored credential could not be decrypted (wrong key, or never encrypted)."""


@lru_cache(maxsize=4)
def _fernet(env_value: str | None, deployment: str) -> Fernet:  # deployment: cache key
    key = load_or_create_key(
        env_value, "CREDENTIALS_ENCRYPTION_KEY", KEY_FILE, lambda: Fernet.generate_key().decode()
    )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise ValueError(
            "CREDENTIALS_ENCRYPTION_KEY must be a url-safe base64 32-byte Fernet key "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> Fernet:
    return _fernet(settings.credentials_encryption_key(), settings.deployment())


def encrypt_credentials(values: dict[str, Any]) -> dict[str, str]:
    token = fernet().encrypt(json.dumps(values, sort_keys=True).encode())
    return {"ciphertext": token.decode()}


def is_encrypted(stored: Any) -> bool:
    return isinstance(stored, dict) and set(stored) == {"ciphertext"}


def decrypt_credentials(stored: Any, *, credential_id: Any = None) -> dict[str, Any]:
    """The plaintext dict; the error names the credential, never its content."""
    label = f"credential {credential_id}" if credential_id else "credential"
    if not is_encrypted(stored):
        raise CredentialDecryptError(
            f"{label} is not encrypted (expected {{'ciphertext': ...}}); "
            "store it with credential_pool.add_credential()"
        )
    try:
        return json.loads(fernet().decrypt(stored["ciphertext"].encode()))
    except InvalidToken:
        raise CredentialDecryptError(
            f"{label} cannot be decrypted with the configured CREDENTIALS_ENCRYPTION_KEY"
        ) from None
