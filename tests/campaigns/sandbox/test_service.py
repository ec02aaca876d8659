from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from campaigns.sandbox.service import parse_form


@pytest.mark.parametrize(
    "text",
    [
        urlencode({"Title": "春季促销 50% off & more", "Empty": "", "A+B": "c=d"}),
        urlencode({"TargetMsg.1.TemplateKeyValue": '{"name":"Li Lei","money":"200"}'}),
        "Plain=value&Spaced=a+b&Encoded=%E6%98%A5&Blank=&&Tail=1",
        "Repeated=1&Repeated=2",
        "",
    ],
)
def test_it_reads_a_form_exactly_as_the_standard_library_does(text: str) -> None:
    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))


def test_a_handler_that_breaks_answers_a_retryable_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    from campaigns.sandbox import gateway

    def broken(call: gateway.Call) -> dict[str, object]:
        raise RuntimeError("a bug in the sandbox")

    monkeypatch.setitem(gateway.HANDLERS, ("2020-10-28", "Broken"), broken)
    call = gateway.Call("Broken", "2020-10-28", {}, "sandbox-key", "REQ", datetime.now(UTC))
    response = gateway.dispatch(call)
    assert response.status == 500
    assert b'"Code":"InternalError"' in response.body
    assert b"a bug in the sandbox" not in response.body
