"""Test connection tells an admin, in words, what works and what does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaigns.connection_check import check_connection
from campaigns.encryption import Secret
from campaigns.sandbox import control
from tests.factories import EmasAppFactory, MobileAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox_without_faults() -> Iterator[None]:
    """The sandbox's settings are cached for a second: read them afresh before, and leave
    none of this test's behind for the next."""
    control.forget_cache()
    yield
    control.forget_cache()


def test_an_mpaas_app_with_the_right_keys_and_ids_is_connected() -> None:
    result = check_connection(MobileAppFactory.create())
    assert result.ok
    assert result.message == "Connected: the keys and the app IDs work."
    assert result.request_id
    assert result.code == ""


def test_v1_signatures_connect_too() -> None:
    assert check_connection(MobileAppFactory.create(signature_version="v1")).ok


def test_each_app_key_of_an_emas_app_is_tried() -> None:
    app = EmasAppFactory.create(emas_app_key_ios="23267207", emas_app_key_harmony="99999999")
    result = check_connection(app)
    assert not result.ok
    assert result.code == "PermissionDenied"
    assert result.message == (
        "The AccessKey sandbox-key may not use the HarmonyOS AppKey 99999999: the app does not "
        "exist at the provider or belongs to another account (PermissionDenied)."
    )
    assert check_connection(EmasAppFactory.create(emas_app_key_ios="23267207")).ok


def test_a_wrong_secret_is_named_with_the_code_and_request_id() -> None:
    result = check_connection(MobileAppFactory.create(access_key_secret=Secret("wrong")))
    assert not result.ok
    assert result.message == "The AccessKey secret is wrong (SignatureDoesNotMatch)."
    assert result.code == "SignatureDoesNotMatch"
    assert result.request_id
    assert "AccessKey ID and secret" in result.advice


def test_an_unknown_access_key_id_is_named() -> None:
    result = check_connection(MobileAppFactory.create(access_key_id="LTAI-nobody"))
    assert result.message == (
        "Unknown AccessKey ID: the provider does not know LTAI-nobody "
        "(InvalidAccessKeyId.NotFound)."
    )


def test_an_app_the_provider_does_not_have_is_named() -> None:
    result = check_connection(MobileAppFactory.create(mpaas_app_id="ONEXNOTTHERE0001"))
    assert result.message == (
        "The app ONEXNOTTHERE0001 in workspace test does not exist at the provider (APP_NOT_EXIST)."
    )
    assert result.request_id


def test_an_endpoint_that_cannot_be_reached_is_named() -> None:
    result = check_connection(MobileAppFactory.create(endpoint="https://127.0.0.1:9/"))
    assert not result.ok
    assert result.message == "Could not reach the endpoint https://127.0.0.1:9/ (ConnectionError)."
    assert result.request_id == ""


def test_a_sandbox_that_fails_on_purpose_is_a_passing_problem() -> None:
    control.update(error_rate=1.0)
    result = check_connection(MobileAppFactory.create())
    assert not result.ok
    assert "test again in a minute" in result.message
    assert result.code
