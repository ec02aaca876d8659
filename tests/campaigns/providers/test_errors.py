"""Every way a call can fail becomes a ProviderError that says whether to retry."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from campaigns.providers.base import (
    Account,
    Credentials,
    ProviderClient,
    ProviderRequest,
    SignatureVersion,
)
from campaigns.providers.errors import ProviderError

SECRET = "never-shown-secret-42"
REQUEST = ProviderRequest("PushSimple", "2020-10-28", {"Title": "Hi"}, in_query=False)


def client_answering(handler: Callable[[httpx.Request], httpx.Response]) -> ProviderClient:
    account = Account(
        "https://mpaas.cn-hangzhou.aliyuncs.com/",
        Credentials("LTAI-key", SECRET),
        SignatureVersion.V3,
    )
    return ProviderClient(account, http=httpx.Client(transport=httpx.MockTransport(handler)))


def gateway_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"RequestId": "REQ-1", "Code": code, "Message": f"message for {code}"}
    return httpx.Response(status, json=body, headers=headers)


def failure(handler: Callable[[httpx.Request], httpx.Response]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        client_answering(handler).call(REQUEST)
    assert SECRET not in str(caught.value) + repr(caught.value)
    return caught.value


def test_a_parameter_error_is_permanent_and_keeps_code_message_and_request_id() -> None:
    error = failure(lambda request: gateway_error(400, "InvalidTitle.BytesExceed"))
    assert error.permanent
    assert (error.code, error.request_id, error.http_status) == (
        "InvalidTitle.BytesExceed",
        "REQ-1",
        400,
    )
    assert error.message == "message for InvalidTitle.BytesExceed"
    assert "correct the campaign" in str(error.advice)


@pytest.mark.parametrize(
    "code", ["SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "IncompleteSignature"]
)
def test_a_signature_or_key_error_is_permanent_and_points_at_the_credentials(code: str) -> None:
    error = failure(lambda request: gateway_error(400, code))
    assert error.permanent
    assert "AccessKey" in str(error.advice)


def test_throttling_is_retryable_after_the_wait_the_gateway_asked_for() -> None:
    error = failure(
        lambda request: gateway_error(429, "Throttling.User", {"x-acs-retry-after": "1500"})
    )
    assert not error.permanent
    assert error.retry_after == pytest.approx(1.5)


def test_a_standard_retry_after_header_is_read_in_seconds() -> None:
    error = failure(lambda request: gateway_error(503, "ServiceUnavailable", {"Retry-After": "7"}))
    assert not error.permanent
    assert error.retry_after == 7


def test_an_unknown_throttling_code_is_still_retryable() -> None:
    assert not failure(lambda request: gateway_error(400, "Throttling.Whatever")).permanent


def test_a_server_error_is_retryable() -> None:
    error = failure(lambda request: gateway_error(500, "InternalError"))
    assert not error.permanent
    assert error.retry_after is None


def test_a_5xx_without_json_is_retryable() -> None:
    error = failure(lambda request: httpx.Response(502, text="<html>Bad gateway</html>"))
    assert not error.permanent
    assert error.code == "HTTP502"


def test_an_unknown_4xx_is_permanent() -> None:
    assert failure(lambda request: gateway_error(404, "SomethingNew")).permanent


def test_a_timeout_is_retryable() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    error = failure(time_out)
    assert (error.permanent, error.code) == (False, "Timeout")


def test_a_refused_connection_is_retryable() -> None:
    # A real socket: nothing listens on port 9 of loopback, so the connection is refused.
    account = Account("http://127.0.0.1:9/", Credentials("LTAI-key", SECRET))
    with pytest.raises(ProviderError) as caught:
        ProviderClient(account).call(REQUEST)
    assert (caught.value.permanent, caught.value.code) == (False, "ConnectionError")
    assert SECRET not in repr(caught.value)


def test_an_mpaas_200_whose_result_says_failure_is_an_error() -> None:
    from campaigns.providers.mpaas import MpaasClient

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "RequestId": "REQ-200",
                "ResultCode": "OK",
                "ResultMessage": "",
                "PushResult": {"Success": False, "ResultMsg": "template not exist"},
            },
        )

    account = Account("https://mpaas.cn-hangzhou.aliyuncs.com/", Credentials("LTAI-key", SECRET))
    client = MpaasClient(account, http=httpx.Client(transport=httpx.MockTransport(refused)))
    with pytest.raises(ProviderError) as caught:
        client.call(REQUEST)
    assert caught.value.permanent
    assert caught.value.request_id == "REQ-200"
    assert "template not exist" in caught.value.message
