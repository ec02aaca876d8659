"""The sandbox verifies signatures as the real gateway does, and answers with its codes."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from campaigns.providers.base import (
    Account,
    Credentials,
    ProviderClient,
    ProviderRequest,
    SignatureVersion,
)
from tests.campaigns.sandbox.conftest import (
    SANDBOX_KEY,
    SANDBOX_SECRET,
    RunningSandbox,
    sdk_config,
)

# An action no product has: a correctly signed call reaches routing and gets 404, so the
# answer tells whether authentication passed.
UNKNOWN = ProviderRequest("NoSuchAction", "2020-10-28", {"AppId": "x"}, in_query=False)


def our_client(
    sandbox: RunningSandbox, version: SignatureVersion, secret: str = SANDBOX_SECRET
) -> ProviderClient:
    account = Account(sandbox.url, Credentials(SANDBOX_KEY, secret), version)
    return ProviderClient(account, http=httpx.Client())


def answer(client: ProviderClient, request: httpx.Request) -> dict[str, Any]:
    response = client.http.send(request)
    body: dict[str, Any] = response.json()
    body["status"] = response.status_code
    return body


@pytest.mark.parametrize("version", list(SignatureVersion))
def test_a_correct_signature_passes(
    sandbox_server: RunningSandbox, version: SignatureVersion
) -> None:
    client = our_client(sandbox_server, version)
    body = answer(client, client.signed(UNKNOWN))
    assert (body["status"], body["Code"]) == (404, "InvalidAction.NotFound")


@pytest.mark.parametrize("version", list(SignatureVersion))
def test_a_wrong_secret_is_signature_does_not_match(
    sandbox_server: RunningSandbox, version: SignatureVersion
) -> None:
    client = our_client(sandbox_server, version, secret="not-the-secret")
    body = answer(client, client.signed(UNKNOWN))
    assert (body["status"], body["Code"]) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize("v1", [False, True])
def test_the_official_sdk_sees_its_documented_errors(
    sandbox_server: RunningSandbox, v1: bool
) -> None:
    client_module: Any = importlib.import_module("alibabacloud_mpaas20201028.client")
    client_error: Any = importlib.import_module(
        "alibabacloud_tea_openapi.exceptions"
    ).ClientException
    models: Any = importlib.import_module("alibabacloud_mpaas20201028.models")
    request = models.QueryPushAnalysisTaskDetailRequest(
        app_id="ONEX570DA89211721", workspace_id="test", task_id="1"
    )
    wrong_secret = client_module.Client(sdk_config(sandbox_server, secret="wrong", v1=v1))
    with pytest.raises(client_error) as caught:
        wrong_secret.query_push_analysis_task_detail(request)
    assert getattr(caught.value, "code", None) == "SignatureDoesNotMatch"
    unknown_key = client_module.Client(sdk_config(sandbox_server, key="nobody", v1=v1))
    with pytest.raises(client_error) as caught:
        unknown_key.query_push_analysis_task_detail(request)
    assert getattr(caught.value, "code", None) == "InvalidAccessKeyId.NotFound"


def test_a_stale_timestamp_is_expired(sandbox_server: RunningSandbox) -> None:
    client = our_client(sandbox_server, SignatureVersion.V3)
    stale = client.signed(UNKNOWN, now=datetime.now(UTC) - timedelta(minutes=20))
    body = answer(client, stale)
    assert (body["status"], body["Code"]) == (400, "InvalidTimeStamp.Expired")


@pytest.mark.parametrize("version", list(SignatureVersion))
def test_a_replayed_request_is_refused(
    sandbox_server: RunningSandbox, version: SignatureVersion
) -> None:
    client = our_client(sandbox_server, version)
    request = client.signed(UNKNOWN)
    assert answer(client, request)["Code"] == "InvalidAction.NotFound"
    replay = httpx.Request(
        request.method, request.url, headers=request.headers, content=request.content
    )
    body = answer(client, replay)
    assert (body["status"], body["Code"]) == (400, "SignatureNonceUsed")


def test_an_unsigned_request_is_incomplete(sandbox_server: RunningSandbox) -> None:
    response = httpx.post(sandbox_server.url, data={"Action": "PushSimple"})
    assert (response.status_code, response.json()["Code"]) == (400, "IncompleteSignature")
