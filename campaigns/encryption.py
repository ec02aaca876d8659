"""Secrets at rest: a model field that stores Fernet tokens made with FIELD_ENCRYPTION_KEYS.

The first key of the list encrypts; every key decrypts, so a new key is put first and the
old ones stay until ``manage.py rotate_secrets`` has re-encrypted everything with the new
one. The decrypted value is a ``Secret``, whose repr and str never show it: a secret that
slips into a log line, an f-string or a debug page shows as ``••••``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

MASK = "••••"


class Secret:
    """A secret value that does not print itself; ``reveal()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def last4(self) -> str:
        return self._value[-4:]

    @property
    def masked(self) -> str:
        """What a page may show: ``••••`` and the last four characters."""
        return f"{MASK}{self.last4}"

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet

    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: "
            "was a key removed before `manage.py rotate_secrets` ran?"
        ) from None


def rotate(token: str) -> str:
    """The same secret, encrypted with the first (newest) key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Holds a ``Secret``; the database holds its Fernet token (empty stays empty)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        return Secret(decrypt(value) if value else "")

    def to_python(self, value: Any) -> Secret | None:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(str(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        plain = value.reveal() if isinstance(value, Secret) else str(value)
        return encrypt(plain) if plain else ""

    def value_to_string(self, obj: models.Model) -> str:
        return MASK  # serializers (dumpdata, the admin's history) never see the secret
