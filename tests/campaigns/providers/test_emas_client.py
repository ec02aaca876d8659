"""EmasClient against the capture server: gateway errors, registration, and what it parses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.providers.base import SignatureVersion, client_for
from campaigns.providers.emas import EmasApp, EmasClient, EmasPush
from campaigns.providers.emas_options import DeviceType, PushType, Target
from campaigns.providers.errors import ProviderError
from tests.campaigns.providers.conftest import (
    ACCESS_KEY_SECRET,
    EMAS_OK,
    CaptureServer,
    our_account,
)

APP = EmasApp(23267207)
PUSH = EmasPush(PushType.NOTICE, DeviceType.ANDROID, Target.DEVICE, ("d1",), "Hi", "Hello")


def test_an_emas_parameter_error_is_a_permanent_provider_error_with_code_and_request_id(
    capture_server: CaptureServer,
) -> None:
    capture_server.status = 400
    capture_server.reply = {
        "RequestId": "A1B2C3D4-0000-4000-8000-000000000001",
        "Code": "InvalidTitle.BytesExceed",
        "Message": "The specified Title exceeds the 200 bytes limit.",
    }
    client = EmasClient(our_account(capture_server, SignatureVersion.V3))
    with pytest.raises(ProviderError) as failed:
        client.push(APP, PUSH)
    error = failed.value
    assert error.permanent
    assert (error.code, error.request_id, error.http_status) == (
        "InvalidTitle.BytesExceed",
        "A1B2C3D4-0000-4000-8000-000000000001",
        400,
    )
    assert ACCESS_KEY_SECRET not in str(error) + repr(error) + repr(client)


def test_an_emas_internal_error_can_be_retried(capture_server: CaptureServer) -> None:
    capture_server.status = 500
    capture_server.reply = {"RequestId": "R", "Code": "InternalError", "Message": "try again"}
    with pytest.raises(ProviderError) as failed:
        EmasClient(our_account(capture_server, SignatureVersion.V3)).push(APP, PUSH)
    assert not failed.value.permanent


def test_a_push_returns_the_message_id(capture_server: CaptureServer) -> None:
    capture_server.reply = dict(EMAS_OK)
    result = EmasClient(our_account(capture_server, SignatureVersion.V3)).push(
        APP, PUSH, now=datetime.now(UTC)
    )
    assert (result.request_id, result.message_id) == (EMAS_OK["RequestId"], EMAS_OK["MessageId"])


def test_the_client_is_registered_as_emas(capture_server: CaptureServer) -> None:
    client = client_for("emas", our_account(capture_server, SignatureVersion.V3))
    assert isinstance(client, EmasClient)


def test_statistics_not_yet_available_are_an_empty_report(capture_server: CaptureServer) -> None:
    capture_server.reply = {"RequestId": "R", "PushStats": {"PushStat": []}}
    report = EmasClient(our_account(capture_server, SignatureVersion.V3)).query_push_stat_by_msg(
        APP, "501029"
    )
    assert report.stats == ()


def test_the_last_page_of_records_has_no_next_page(capture_server: CaptureServer) -> None:
    capture_server.reply = {
        "RequestId": "R",
        "Page": 2,
        "PageSize": 20,
        "Total": 40,
        "PushInfos": {"PushInfo": []},
    }
    page = EmasClient(our_account(capture_server, SignatureVersion.V3)).query_push_records(
        APP, start=datetime(2025, 3, 1, tzinfo=UTC), end=datetime(2025, 3, 2, tzinfo=UTC)
    )
    assert page.next_page is None
