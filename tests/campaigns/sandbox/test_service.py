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
