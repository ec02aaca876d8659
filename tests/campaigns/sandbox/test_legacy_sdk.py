"""aliyun-python-sdk-core, the legacy SDK that signs with HMAC-SHA1 (V1), works against the
sandbox: a valid push succeeds and a wrong secret gets the documented error."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

import pytest

from tests.campaigns.sandbox.conftest import SANDBOX_KEY, SANDBOX_SECRET, RunningSandbox


def push_simple(sandbox: RunningSandbox, secret: str) -> Any:
    client_module: Any = importlib.import_module("aliyunsdkcore.client")
    request_module: Any = importlib.import_module("aliyunsdkcore.request")
    client = client_module.AcsClient(SANDBOX_KEY, secret, "cn-hangzhou")
    request = request_module.CommonRequest(
        domain=sandbox.endpoint, version="2020-10-28", action_name="PushSimple"
    )
    request.set_protocol_type("http")
    request.set_method("POST")
    for name, value in {
        "AppId": "ONEX570DA89211721",
        "WorkspaceId": "test",
        "TaskName": "legacy SDK",
        "Title": "Hello",
        "Content": "From aliyun-python-sdk-core",
        "DeliveryType": "3",
        "ExpiredSeconds": "300",
        "TargetMsgkey": json.dumps({"user1024": f"legacy-{time.time_ns()}"}),
    }.items():
        request.add_body_params(name, value)
    return json.loads(client.do_action_with_exception(request))


def test_a_valid_push_succeeds(sandbox_server: RunningSandbox) -> None:
    body = push_simple(sandbox_server, SANDBOX_SECRET)
    assert body["ResultCode"] == "OK"
    assert body["PushResult"]["Success"] is True
    assert body["PushResult"]["Data"]


def test_a_wrong_secret_gets_signature_does_not_match(sandbox_server: RunningSandbox) -> None:
    exceptions: Any = importlib.import_module("aliyunsdkcore.acs_exception.exceptions")
    with pytest.raises(exceptions.ServerException) as caught:
        push_simple(sandbox_server, "not-the-secret")
    assert caught.value.get_error_code() == "SignatureDoesNotMatch"
