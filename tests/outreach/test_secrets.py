"""Mailbox passwords at rest: Fernet with keys from the environment, rotation, no plaintext stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from outreach.secrets import (
    EncryptedTextField,
    SecretDecryptionError,
    decrypt_secret,
    encrypt_secret,
    generate_key,
    rotate_secret,
)


@pytest.fixture
def one_key(settings):
    settings.LINKCRM_ENCRYPTION_KEYS = [generate_key()]
    return settings


def test_round_trip_and_no_plaintext_in_the_ciphertext(one_key):
    token = encrypt_secret("hunter2 ünïcode")
    assert "hunter2" not in token
    assert token != encrypt_secret("hunter2 ünïcode")  # random IV: equal passwords do not show
    assert decrypt_secret(token) == "hunter2 ünïcode"


def test_a_wrong_key_is_a_clear_error(settings):
    settings.LINKCRM_ENCRYPTION_KEYS = [generate_key()]
    token = encrypt_secret("secret")
    settings.LINKCRM_ENCRYPTION_KEYS = [generate_key()]
    with pytest.raises(SecretDecryptionError, match="LINKCRM_ENCRYPTION_KEY") as failure:
        decrypt_secret(token)
    assert "secret" not in str(failure.value).replace("secret:", "").replace("a stored secret", "")


def test_tampered_or_garbage_ciphertext_is_refused(one_key):
    token = encrypt_secret("secret")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for bad in (tampered, "not a token", "gAAAAAé"):
        with pytest.raises(SecretDecryptionError):
            decrypt_secret(bad)


def test_rotation_new_key_first_old_keys_still_decrypt(settings):
    old, new = generate_key(), generate_key()
    settings.LINKCRM_ENCRYPTION_KEYS = [old]
    stored = encrypt_secret("pw")
    settings.LINKCRM_ENCRYPTION_KEYS = [new, old]
    assert decrypt_secret(stored) == "pw"
    rotated = rotate_secret(stored)
    settings.LINKCRM_ENCRYPTION_KEYS = [new]
    assert decrypt_secret(rotated) == "pw"
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(stored)


def test_no_key_configured_is_an_error(settings):
    settings.LINKCRM_ENCRYPTION_KEYS = []
    with pytest.raises(SecretDecryptionError, match="LINKCRM_ENCRYPTION_KEY"):
        encrypt_secret("pw")


def test_the_runner_configured_a_usable_key(settings):
    """Production settings parsed LINKCRM_ENCRYPTION_KEY into a non-empty list of valid keys."""
    assert settings.LINKCRM_ENCRYPTION_KEYS
    assert decrypt_secret(encrypt_secret("x")) == "x"


def test_encrypted_field_stores_only_ciphertext_and_has_no_form_field(one_key):
    field = EncryptedTextField(blank=True)
    field.set_attributes_from_name("password_encrypted")
    token = encrypt_secret("pw")
    assert field.get_prep_value(token) == token
    assert field.get_prep_value("") == ""
    with pytest.raises(ValidationError, match="password_encrypted: refusing to store"):
        field.get_prep_value("pw")
    assert field.formfield() is None
    assert field.editable is False
    _, path, _, kwargs = field.deconstruct()
    assert path == "outreach.secrets.EncryptedTextField"
    assert "editable" not in kwargs
    assert isinstance(field, models.TextField)
