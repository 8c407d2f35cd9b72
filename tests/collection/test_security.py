"""Pseudonymization and credential encryption keys: env first, else a generated 0600 file."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from observatory_pipelines.security import credentials as creds
from observatory_pipelines.security import pseudonymize as pseudo


def test_generated_keys_live_in_a_private_file_outside_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PSEUDONYMIZATION_KEY")
    monkeypatch.delenv("CREDENTIALS_ENCRYPTION_KEY")
    pseudo._key_bytes.cache_clear()
    creds._fernet.cache_clear()
    try:
        first = pseudo.pseudonymize("bluesky", "did:plc:abc")
        key_file = tmp_path / "secrets" / "pseudonymization.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        pseudo._key_bytes.cache_clear()
        assert pseudo.pseudonymize("bluesky", "did:plc:abc") == first  # same key on reload
        stored = creds.encrypt_credentials({"api_key": "secret-value"})
        assert stat.S_IMODE((tmp_path / "secrets" / "credentials.key").stat().st_mode) == 0o600
        creds._fernet.cache_clear()
        assert creds.decrypt_credentials(stored) == {"api_key": "secret-value"}
    finally:
        pseudo._key_bytes.cache_clear()
        creds._fernet.cache_clear()


def test_pseudonyms_depend_on_platform_and_key(monkeypatch):
    a = pseudo.pseudonymize("reddit", "t2_abc")
    assert len(a) == 64 and a != pseudo.pseudonymize("bluesky", "t2_abc")
    assert pseudo.pseudonymize("reddit", None) is None
    assert a != pseudo.pseudonymize("reddit", "t2_abc", key=b"another key")


def test_ciphertext_hides_the_secret_and_wrong_key_is_a_clear_error(monkeypatch):
    stored = creds.encrypt_credentials({"api_key": "AIzaSECRET"})
    assert set(stored) == {"ciphertext"} and "AIzaSECRET" not in stored["ciphertext"]
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(creds.CredentialDecryptError, match="cannot be decrypted") as err:
        creds.decrypt_credentials(stored, credential_id="c-1")
    assert "AIzaSECRET" not in str(err.value)
    with pytest.raises(creds.CredentialDecryptError, match="not encrypted"):
        creds.decrypt_credentials({"api_key": "plain"})
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", "not-a-fernet-key")
    with pytest.raises(ValueError, match="Fernet key"):
        creds.encrypt_credentials({})
