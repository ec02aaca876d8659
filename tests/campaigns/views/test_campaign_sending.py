"""Steering a campaign while it is sent: progress, pause, resume, cancel and recall from its
page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import dispatch
from campaigns.models import AuditEvent, Campaign, CampaignRun, Dispatch
from campaigns.roles import Role
from tests.campaigns.test_dispatch import personalised, scheduled
from tests.factories import make_user

pytestmark = pytest.mark.django_db
Run, D = CampaignRun.Status, Dispatch.Status


def sending(members: int = 250) -> Campaign:
    """A personalised campaign planned into calls of 100 targets, none made yet."""
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
    page = marketer.get(reverse("campaign_detail", args=[campaign.pk]))
    assert "paused its sending" in page.text
    assert "resumed its sending" in page.text


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


def sent(members: int = 150) -> Campaign:
    campaign = sending(members)
    while claimed := dispatch.claim_dispatches():
        dispatch.send_claimed(claimed, threads=1)
    campaign.refresh_from_db()
    return campaign


def test_recall_asks_for_confirmation_in_a_csrf_protected_form(marketer: Client) -> None:
    campaign = sent()
    html = marketer.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    action = reverse("campaign_recall", args=[campaign.pk])
    step = re.search(
        r'<details class="confirm-step"[^>]*>\s*<summary[^>]*>Recall sent messages…</summary>\s*'
        rf'<form method="post" action="{action}"(.*?)</form>',
        html,
        re.DOTALL,
    )
    assert step is not None, "the recall is a second step, as cancelling is"
    assert "csrfmiddlewaretoken" in step[1]
    assert "The mPaaS documents state no time limit for revoking" in step[1]
    assert "Recall the sent messages" in step[1]


def test_recall_revokes_the_sent_calls_and_leaves_an_audit_event(marketer: Client) -> None:
    campaign = sent()
    page = marketer.post(reverse("campaign_recall", args=[campaign.pk]), follow=True)
    html = page.content.decode()
    assert "Recalled 2 of 2 sent calls." in html
    assert "Recall: 2 of 2 calls recalled" in html
    assert set(Dispatch.objects.values_list("recall", flat=True)) == {Dispatch.Recall.RECALLED}
    event = AuditEvent.objects.get(object_id=str(campaign.pk), action="recall")
    assert event.actor_name == "marketer"
    assert event.changes["calls_recalled"] == [None, 2]
    assert "recalled its sent messages" in html  # the history says it in words


def test_recall_only_answers_a_post(marketer: Client) -> None:
    campaign = sent()
    assert marketer.get(reverse("campaign_recall", args=[campaign.pk])).status_code == 405
    assert not Dispatch.objects.exclude(recall="").exists()


def test_recall_without_the_csrf_token_is_refused() -> None:
    campaign = sent()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_user("csrf-less", Role.MARKETER))
    assert browser.post(reverse("campaign_recall", args=[campaign.pk])).status_code == 403
    assert not Dispatch.objects.exclude(recall="").exists()


def test_a_viewer_cannot_recall_nor_sees_the_button(viewer: Client) -> None:
    campaign = sent()
    assert viewer.post(reverse("campaign_recall", args=[campaign.pk])).status_code == 403
    assert not Dispatch.objects.exclude(recall="").exists()
    html = viewer.get(reverse("campaign_progress", args=[campaign.pk])).content.decode()
    assert reverse("campaign_recall", args=[campaign.pk]) not in html


def test_a_recall_with_nothing_sent_says_so(marketer: Client) -> None:
    campaign = sending()
    page = marketer.post(reverse("campaign_recall", args=[campaign.pk]), follow=True)
    assert "Nothing of this campaign has been sent yet" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
