"""The composer: choose a kind, compose, preview, test-send and save a draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Audience, AudienceMember, Campaign, MobileApp
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

pytestmark = pytest.mark.django_db


def compose_url(app: MobileApp, kind: str) -> str:
    return f"{reverse('campaign_create')}?app={app.pk}&kind={kind}"


def simple_post(app: MobileApp, audience: Audience, **extra: str) -> dict[str, str]:
    return {
        "app": str(app.pk),
        "kind": "simple",
        "name": "Spring sale",
        "audience": str(audience.pk),
        "title": "Spring sale",
        "body": "Everything 20% off",
        "schedule_mode": "now",
        "time_zone": "Asia/Shanghai",
        "schedule_holder": "pushdeck",
        **extra,
    }


def test_new_campaign_starts_by_choosing_app_and_kind(marketer: Client) -> None:
    app = MobileAppFactory.create()
    page = marketer.get(reverse("campaign_create"))
    assert page.status_code == 200
    assert app.name in page.content.decode()
    assert b'name="kind"' in page.content


def test_an_emas_app_offers_no_mpaas_kind(marketer: Client) -> None:
    app = EmasAppFactory.create()
    page = marketer.get(compose_url(app, "simple"))
    assert b'name="kind"' in page.content  # back to the chooser, not a composer


def test_a_simple_draft_is_saved_with_its_options(marketer: Client) -> None:
    app = MobileAppFactory.create()
    audience = AudienceFactory.create(app=app)
    response = marketer.post(
        reverse("campaign_create"),
        simple_post(app, audience, mp_push_style="1", mp_extended_params="page = sale"),
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.options == {"mp_push_style": "1", "mp_extended_params": {"page": "sale"}}
    assert campaign.created_by is not None
    assert campaign.created_by.username == "marketer"


def test_a_rule_of_the_builder_shows_beside_its_field_and_keeps_what_was_typed(
    marketer: Client,
) -> None:
    app = MobileAppFactory.create()
    audience = AudienceFactory.create(app=app)
    data = simple_post(app, audience, mp_push_style="2", body="Typed text stays")
    page = marketer.post(reverse("campaign_create"), data)
    assert page.status_code == 200
    assert not Campaign.objects.exists()
    form = page.context["form"]
    assert form.errors["mp_image_urls"] == ["The image-and-text style needs an image URL."]
    assert "Typed text stays" in page.content.decode()


def test_a_provider_held_emas_send_eight_days_ahead_is_refused(marketer: Client) -> None:
    app = EmasAppFactory.create()
    audience = AudienceFactory.create(app=app, kind=Audience.Kind.DEVICES)
    later = timezone.localtime(timezone.now() + timedelta(days=8), timezone.get_fixed_timezone(480))
    data = {
        "app": str(app.pk),
        "kind": "emas",
        "name": "Later",
        "audience": str(audience.pk),
        "title": "Hi",
        "body": "Later",
        "schedule_mode": "at",
        "send_at": later.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "Asia/Shanghai",
        "schedule_holder": "provider",
        "device_type": "ANDROID",
    }
    page = marketer.post(reverse("campaign_create"), data)
    assert page.status_code == 200
    assert "send_at" in page.context["form"].errors


def test_eleven_test_targets_of_a_simple_push_are_refused_before_sending(
    marketer: Client,
) -> None:
    app = MobileAppFactory.create()
    audience = AudienceFactory.create(app=app)
    targets = "\n".join(f"user-{n}" for n in range(11))
    page = marketer.post(
        reverse("campaign_test_send"), simple_post(app, audience, test_targets=targets)
    )
    errors = page.context["form"].errors
    assert "At most 10 targets per call; this batch has 11." in errors["test_targets"]
    assert page.context["test_results"] is None


def test_a_test_send_reaches_the_sandbox_and_shows_its_request_id(marketer: Client) -> None:
    app = MobileAppFactory.create()
    audience = AudienceFactory.create(app=app)
    page = marketer.post(
        reverse("campaign_test_send"), simple_post(app, audience, test_targets="user-1")
    )
    [result] = page.context["test_results"]
    assert result.ok, result
    assert result.request_id
    assert result.request_id in page.content.decode()


def test_the_preview_fills_a_personalised_template_with_the_first_member(
    marketer: Client,
) -> None:
    template = MessageTemplateFactory.create()
    audience = AudienceFactory.create(app=template.app, member_count=1)
    AudienceMember.objects.create(
        audience=audience, target="u-1", values={"name": "Mei", "money": "88"}
    )
    page = marketer.post(
        reverse("campaign_preview"),
        {
            "app": str(template.app.pk),
            "kind": "personalised",
            "audience": str(audience.pk),
            "template": str(template.pk),
        },
    )
    html = page.content.decode()
    assert "Hello Mei" in html
    assert "Congratulations Mei on winning 88 yuan" in html
    assert "1 target → 1 PushMultiple call" in html


def test_a_viewer_cannot_open_the_composer(viewer: Client) -> None:
    app = MobileAppFactory.create()
    assert viewer.get(compose_url(app, "simple")).status_code == 403


def test_a_scheduled_campaign_cannot_be_edited(marketer: Client) -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.SCHEDULED)
    response = marketer.get(reverse("campaign_edit", args=[campaign.pk]))
    assert response.status_code == 302


def test_editing_a_draft_keeps_its_options_shown(marketer: Client) -> None:
    campaign = CampaignFactory.create(options={"mp_extended_params": {"page": "sale"}})
    page = marketer.get(reverse("campaign_edit", args=[campaign.pk]))
    assert "page = sale" in page.content.decode()


def test_choosing_another_template_brings_inputs_for_its_placeholders(marketer: Client) -> None:
    template = MessageTemplateFactory.create(title="Hi #first#", body="#deal# today")
    page = marketer.post(
        reverse("campaign_preview"),
        {
            "app": str(template.app.pk),
            "kind": "template",
            "template": str(template.pk),
            "refresh": "values",
        },
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert "Value for #first#" in html
    assert "Value for #deal#" in html


def test_a_new_emas_push_starts_as_a_notice_to_the_apps_one_platform(marketer: Client) -> None:
    app = EmasAppFactory.create()  # an Android AppKey only
    form = marketer.get(compose_url(app, "emas")).context["form"]
    assert form["push_type"].value() == "NOTICE"
    assert form["device_type"].value() == "ANDROID"


def test_a_send_time_in_the_year_one_is_refused_not_a_server_error(marketer: Client) -> None:
    """The year 1 in Asia/Shanghai is before the year 1 in UTC: no database can store it
    (hypothesis found the 500)."""
    app = MobileAppFactory.create()
    audience = AudienceFactory.create(app=app)
    data = simple_post(app, audience, schedule_mode="at", send_at="0001-01-01T00:00")
    page = marketer.post(reverse("campaign_create"), data)
    assert page.status_code == 200
    assert page.context["form"].errors["send_at"] == ["Choose a time from this century."]
