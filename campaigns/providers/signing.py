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
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

V3_ALGORITHM = "ACS3-HMAC-SHA256"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
# One entry per byte, so encoding is a lookup per byte in C rather than urllib's layers of
# calls per value: a 100-target PushMultiple body has some 300 fields.
_PERCENT = [chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in range(256)]
_FORM = [*_PERCENT[:32], "+", *_PERCENT[33:]]  # form encoding writes a space as "+"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud signs it: only A-Z a-z 0-9 - _ . ~ stay as they are
    (what ``urllib.parse.quote(value, safe="~")`` gives, faster)."""
    return "".join(map(_PERCENT.__getitem__, value.encode()))


_ALL_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _form_encode(value: str) -> str:
    if _ALL_UNRESERVED.fullmatch(value):  # most names and ids: nothing to encode
        return value
    return "".join(map(_FORM.__getitem__, value.encode()))


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def new_nonce() -> str:
    return uuid.uuid4().hex


def form_body(params: Mapping[str, str]) -> bytes:
    """The form body as the official SDKs write it (``urlencode`` of the sorted parameters:
    ``+`` for spaces)."""
    return "&".join(
        f"{_form_encode(key)}={_form_encode(params[key])}" for key in sorted(params)
    ).encode()


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
    query_string: str,
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key_id: str,
    access_key_secret: str,
) -> str:
    """The Authorization header of a V3 request whose headers are all already set;
    ``query_string`` is ``canonical_query()`` of its query parameters."""
    header_lines, signed_headers = canonical_headers(headers)
    canonical_request = "\n".join(
        [method, path or "/", query_string, header_lines, signed_headers, payload_sha256]
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
    query_string: str,
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
    method: str = "POST",
    path: str = "/",
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """All headers of a signed V3 RPC call, Authorization included; ``query_string`` is
    ``canonical_query()`` of the query parameters, which is also what the URL carries."""
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
        query_string=query_string,
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
