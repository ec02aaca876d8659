"""One gateway for both products, told apart by API version and action, as the real
gateways are told apart by host. Handlers register themselves with ``@action``."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

MPAAS_VERSION = "2020-10-28"
EMAS_VERSION = "2016-08-01"
HOST_ID = "sandbox.pushdeck.local"

# Parameters of the signature and the RPC envelope, not of the action.
COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "Timestamp",
        "SignatureNonce",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureType",
        "AccessKeyId",
        "Signature",
        "RegionId",
        "SecurityToken",
    }
)


@dataclass(frozen=True)
class Call:
    """A verified call, as a handler sees it."""

    action: str
    version: str
    params: Mapping[str, str]  # query and form parameters, without the common ones
    access_key_id: str
    request_id: str
    received_at: datetime


class GatewayError(Exception):
    """An error the gateway answers with an HTTP status and {RequestId, HostId, Code, Message}."""

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.http_status = http_status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}",
        }


# The real gateway's answer to its own failures: a retryable 500.
INTERNAL_ERROR = GatewayError(
    500, "InternalError", "The request processing has failed due to some unknown error."
)

Handler = Callable[[Call], dict[str, Any]]
HANDLERS: dict[tuple[str, str], Handler] = {}


def action(version: str, name: str) -> Callable[[Handler], Handler]:
    """Register a handler for one action of one API version. It returns the response body
    (RequestId is added) or raises GatewayError."""

    def add(handler: Handler) -> Handler:
        HANDLERS[(version, name)] = handler
        return handler

    return add


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        status, payload, {"content-type": "application/json;charset=utf-8", **(headers or {})}
    )


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def dispatch(call: Call) -> Response:
    handler = HANDLERS.get((call.version, call.action))
    if handler is None:
        error = GatewayError(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
        return json_response(error.http_status, error.body(call.request_id))
    try:
        body = handler(call)
    except GatewayError as error:
        return json_response(error.http_status, error.body(call.request_id), error.headers)
    except Exception:
        # A bug in the sandbox answers like the real gateway's own failures: a retryable
        # 500, not a dropped connection.
        logger.exception("sandbox %s %s failed", call.version, call.action)
        return json_response(INTERNAL_ERROR.http_status, INTERNAL_ERROR.body(call.request_id))
    return json_response(200, {"RequestId": call.request_id, **body})


def now() -> datetime:
    return datetime.now(UTC)
