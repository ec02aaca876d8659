"""Our signatures equal the official SDK's for the same request, date and nonce."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.providers import signing
from campaigns.providers.base import ProviderClient, ProviderRequest, SignatureVersion
from tests.campaigns.providers.conftest import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    CaptureServer,
    our_account,
    sdk_config,
)

pytestmark = pytest.mark.conformance


def sdk_push_simple(server: CaptureServer, version: SignatureVersion) -> None:
    from alibabacloud_mpaas20201028.client import Client
    from alibabacloud_mpaas20201028.models import PushSimpleRequest

    Client(sdk_config(server, version)).push_simple(
        PushSimpleRequest(
            app_id="ONEX570DA89211721",
            workspace_id="test",
            task_name="Spring sale 春季促销",
            title="50% off & free shipping",
            content="Hello #name#, ~tilde *star* +plus",
            delivery_type=3,
            target_msgkey='{"user1024":"1578807462788"}',
            expired_seconds=300,
            push_style=0,
        )
    )


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, signing.TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def test_v3_authorization_equals_the_sdks(capture_server: CaptureServer) -> None:
    sdk_push_simple(capture_server, SignatureVersion.V3)
    sent = capture_server.last()
    signed_names = sent.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    signed_headers = {name: sent.headers[name] for name in signed_names.split(";")}

    ours = signing.v3_authorization(
        method="POST",
        path=sent.path,
        query_string=signing.canonical_query(sent.query),
        headers=signed_headers,
        payload_sha256=sent.headers["x-acs-content-sha256"],
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
    )
    assert ours == sent.headers["authorization"]


def test_v3_request_has_the_sdks_body_and_payload_hash(capture_server: CaptureServer) -> None:
    sdk_push_simple(capture_server, SignatureVersion.V3)
    sent = capture_server.last()
    client = ProviderClient(our_account(capture_server, SignatureVersion.V3))
    request = ProviderRequest("PushSimple", "2020-10-28", sent.form, in_query=False)

    ours = client.signed(
        request,
        now=parse_timestamp(sent.headers["x-acs-date"]),
        nonce=sent.headers["x-acs-signature-nonce"],
    )
    assert ours.content == sent.body
    for name in ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-content-sha256", "host"):
        assert ours.headers[name] == sent.headers[name]
    assert ours.headers["content-type"] == sent.headers["content-type"]


def test_v1_signature_equals_the_sdks(capture_server: CaptureServer) -> None:
    sdk_push_simple(capture_server, SignatureVersion.V1)
    sent = capture_server.last()
    assert sent.query["SignatureMethod"] == "HMAC-SHA1"

    ours = signing.v1_query(
        action=sent.query["Action"],
        version=sent.query["Version"],
        query={},
        body_params=sent.form,
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        now=parse_timestamp(sent.query["Timestamp"]),
        nonce=sent.query["SignatureNonce"],
    )
    assert ours == sent.query


def test_a_signed_call_reaches_the_server_with_our_signature(
    capture_server: CaptureServer,
) -> None:
    client = ProviderClient(our_account(capture_server, SignatureVersion.V3))
    response = client.call(ProviderRequest("PushSimple", "2020-10-28", {"Title": "Hi"}, False))
    assert response.request_id == "B589F4F4-CD68-3CE5-BDA0-6597F33E2391"
    sent = capture_server.last()
    assert sent.form == {"Title": "Hi"}
    assert sent.headers["authorization"].startswith(
        f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},SignedHeaders="
    )
    assert ACCESS_KEY_SECRET not in repr(client) + repr(client.account)


def test_an_endpoint_under_a_path_prefix_is_called_and_signed_with_that_path(
    capture_server: CaptureServer,
) -> None:
    account = our_account(capture_server, SignatureVersion.V3)
    prefixed = type(account)(
        f"{capture_server.url}sandbox/", account.credentials, account.signature_version
    )
    ProviderClient(prefixed).call(
        ProviderRequest("QueryPushStatByMsg", "2016-08-01", {"MessageId": "1"}, True)
    )
    sent = capture_server.last()
    assert sent.path == "/sandbox/"
    assert sent.query == {"MessageId": "1"}
    signed_names = sent.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    expected = signing.v3_authorization(
        method="POST",
        path="/sandbox/",
        query_string=signing.canonical_query(sent.query),
        headers={name: sent.headers[name] for name in signed_names.split(";")},
        payload_sha256=sent.headers["x-acs-content-sha256"],
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
    )
    assert sent.headers["authorization"] == expected
