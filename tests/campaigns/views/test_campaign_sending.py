"""Steering a campaign while it is sent: progress, pause, resume and cancel from its page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import dispatch
from campaigns.models import AuditEvent, Campaign, CampaignRun, Dispatch
from tests.campaigns.test_dispatch import personalised, scheduled

pytestmark = pytest.mark.django_db
Run, D = CampaignRun.Status, Dispatch.Status


def sending(members: int = 250) -> Campaign:
    campaign = personalised(members)
    run = scheduled(campaign)
    dispatch.claim_due_runs()
    dispatch.plan(run.id)
    campaign.refresh_from_db()
    return campaign


def test_pause_stops_claiming_and_resume_goes_on(marketer: Client) -> None:
    campaign = sending()
    response = marketer.post(reverse("campaign_pause", args=[campaign.pk]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert dispatch.claim_dispatches() == []
    marketer.post(reverse("campaign_resume", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert len(dispatch.claim_dispatches()) == 3
    actions = list(
        AuditEvent.objects.filter(object_id=str(campaign.pk)).values_list("action", flat=True)
    )
    assert {"pause", "resume"} <= set(actions)


def test_cancel_drops_the_calls_not_made(marketer: Client) -> None:
    campaign = sending()
    [first] = dispatch.claim_dispatches(1)
    dispatch.send_claimed([first], threads=1)
    marketer.post(reverse("campaign_cancel", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    statuses = list(Dispatch.objects.order_by("seq").values_list("status", flat=True))
    assert statuses == [D.SENT, D.CANCELLED, D.CANCELLED]
    assert campaign.runs.get().status == Run.CANCELLED


def test_a_draft_cannot_be_paused(marketer: Client) -> None:
    campaign = personalised(3)
    page = marketer.post(reverse("campaign_pause", args=[campaign.pk]), follow=True)
    assert "Only a campaign that is sending can be paused." in page.content.decode()


def test_progress_shows_calls_made_and_polls_while_sending(viewer: Client) -> None:
    campaign = sending()
    dispatch.send_claimed(dispatch.claim_dispatches(1), threads=1)
    html = viewer.get(reverse("campaign_progress", args=[campaign.pk])).content.decode()
    assert "1 / 3" in html
    assert 'hx-trigger="every 2s"' in html
    dispatch.send_claimed(dispatch.claim_dispatches(), threads=1)
    html = viewer.get(reverse("campaign_progress", args=[campaign.pk])).content.decode()
    assert "3 / 3" in html
    assert "every 2s" not in html  # done: it stops asking


def test_a_viewer_cannot_pause(viewer: Client) -> None:
    campaign = sending()
    assert viewer.post(reverse("campaign_pause", args=[campaign.pk])).status_code == 403
