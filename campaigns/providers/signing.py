"""Alibaba Cloud RPC-style request signing, written on the specification, not the SDK.

V3 (ACS3-HMAC-SHA256, the official SDKs' default): Action and Version travel as x-acs-*
headers, the payload is hashed into x-acs-content-sha256 and an Authorization header signs
a canonical request made of the method, path, query, headers and that hash.

V1 (HMAC-SHA1): Action, Version and the signature's own parameters travel in the query
string; the signature covers every query and form parameter, sorted and percent-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

V3_ALGORITHM = "ACS3-HMAC-SHA256"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud signs it: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="~")


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def new_nonce() -> str:
    return uuid.uuid4().hex


def form_body(params: Mapping[str, str]) -> bytes:
    """The form body as the official SDKs write it: keys sorted, ``+`` for spaces."""
    return urlencode(sorted(params.items())).encode()


def canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(key)}={percent_encode(query[key])}" for key in sorted(query))


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """Every header given is signed: lower-cased names, sorted, values trimmed."""
    merged: dict[str, list[str]] = {}
    for name, value in headers.items():
        merged.setdefault(name.lower(), []).append(value.strip())
    names = sorted(merged)
    lines = "".join(f"{name}:{','.join(sorted(merged[name]))}\n" for name in names)
    return lines, ";".join(names)


def v3_authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key_id: str,
    access_key_secret: str,
) -> str:
    """The Authorization header of a V3 request whose headers are all already set."""
    header_lines, signed_headers = canonical_headers(headers)
    canonical_request = "\n".join(
        [method, path or "/", canonical_query(query), header_lines, signed_headers, payload_sha256]
    )
    string_to_sign = f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(
        access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return (
        f"{V3_ALGORITHM} Credential={access_key_id},"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )


def v3_headers(
    *,
    host: str,
    action: str,
    version: str,
    query: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
    method: str = "POST",
    path: str = "/",
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """All headers of a signed V3 RPC call, Authorization included."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": timestamp(now),
        "x-acs-signature-nonce": nonce or new_nonce(),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
    }
    if body:
        headers["content-type"] = FORM_CONTENT_TYPE
    headers["Authorization"] = v3_authorization(
        method=method,
        path=path,
        query=query,
        headers=headers,
        payload_sha256=headers["x-acs-content-sha256"],
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
    )
    return headers


def v1_signature(params: Mapping[str, str], access_key_secret: str, method: str = "POST") -> str:
    """HMAC-SHA1 over the sorted, percent-encoded query and form parameters."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def v1_query(
    *,
    action: str,
    version: str,
    query: Mapping[str, str],
    body_params: Mapping[str, str],
    access_key_id: str,
    access_key_secret: str,
    method: str = "POST",
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The query string of a signed V1 call: the common parameters, ``query``, Signature."""
    signed = {
        "Action": action,
        "Format": "json",
        "Version": version,
        "Timestamp": timestamp(now),
        "SignatureNonce": nonce or new_nonce(),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": access_key_id,
        **query,
    }
    signature = v1_signature({**signed, **body_params}, access_key_secret, method)
    return {**signed, "Signature": signature}
