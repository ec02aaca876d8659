"""mPaaS answers HTTP 200 for refused calls too: MpaasClient reads the body and raises."""

from __future__ import annotations

import pytest

from campaigns.providers.base import PROVIDERS, SignatureVersion, client_for
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import MpaasApp, MpaasClient
from campaigns.providers.mpaas_push import DeliveryType, PushSimple, Target
from tests.campaigns.providers.conftest import ACCESS_KEY_SECRET, CaptureServer, our_account

APP = MpaasApp("ONEX570DA89211721", "test")
PUSH = PushSimple(
    task_name="t",
    delivery_type=DeliveryType.USER,
    expired_seconds=300,
    targets=(Target("user1024", "k1"),),
    title="Hi",
    content="Hello",
)
REQUEST_ID = "B589F4F4-CD68-3CE5-BDA0-6597F33E2391"


def client(server: CaptureServer) -> MpaasClient:
    return MpaasClient(our_account(server, SignatureVersion.V3))


def test_a_200_with_a_failed_result_code_raises_a_permanent_error_with_code_and_request_id(
    capture_server: CaptureServer,
) -> None:
    capture_server.reply = {
        "RequestId": REQUEST_ID,
        "ResultCode": "PARAM_INVALID",
        "ResultMessage": "param is invalid",
        "PushResult": {"Success": False, "ResultMsg": "targetMsgkey is invalid"},
    }
    with pytest.raises(ProviderError) as failed:
        client(capture_server).push_simple(APP, PUSH)
    error = failed.value
    assert error.permanent
    assert error.code == "PARAM_INVALID"
    assert error.request_id == REQUEST_ID
    assert error.message == "param is invalid"
    assert ACCESS_KEY_SECRET not in str(error) + repr(error)


def test_an_ok_result_code_with_an_unsuccessful_push_result_raises(
    capture_server: CaptureServer,
) -> None:
    capture_server.reply = {
        "RequestId": REQUEST_ID,
        "ResultCode": "OK",
        "PushResult": {"Success": False, "ResultMsg": "target not bound"},
    }
    with pytest.raises(ProviderError) as failed:
        client(capture_server).push_simple(APP, PUSH)
    assert failed.value.permanent
    assert failed.value.message == "target not bound"
    assert failed.value.request_id == REQUEST_ID


@pytest.mark.parametrize("code", ["SYSTEM_BUSY", "Throttling.User", "FLOW_LIMIT"])
def test_a_busy_or_throttled_result_code_is_retryable(
    capture_server: CaptureServer, code: str
) -> None:
    capture_server.reply = {"RequestId": REQUEST_ID, "ResultCode": code, "ResultMessage": ""}
    with pytest.raises(ProviderError) as failed:
        client(capture_server).push_simple(APP, PUSH)
    assert not failed.value.permanent
    assert failed.value.code == code


def test_a_template_store_failure_raises_with_its_code(capture_server: CaptureServer) -> None:
    capture_server.reply = {
        "RequestId": REQUEST_ID,
        "Success": False,
        "Code": "TEMPLATE_NOT_EXIST",
        "Msg": "template not found",
    }
    with pytest.raises(ProviderError) as failed:
        client(capture_server).get_template(APP, name="nope")
    assert failed.value.code == "TEMPLATE_NOT_EXIST"
    assert failed.value.message == "template not found"
    assert failed.value.permanent


def test_an_accepted_push_returns_its_task_id(capture_server: CaptureServer) -> None:
    receipt = client(capture_server).push_simple(APP, PUSH)
    assert receipt.request_id == REQUEST_ID
    assert receipt.task_id == "903bf653c1b5442b9ba07684767bf9c2"
    assert not receipt.scheduled


def test_task_stats_are_read_from_the_result_content(capture_server: CaptureServer) -> None:
    capture_server.reply = {
        "RequestId": REQUEST_ID,
        "ResultCode": "OK",
        "ResultContent": {
            "Data": {"TaskId": 42, "PushNum": 10.0, "PushSuccessNum": 9.0, "PushArrivalNum": 8.0}
        },
    }
    stats = client(capture_server).task_stats(APP, "42")
    assert (stats.task_id, stats.push_num, stats.push_arrival_num) == ("42", 10.0, 8.0)


def test_the_client_is_registered_as_mpaas(capture_server: CaptureServer) -> None:
    assert PROVIDERS["mpaas"] is MpaasClient
    assert isinstance(
        client_for("mpaas", our_account(capture_server, SignatureVersion.V3)), MpaasClient
    )
