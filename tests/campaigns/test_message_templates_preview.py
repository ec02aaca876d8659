"""Placeholders, filling them in, the vendors' length limits, and the live preview panel."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.rendering import placeholders, render
from campaigns.template_preview import build_preview
from campaigns.vendor_limits import LIMITS, LengthWarning, display_width, warnings
from tests.factories import EmasAppFactory, MessageTemplateFactory, MobileAppFactory

PREVIEW = reverse("message_template_preview")


def vendors(found: Iterable[LengthWarning]) -> set[str]:
    return {warning.vendor for warning in found}


def test_placeholders_are_found_once_each_in_order_of_appearance() -> None:
    assert placeholders("Hello #name#", "#name#, you won #money# yuan, 恭喜 #姓名#") == [
        "name",
        "money",
        "姓名",
    ]


def test_render_fills_known_placeholders_and_leaves_unknown_ones_as_they_are() -> None:
    text = "Congratulations #name# on winning #money# yuan"
    assert render(text, {"name": "John"}) == "Congratulations John on winning #money# yuan"


def test_render_fills_a_value_that_looks_like_a_placeholder_only_once() -> None:
    assert render("#a# and #b#", {"a": "#b#", "b": "x"}) == "#b# and x"


def test_a_chinese_character_counts_as_two_in_display_width() -> None:
    assert display_width("春季促销 Sale") == 4 * 2 + 5


def test_a_short_latin_title_and_body_fit_every_vendor() -> None:
    assert warnings("Spring sale", "Everything 30% off until Sunday") == []


def test_a_long_title_warns_for_each_vendor_it_is_too_long_for() -> None:
    title = "A" * 62
    found = warnings(title, "Short body")
    assert vendors(found) == {"Huawei", "Xiaomi", "OPPO", "vivo", "Honor", "iOS"}
    oppo = next(warning for warning in found if warning.vendor == "OPPO")
    assert oppo.message == "OPPO takes at most 50 characters of a title; this one has 62."


def test_chinese_titles_count_as_characters_for_xiaomi_and_as_double_width_for_vivo() -> None:
    found = {w.vendor: w for w in warnings("春" * 30, "好")}
    assert "Xiaomi" not in found  # 30 characters of 50
    assert found["vivo"].count == 60  # 30 Chinese characters count as 60 of 40
    assert "EMAS" not in found  # limits of EMAS apps only


def test_emas_counts_a_chinese_title_in_utf8_bytes() -> None:
    title = "春" * 67  # 67 characters, 201 bytes
    found = [w for w in warnings(title, "好", "emas") if w.vendor == "EMAS"]
    assert [warning.count for warning in found] == [201]
    assert "200 bytes of title" in found[0].message
    assert [w for w in warnings("春" * 66, "好", "emas") if w.vendor == "EMAS"] == []


def test_emas_limits_do_not_bind_mpaas_apps() -> None:
    assert "EMAS" not in vendors(warnings("春" * 67, "好", "mpaas"))


def test_apns_counts_its_whole_payload_in_bytes() -> None:
    body = "好" * 1400  # 4200 bytes
    apns = [w for w in warnings("Hi", body) if w.vendor == "APNs"]
    assert len(apns) == 1
    assert apns[0].count > 4200


def test_every_limit_names_its_source() -> None:
    assert all(limit.source for limit in LIMITS)


def test_the_preview_fills_sample_values_defaulting_to_each_placeholders_name() -> None:
    preview = build_preview("Hello #name#", "You won #money# yuan", {"sample-money": "200"})
    assert preview.placeholders == ["name", "money"]
    assert preview.title == "Hello name"
    assert preview.body == "You won 200 yuan"


def test_an_emptied_sample_leaves_its_placeholder_unfilled() -> None:
    preview = build_preview("Hello #name#", "", {"sample-name": ""})
    assert preview.title == "Hello #name#"


def test_the_preview_warns_after_sample_values_are_filled_in() -> None:
    short = build_preview("#product#", "", {"sample-product": "x"})
    long = build_preview("#product#", "", {"sample-product": "x" * 60})
    assert short.warnings == []
    assert "OPPO" in vendors(long.warnings)


@pytest.mark.django_db
def test_the_preview_endpoint_renders_the_mockups_with_the_shared_render(
    marketer: Client,
) -> None:
    data = {"title": "Hello #name#", "body": "Win #money# yuan", "sample-name": "李雷"}
    response = marketer.post(PREVIEW, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    expected = render("Hello #name#", {"name": "李雷"})
    assert html.count(expected) == 2  # the Android and the iOS mock-up
    assert "Win money yuan" in html
    assert 'id="preview-samples" hx-swap-oob="true"' in html  # new placeholders: new inputs


@pytest.mark.django_db
def test_the_preview_leaves_the_sample_inputs_alone_while_the_placeholders_stay_the_same(
    marketer: Client,
) -> None:
    data = {"title": "Hello #name#", "body": "", "sample-name": "Li", "shown_placeholders": "name"}
    html = marketer.post(PREVIEW, data).content.decode()
    assert "Hello Li" in html
    assert "preview-samples" not in html  # typing a sample value keeps the cursor where it is


@pytest.mark.django_db
def test_the_preview_shows_vendor_warnings_for_a_long_title(marketer: Client) -> None:
    html = marketer.post(PREVIEW, {"title": "T" * 62, "body": "b"}).content.decode()
    assert "OPPO takes at most 50 characters of a title; this one has 62." in html


@pytest.mark.django_db
def test_the_preview_of_an_emas_app_checks_utf8_bytes(marketer: Client) -> None:
    app = EmasAppFactory.create()
    data = {"title": "春" * 67, "body": "好", "app": str(app.pk)}
    html = marketer.post(PREVIEW, data).content.decode()
    assert "EMAS takes at most 200 bytes of title" in html
    assert "this one has 201" in html


@pytest.mark.django_db
def test_the_preview_of_a_saved_template_reads_its_text(viewer: Client) -> None:
    template = MessageTemplateFactory.create(app=MobileAppFactory.create(name="Shop"))
    response = viewer.get(PREVIEW, {"template": str(template.pk), "sample-name": "Ann"})
    html = response.content.decode()
    assert "Hello Ann" in html
    assert "Shop" in html


@pytest.mark.django_db
def test_the_detail_page_previews_with_sample_values_without_javascript(viewer: Client) -> None:
    template = MessageTemplateFactory.create()
    url = reverse("message_template_detail", args=[template.pk])
    html = viewer.get(url, {"sample-name": "Ann", "sample-money": "300"}).content.decode()
    assert "Congratulations Ann on winning 300 yuan" in html
