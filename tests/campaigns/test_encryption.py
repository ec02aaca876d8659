"""Secrets at rest: encrypted with the key list, rotatable, never shown."""

from __future__ import annotations

import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from campaigns.encryption import MASK, Secret
from campaigns.models import MobileApp
from tests.factories import MobileAppFactory

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_token(app: MobileApp) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_key_secret FROM campaigns_mobileapp WHERE id = %s", [app.pk])
        token: str = cursor.fetchone()[0]
    return token


@pytest.mark.django_db
def test_the_secret_is_stored_encrypted_and_read_back() -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("s3cret-value-1234"))
    assert "s3cret" not in stored_token(app)
    assert MobileApp.objects.get(pk=app.pk).access_key_secret.reveal() == "s3cret-value-1234"


@pytest.mark.django_db
def test_old_key_ciphertext_still_decrypts_after_rotation() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        app = MobileAppFactory.create(access_key_secret=Secret("before-rotation"))
        old_token = stored_token(app)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        # A new key in front: what the old key wrote is still read.
        assert MobileApp.objects.get(pk=app.pk).access_key_secret.reveal() == "before-rotation"
        call_command("rotate_secrets", stdout=io.StringIO())
        assert stored_token(app) != old_token
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        # Rotated: the old key can go.
        assert MobileApp.objects.get(pk=app.pk).access_key_secret.reveal() == "before-rotation"


def test_a_secret_never_prints_itself(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("wJalrXUtnFEMI/K7MDENG")
    logging.getLogger("pushdeck.test").warning(
        "calling with %s / %r / %s", secret, secret, f"{secret}"
    )
    assert "wJalr" not in caplog.text
    assert MASK in caplog.text
    assert secret.masked == f"{MASK}DENG"
