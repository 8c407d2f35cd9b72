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


@pytest.mark.parametrize("variable", ["PSEUDONYMIZATION_KEY", "CREDENTIALS_ENCRYPTION_KEY"])
def test_production_without_a_key_stops_naming_it_and_generates_nothing(
    tmp_path, monkeypatch, variable
):
    # Generated per container, a production key would give one author two pseudonyms.
    monkeypatch.setenv("OBSERVATORY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OBSERVATORY_ENV", "production")
    monkeypatch.setenv(variable, "  ")
    use = {
        "PSEUDONYMIZATION_KEY": lambda: pseudo.pseudonymize("bluesky", "did:plc:abc"),
        "CREDENTIALS_ENCRYPTION_KEY": lambda: creds.encrypt_credentials({"api_key": "x"}),
    }[variable]
    with pytest.raises(RuntimeError, match=f"^{variable} is not set"):
        use()
    assert (
        not list((tmp_path / "secrets").glob("*.key")) if (tmp_path / "secrets").exists() else True
    )


def test_production_has_no_default_object_store_credential(monkeypatch):
    from observatory_pipelines import settings

    for name in ("MINIO_ACCESS_KEY", "MINIO_ROOT_USER", "MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert settings.minio_access_key() == "minioadmin"  # local: MinIO's own default
    monkeypatch.setenv("OBSERVATORY_ENV", "production")
    with pytest.raises(RuntimeError, match="MINIO_ACCESS_KEY .or MINIO_ROOT_USER. is not set"):
        settings.minio_access_key()
    with pytest.raises(RuntimeError, match="MINIO_SECRET_KEY .or MINIO_ROOT_PASSWORD. is not set"):
        settings.minio_secret_key()
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", "s3cret-value")
    assert settings.minio_secret_key() == "s3cret-value"
