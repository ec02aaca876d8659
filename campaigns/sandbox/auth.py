"""Verifying signed calls as the Alibaba Cloud gateway does, for the sandbox's AccessKeys.

Written from the signature specification (V3: ACS3-HMAC-SHA256 canonical request; V1:
HMAC-SHA1 over the sorted, percent-encoded parameters), independently of Pushdeck's own
client, so a mistake in one cannot hide in the other. Errors carry the gateway's codes and
HTTP statuses, which the official SDKs raise as ClientException with that code.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from campaigns.sandbox.gateway import GatewayError

TIMESTAMP_TOLERANCE = timedelta(minutes=15)
NONCE_MEMORY_S = int(2 * TIMESTAMP_TOLERANCE.total_seconds())
V3_ALGORITHM = "ACS3-HMAC-SHA256"


def incomplete(detail: str) -> GatewayError:
    return GatewayError(
        400,
        "IncompleteSignature",
        f"The request signature does not conform to Aliyun standards. {detail}".strip(),
    )


SIGNATURE_MISMATCH = (
    400,
    "SignatureDoesNotMatch",
    "Specified signature is not matched with our calculation.",
)


def access_keys() -> dict[str, str]:
    """SANDBOX_ACCESS_KEYS as {id: secret}."""
    pairs: dict[str, str] = settings.SANDBOX_ACCESS_KEYS
    return pairs


class RecentNonces:
    """The nonces this process saw in the last ``NONCE_MEMORY_S`` seconds, the most recent
    ``limit`` of them: what a per-process ``LocMemCache`` would keep (it keeps 300), for a
    microsecond where its ``add`` took thirty."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._order: deque[tuple[float, str]] = deque()  # (expiry, nonce), oldest first
        self._lock = threading.Lock()

    def add(self, nonce: str) -> bool:
        """False when ``nonce`` is remembered; otherwise remember it."""
        now = time.monotonic()
        with self._lock:
            order = self._order
            while order and (order[0][0] <= now or len(order) >= self._limit):
                self._seen.discard(order.popleft()[1])
            if nonce in self._seen:
                return False
            self._seen.add(nonce)
            order.append((now + NONCE_MEMORY_S, nonce))
            return True


_RECENT = RecentNonces()


def first_use_of(nonce: str) -> bool:
    """False when ``nonce`` was used in the last half hour: a replayed request. With
    REDIS_URL set the cache is shared by every process (``add`` is atomic there);
    without, each process remembers its own, as the local-memory cache would."""
    if isinstance(caches["default"], LocMemCache):
        return _RECENT.add(nonce)
    return bool(cache.add(f"sandbox:nonce:{nonce}", 1, timeout=NONCE_MEMORY_S))


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _secret_for(access_key_id: str) -> str:
    secret = access_keys().get(access_key_id)
    if secret is None:
        raise GatewayError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    return secret


@functools.lru_cache(maxsize=64)
def _parse_timestamp(stamp: str) -> datetime:
    """Calls signed in the same second share their timestamp, and ``strptime`` costs more
    than the rest of the check."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _check_time_and_nonce(stamp: str, nonce: str, now: datetime) -> None:
    try:
        when = _parse_timestamp(stamp)
    except ValueError:
        raise GatewayError(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ) from None
    if abs(now - when) > TIMESTAMP_TOLERANCE:
        raise GatewayError(
            400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        )
    if not nonce:
        raise GatewayError(
            400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."
        )
    if not first_use_of(nonce):
        raise GatewayError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")


def verify(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    form: Mapping[str, str],
    now: datetime | None = None,
) -> str:
    """The AccessKey ID of a correctly signed call; GatewayError otherwise.
    ``headers`` have lower-case names."""
    now = now or datetime.now(UTC)
    authorization = headers.get("authorization", "")
    if authorization.startswith(V3_ALGORITHM):
        return _verify_v3(method, path, query, headers, body, authorization, now)
    if "Signature" in query:
        return _verify_v1(method, query, form, now)
    raise incomplete("The request has no signature.")


def _verify_v3(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    authorization: str,
    now: datetime,
) -> str:
    fields: dict[str, str] = {}
    for part in authorization[len(V3_ALGORITHM) :].strip().split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    access_key_id = fields.get("Credential", "")
    signed_names = [name for name in fields.get("SignedHeaders", "").split(";") if name]
    signature = fields.get("Signature", "")
    if not access_key_id or not signed_names or not signature:
        raise incomplete("Authorization needs Credential, SignedHeaders and Signature.")
    missing = [name for name in signed_names if name not in headers]
    required = {"host", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}
    if missing or not required <= set(signed_names):
        raise incomplete("The signed headers are incomplete.")
    secret = _secret_for(access_key_id)
    _check_time_and_nonce(headers["x-acs-date"], headers["x-acs-signature-nonce"], now)
    payload_hash = hashlib.sha256(body).hexdigest()
    if headers["x-acs-content-sha256"] != payload_hash:
        raise GatewayError(*SIGNATURE_MISMATCH)
    canonical_query = "&".join(f"{_encode(name)}={_encode(query[name])}" for name in sorted(query))
    canonical_headers = "".join(
        f"{name}:{headers[name].strip()}\n" for name in sorted(signed_names)
    )
    canonical_request = "\n".join(
        [
            method,
            path,
            canonical_query,
            canonical_headers,
            ";".join(sorted(signed_names)),
            payload_hash,
        ]
    )
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    expected = hmac.new(
        secret.encode(), f"{V3_ALGORITHM}\n{digest}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise GatewayError(*SIGNATURE_MISMATCH)
    return access_key_id


def _verify_v1(
    method: str, query: Mapping[str, str], form: Mapping[str, str], now: datetime
) -> str:
    if query.get("SignatureMethod") != "HMAC-SHA1":
        raise GatewayError(
            400, "InvalidSignatureMethod", "Specified signature method is not supported."
        )
    access_key_id = query.get("AccessKeyId", "")
    if not access_key_id:
        raise GatewayError(400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.")
    secret = _secret_for(access_key_id)
    _check_time_and_nonce(query.get("Timestamp", ""), query.get("SignatureNonce", ""), now)
    signed = {**form, **{k: v for k, v in query.items() if k != "Signature"}}
    canonical = "&".join(f"{_encode(k)}={_encode(signed[k])}" for k in sorted(signed))
    string_to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    expected = base64.b64encode(
        hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, query["Signature"]):
        # As the real gateway does: the legacy SDK compares this string with its own to tell
        # a wrong secret (SDK.InvalidAccessKeySecret) from a signing mistake.
        status, code, message = SIGNATURE_MISMATCH
        raise GatewayError(status, code, f"{message} server string to sign is:{string_to_sign}")
    return access_key_id
