"""Encryption at rest for mailbox passwords (and any other secret we must be able to read back).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with keys from the environment
variable ``LINKCRM_ENCRYPTION_KEY``: a comma-separated list of Fernet keys, parsed into
``settings.LINKCRM_ENCRYPTION_KEYS``. The first key encrypts; every key decrypts
(``MultiFernet``), so a key is rotated by putting the new key first, running
:func:`rotate_secret` over the stored values, then dropping the old key.

How a model uses it: the column is an :class:`EncryptedTextField` holding the ciphertext
only; the model exposes ``set_password(plain)`` (stores ``encrypt_secret(plain)``) and
``get_password()`` (returns ``decrypt_secret(...)``) for the code that logs in to the
mailbox. The field is not editable, so it never appears in a ModelForm or the admin; a
form takes a new password in a plain, write-only ``CharField`` and calls ``set_password``.
Plaintext never goes to a template, a log or an API response.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

ENV_VAR = "LINKCRM_ENCRYPTION_KEY"
# Every Fernet token starts with version byte 0x80, base64url-encoded as "gAAAAA".
_TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (a format marker, not a password)


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


def generate_key() -> str:
    """A new random key, in the form ``LINKCRM_ENCRYPTION_KEY`` expects."""
    return Fernet.generate_key().decode("ascii")


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def _cipher() -> MultiFernet:
    keys = tuple(getattr(settings, "LINKCRM_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        raise SecretDecryptionError(f"no encryption key configured: set {ENV_VAR}")
    return _multifernet(keys)


def encrypt_secret(plaintext: str) -> str:
    """Ciphertext (ASCII, URL-safe) of ``plaintext`` under the first configured key."""
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_secret(ciphertext: str) -> str:
    """The plaintext, or :class:`SecretDecryptionError` when no configured key fits."""
    try:
        return _cipher().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise SecretDecryptionError(
            f"cannot decrypt a stored secret: it was encrypted with a key that is not in {ENV_VAR} "
            "(a rotated-out key?) or it is corrupted; enter the password again"
        ) from None


def rotate_secret(ciphertext: str) -> str:
    """The same secret re-encrypted under the first key (for key rotation)."""
    try:
        return _cipher().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretDecryptionError(f"cannot rotate a stored secret: no key in {ENV_VAR} fits") from None


def looks_encrypted(value: str) -> bool:
    """Whether ``value`` has the shape of a Fernet token (it is not decrypted)."""
    return value.startswith(_TOKEN_PREFIX)


class EncryptedTextField(models.TextField):
    """A column holding ciphertext from :func:`encrypt_secret`; see the module docstring.

    It refuses to save anything that is not a Fernet token (so plaintext assigned by
    mistake never reaches the database) and has no form field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value and not looks_encrypted(value):
            raise ValidationError(
                f"{self.name or 'EncryptedTextField'}: refusing to store a value that is not encrypted; "
                "use encrypt_secret()"
            )
        return value

    def formfield(self, **kwargs: Any) -> None:  # type: ignore[override]
        return None
