"""Sync to the provider's template store, against the built-in sandbox's mPaaS store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.campaign_requests import snapshot_of
from campaigns.connections import mpaas_app, mpaas_client
from campaigns.encryption import Secret
from campaigns.models import AuditEvent, Campaign, MessageTemplate, MobileApp
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import TemplateDraft
from tests.factories import (
    CampaignFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

pytestmark = pytest.mark.django_db


def sync(client: Client, template: MessageTemplate) -> Any:
    response = client.post(reverse("message_template_sync", args=[template.pk]))
    template.refresh_from_db()
    return response


def detail(client: Client, template: MessageTemplate) -> str:
    return client.get(reverse("message_template_detail", args=[template.pk])).content.decode()


def in_store(app: MobileApp, name: str) -> list[Mapping[str, Any]]:
    page = mpaas_client(app).list_templates(mpaas_app(app), page_size=100)
    return [row for row in page["Data"] if row["Name"] == name]


def test_sync_creates_the_template_in_the_sandbox_store(marketer: Client) -> None:
    template = MessageTemplateFactory.create(name="Spring sale", title="Hi #name#")
    response = sync(marketer, template)
    assert response["Location"] == reverse("message_template_detail", args=[template.pk])
    assert template.sync_state == MessageTemplate.SyncState.SYNCED
    assert template.synced_version == 1
    assert template.synced_at is not None
    stored = mpaas_client(template.app).get_template(
        mpaas_app(template.app), template_id=template.remote_id
    )
    assert (stored["Name"], stored["Title"]) == ("Spring sale", "Hi #name#")
    assert stored["Content"] == template.body
    assert stored["Variables"] == "name,money"
    assert "synced at version 1" in detail(marketer, template)
    event = AuditEvent.objects.get(action="sync")
    assert event.changes["sync_state"] == ["local", "synced"]


def test_a_second_sync_replaces_the_store_copy_with_the_new_version(marketer: Client) -> None:
    template = MessageTemplateFactory.create(name="Weekly")
    sync(marketer, template)
    first_id = template.remote_id
    marketer.post(
        reverse("message_template_edit", args=[template.pk]),
        {"name": "Weekly digest", "title": "New #name#", "body": "b", "based_on_version": "1"},
    )
    template.refresh_from_db()
    assert "changed since the last sync" in detail(marketer, template)
    sync(marketer, template)
    assert template.remote_id != first_id
    assert template.synced_version == 2
    assert in_store(template.app, "Weekly") == []  # the old copy, under the old name, is gone
    [copy] = in_store(template.app, "Weekly digest")
    assert (copy["Id"], copy["Title"]) == (template.remote_id, "New #name#")
    assert "synced at version 2" in detail(marketer, template)


def test_a_copy_deleted_in_the_mpaas_console_does_not_stop_the_next_sync(
    marketer: Client,
) -> None:
    template = MessageTemplateFactory.create()
    sync(marketer, template)
    mpaas_client(template.app).delete_template(
        mpaas_app(template.app), template_id=template.remote_id
    )
    sync(marketer, template)
    assert template.sync_state == MessageTemplate.SyncState.SYNCED
    assert len(in_store(template.app, template.name)) == 1


def test_a_refused_sync_is_shown_with_the_providers_code_and_advice(marketer: Client) -> None:
    app = MobileAppFactory.create()
    client = mpaas_client(app)
    client.create_template(mpaas_app(app), TemplateDraft("Taken", "Someone else's", "text"))
    template = MessageTemplateFactory.create(app=app, name="Taken")
    response = sync(marketer, template)
    assert response.status_code == 302
    assert template.sync_state == MessageTemplate.SyncState.FAILED
    assert template.sync_message.startswith("TEMPLATE_EXIST")
    html = detail(marketer, template)
    assert "Sync failed:" in html
    assert "TEMPLATE_EXIST" in html
    assert "Rename this template, or delete the other one in the mPaaS console" in html
    [copy] = in_store(app, "Taken")
    assert copy["Title"] == "Someone else's"  # not overwritten
    assert AuditEvent.objects.get(action="sync").changes["sync_state"] == ["local", "failed"]


def test_a_sync_with_wrong_keys_says_what_the_gateway_answered(marketer: Client) -> None:
    template = MessageTemplateFactory.create(
        app=MobileAppFactory.create(access_key_secret=Secret("wrong"))
    )
    sync(marketer, template)
    assert template.sync_state == MessageTemplate.SyncState.FAILED
    assert "SignatureDoesNotMatch" in detail(marketer, template)


def test_an_emas_app_has_no_store_to_sync_to(marketer: Client) -> None:
    template = MessageTemplateFactory.create(app=EmasAppFactory.create())
    html = detail(marketer, template)
    assert "EMAS has no template store" in html
    assert "Sync to provider" not in html
    sync(marketer, template)
    assert template.sync_state == MessageTemplate.SyncState.LOCAL
    assert not AuditEvent.objects.exists()


def test_deleting_a_synced_template_removes_its_store_copy(marketer: Client) -> None:
    template = MessageTemplateFactory.create(name="Short lived")
    sync(marketer, template)
    marketer.post(reverse("message_template_delete", args=[template.pk]))
    assert not MessageTemplate.objects.filter(pk=template.pk).exists()
    assert in_store(template.app, "Short lived") == []


def test_a_template_stays_when_the_store_refuses_to_delete_its_copy(
    marketer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = MessageTemplateFactory.create()
    sync(marketer, template)

    def refuse(*args: object, **kwargs: object) -> str:
        raise ProviderError("busy", permanent=False, code="ServiceUnavailable")

    monkeypatch.setattr("campaigns.providers.mpaas.MpaasClient.delete_template", refuse)
    response = marketer.post(reverse("message_template_delete", args=[template.pk]))
    assert response["Location"] == reverse("message_template_detail", args=[template.pk])
    assert MessageTemplate.objects.filter(pk=template.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_a_sync_that_would_change_an_approved_campaigns_text_is_refused(
    marketer: Client,
) -> None:
    template = MessageTemplateFactory.create(name="Offer")
    campaign = CampaignFactory.create(
        app=template.app,
        kind=Campaign.Kind.TEMPLATE,
        template=template,
        template_values={"name": "a", "money": "1"},
    )
    campaign.snapshot = snapshot_of(campaign)
    campaign.status = Campaign.Status.SCHEDULED
    campaign.save()
    sync(marketer, template)
    assert template.sync_state == MessageTemplate.SyncState.SYNCED  # the approved version
    marketer.post(
        reverse("message_template_edit", args=[template.pk]),
        {"name": "Offer", "title": "New #name#", "body": "#money#", "based_on_version": "1"},
    )
    response = sync(marketer, template)
    assert template.synced_version == 1
    page = marketer.get(response["Location"]).content.decode()
    assert "Not synced: “campaign" in page
    assert [row["Title"] for row in in_store(template.app, "Offer")] == ["Hello #name#"]
    assert "Campaign “campaign" in detail(marketer, template)
