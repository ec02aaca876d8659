"""From a raw HTTP request to a handler's answer: faults, signature, parameters, action.

The in-app mount (``views.gateway``) and the in-process transport call ``serve``, which
waits out a call's latency in its thread; the standalone server (``server``) calls
``arrive`` and, when the wait is over, ``admit`` and ``gateway.dispatch``. None stands
for a fault that drops the connection.
"""

from __future__ import annotations

import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_plus

from campaigns.sandbox import auth, control, emas, mpaas  # noqa: F401 - registers the actions
from campaigns.sandbox.faults import FAULTS, Draw, Fault
from campaigns.sandbox.gateway import (
    COMMON_PARAMETERS,
    Call,
    GatewayError,
    Response,
    dispatch,
    json_response,
    new_request_id,
)

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# For ``parse_form``: deleting all bytes but "%", the separators and line breaks leaves a
# form's shape (quoted-printable takes "=" before a line break for a soft line break); the
# translation makes a form quoted-printable: "%XX" becomes "=XX", both separators "&", "+"
# a space.
_NOT_SHAPE = bytes(byte for byte in range(256) if byte not in b"%&=\r\n")
_TO_QUOTED_PRINTABLE = bytes.maketrans(b"%=+", b"=& ")


def parse_form(text: str) -> dict[str, str]:
    """``dict(parse_qsl(text, keep_blank_values=True))``, for the large forms of batch
    pushes: unquoting a PushMultiple's hundreds of values one by one in Python took half a
    millisecond per call, so a well-formed form is unquoted in one C call."""
    form = _parse_well_formed(text)
    return _parse_form_by_piece(text) if form is None else form


def _parse_well_formed(text: str) -> dict[str, str] | None:
    """An ASCII form of "name=value" pairs with valid escapes, read with ``binascii.a2b_qp``;
    None for anything else, or for an escape that decodes to "&"."""
    if not text.isascii():
        return None
    raw = text.encode()
    shape = raw.translate(None, _NOT_SHAPE)
    separators = shape.translate(None, b"%")
    pairs = (len(separators) + 1) // 2
    if separators != b"=&" * (pairs - 1) + b"=":
        return None
    decoded = binascii.a2b_qp(raw.translate(_TO_QUOTED_PRINTABLE))
    # Each valid escape shortens the form by two characters, a malformed one by less.
    if len(decoded) != len(raw) - 2 * (len(shape) - len(separators)):
        return None
    flat = decoded.decode("utf-8", "replace").split("&")
    if len(flat) != 2 * pairs:
        return None
    names_and_values = iter(flat)
    return dict(zip(names_and_values, names_and_values, strict=True))


def _parse_form_by_piece(text: str) -> dict[str, str]:
    form: dict[str, str] = {}
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        form[name] = value
    return form


@dataclass(frozen=True)
class Arrival:
    """A call as it came in: stamped, named, and its faults drawn."""

    received_at: datetime
    request_id: str
    draw: Draw


def arrive() -> Arrival:
    """Stamp a call when it arrives: added latency and checks come after, as a provider's
    front door counts a call when it comes in."""
    return Arrival(control.simulated_now(), new_request_id(), FAULTS.draw(control.current()))


def admit(
    arrival: Arrival,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Call | Response | None:
    """An arrived call, once its wait is over, as its action's handler will see it; or
    the answer that stops it first (its fault's, or a signature error's); None when a
    fault says to drop the connection. Touches no database."""
    if arrival.draw.fault is Fault.DROP:
        return None
    fault = arrival.draw.error()
    if fault is not None:
        return json_response(fault.http_status, fault.body(arrival.request_id), fault.headers)
    lower = {name.lower(): value for name, value in headers.items()}
    query = parse_form(raw_query)
    form = (
        parse_form(body.decode("utf-8", "replace"))
        if lower.get("content-type", "").startswith(FORM_CONTENT_TYPE)
        else {}
    )
    try:
        access_key_id = auth.verify(
            method=method, path=path, query=query, headers=lower, body=body, form=form
        )
    except GatewayError as error:
        return json_response(error.http_status, error.body(arrival.request_id), error.headers)
    action = lower.get("x-acs-action") or query.get("Action", "")
    version = lower.get("x-acs-version") or query.get("Version", "")
    params = query | form
    for name in COMMON_PARAMETERS:
        params.pop(name, None)
    logger.debug("sandbox %s %s %s", version, action, arrival.request_id)
    return Call(action, version, params, access_key_id, arrival.request_id, arrival.received_at)


def serve(
    method: str, path: str, raw_query: str, headers: Mapping[str, str], body: bytes
) -> Response | None:
    """A call answered in this thread, which waits out its latency and faults."""
    arrival = arrive()
    arrival.draw.wait()
    admitted = admit(arrival, method, path, raw_query, headers, body)
    return dispatch(admitted) if isinstance(admitted, Call) else admitted
