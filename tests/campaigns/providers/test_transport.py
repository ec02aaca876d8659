from __future__ import annotations

import pytest

from campaigns.providers import transport


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
