from __future__ import annotations

import random
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
        "=&==&a==b&%3D=%26&%26=%3d",
        "Broken=%zz%4&Tail=%",
        "Truncated=%E6%98&Next=%A5x&Lone=%C3=%FF",
        "Lines=a%\r\nb&Soft=a%\nb&Raw=a\r\nb",
        "Back=\\x41%5Cx41&Nul=%00",
        "Literal=春&Mixed=%E6%98%A5春",
    ],
)
def test_it_reads_a_form_exactly_as_the_standard_library_does(text: str) -> None:
    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))


# Pieces of well-formed forms: escapes of the separators, of "%" and "+", of multi-byte and
# broken UTF-8; and odd pieces: malformed escapes, bare separators, line breaks, non-ASCII.
ESCAPED = [*"aZ09-_.~ +", "%00", "%25", "%26", "%3D", "%3d", "%2B", "%0A", "%0d", "%5C", "%ff"]
ESCAPED += ["%E6%98%A5", "%E6%98", "%A5", "%C3", "%FF"]
ODD = [*"%&=\r\n\\", "%zz", "%4", "%%41", "%g0", "é", "春", "\\x41"]


def random_form(draw: random.Random) -> str:
    """ "name=value" pairs, as clients send them, now and then with odd pieces in them."""
    pieces = ESCAPED if draw.random() < 0.6 else ESCAPED + ODD

    def text(most: int) -> str:
        return "".join(draw.choices(pieces, k=draw.randrange(most)))

    return "&".join(f"{text(4)}={text(6)}" for _ in range(draw.randrange(1, 6)))


def test_it_reads_any_form_exactly_as_the_standard_library_does() -> None:
    draw = random.Random(20240601)  # noqa: S311 - seeded test data, not security
    for _ in range(20_000):
        text = random_form(draw)
        assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True)), text


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
