from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from campaigns.providers import transport
from campaigns.providers.base import ProviderClient, ProviderRequest, SignatureVersion
from tests.campaigns.providers.conftest import CaptureServer, our_account


def test_one_client_per_endpoint_host_is_shared_in_a_process() -> None:
    first = transport.pooled_client("https://mpaas.cn-hangzhou.aliyuncs.com/")
    assert transport.pooled_client("https://mpaas.cn-hangzhou.aliyuncs.com") is first
    assert transport.pooled_client("https://cloudpush.aliyuncs.com/") is not first


def test_a_forked_worker_gets_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = transport.pooled_client("https://cloudpush.aliyuncs.com/")
    monkeypatch.setattr("campaigns.providers.transport.os.getpid", lambda: -1)
    assert transport.pooled_client("https://cloudpush.aliyuncs.com/") is not parent


def test_calls_have_explicit_connect_and_read_timeouts() -> None:
    timeout = transport.pooled_client("https://cloudpush.aliyuncs.com/").timeout
    assert (timeout.connect, timeout.read) == (
        transport.CONNECT_TIMEOUT_S,
        transport.READ_TIMEOUT_S,
    )


def test_many_threads_keep_calls_in_flight_through_one_pooled_client(
    capture_server: CaptureServer,
) -> None:
    client = ProviderClient(our_account(capture_server, SignatureVersion.V3))
    request = ProviderRequest("PushSimple", "2020-10-28", {"Title": "Hi"}, in_query=False)
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda _: client.call(request), range(64)))
    assert len(responses) == 64
    assert all(response.request_id for response in responses)
    assert len(capture_server.requests) == 64
    assert client.http is transport.pooled_client(capture_server.url)


def test_provider_calls_are_not_logged_with_their_parameters(
    capture_server: CaptureServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = ProviderClient(our_account(capture_server, SignatureVersion.V1))
    request = ProviderRequest("Push", "2016-08-01", {"Title": "Secret sale"}, in_query=True)
    with caplog.at_level(logging.INFO):
        client.call(request)
    assert "Secret sale" not in caplog.text
    assert "Signature" not in caplog.text
