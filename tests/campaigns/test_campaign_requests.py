"""The bridge from a campaign to provider requests: options reach the wire, rules come back
beside the composer's fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from campaigns.campaign_requests import Recipient, build_requests, form_field_of
from campaigns.models import Audience, Campaign
from campaigns.providers.errors import RequestInvalid
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    EmasAppFactory,
    MessageTemplateFactory,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def recipients(count: int) -> list[Recipient]:
    return [Recipient(f"user-{n}", {"name": f"N{n}", "money": str(n)}) for n in range(count)]


def test_a_simple_push_carries_its_options_to_the_wire() -> None:
    campaign = CampaignFactory.create(
        options={"mp_push_style": 1, "mp_extended_params": {"page": "sale"}, "mp_expiry": 600}
    )
    [request] = build_requests(campaign, recipients(2), ["k1", "k2"], now=NOW)
    assert request.action == "PushSimple"
    assert request.params["PushStyle"] == "1"
    assert request.params["ExtendedParams"] == '{"page":"sale"}'
    assert request.params["ExpiredSeconds"] == "600"
    assert request.params["DeliveryType"] == "3"
    assert request.params["TaskName"] == campaign.name


def test_eleven_targets_in_a_simple_push_are_refused_beside_the_audience() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(RequestInvalid) as refused:
        build_requests(campaign, recipients(11), [f"k{n}" for n in range(11)], now=NOW)
    fields = {form_field_of(error.field, campaign.kind) for error in refused.value.errors}
    assert fields == {"audience"}


def test_a_personalised_push_sends_each_target_its_values() -> None:
    template = MessageTemplateFactory.create()
    campaign = CampaignFactory.create(
        app=template.app, kind=Campaign.Kind.PERSONALISED, template=template
    )
    [request] = build_requests(campaign, recipients(3), ["a", "b", "c"], now=NOW)
    assert request.params["TargetMsg.2.Target"] == "user-1"
    assert request.params["TargetMsg.2.TemplateKeyValue"] == '{"name":"N1","money":"1"}'


def test_an_emas_push_sets_nested_vendor_options() -> None:
    app = EmasAppFactory.create()
    audience = AudienceFactory.create(app=app, kind=Audience.Kind.DEVICES)
    campaign = CampaignFactory.create(
        app=app,
        audience=audience,
        kind=Campaign.Kind.EMAS,
        options={
            "device_type": "ANDROID",
            "xiaomi_channel": "promo",
            "android_popup_title": "Hi",
            "sms_delay": 60,
            "sms_send_policy": 0,
            "sms_sign_name": "Shop",
            "sms_template_name": "SMS_1",
        },
    )
    [request] = build_requests(campaign, recipients(2), [str(uuid.uuid4())], now=NOW)
    assert request.params["AndroidNotificationXiaomiChannel"] == "promo"
    assert request.params["AndroidPopupTitle"] == "Hi"
    assert request.params["SmsDelaySecs"] == "60"
    assert request.params["TargetValue"] == "user-0,user-1"
