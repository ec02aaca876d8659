"""From a raw HTTP request to a handler's answer: faults, signature, parameters, action.

Both the in-app mount (``views.gateway``) and the standalone server (``server``) serve
through ``serve``; it returns None when a fault says to drop the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote_plus

from campaigns.sandbox import auth, control, emas, mpaas  # noqa: F401 - registers the actions
from campaigns.sandbox.faults import FAULTS, Fault
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


def parse_form(text: str) -> dict[str, str]:
    """``dict(parse_qsl(text, keep_blank_values=True))``, faster for the large forms of
    batch pushes: only the pieces with "%" or "+" in them are unquoted."""
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


def serve(
    method: str, path: str, raw_query: str, headers: Mapping[str, str], body: bytes
) -> Response | None:
    request_id = new_request_id()
    lower = {name.lower(): value for name, value in headers.items()}
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    form = (
        parse_form(body.decode("utf-8", "replace"))
        if lower.get("content-type", "").startswith(FORM_CONTENT_TYPE)
        else {}
    )
    try:
        if FAULTS.apply(control.current()) is Fault.DROP:
            return None
        access_key_id = auth.verify(
            method=method, path=path, query=query, headers=lower, body=body, form=form
        )
    except GatewayError as error:
        return json_response(error.http_status, error.body(request_id), error.headers)
    action = lower.get("x-acs-action") or query.get("Action", "")
    version = lower.get("x-acs-version") or query.get("Version", "")
    params = {
        name: value for name, value in {**query, **form}.items() if name not in COMMON_PARAMETERS
    }
    call = Call(action, version, params, access_key_id, request_id, control.simulated_now())
    logger.debug("sandbox %s %s %s", version, action, request_id)
    return dispatch(call)
