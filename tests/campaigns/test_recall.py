"""Recalling a campaign through the in-process sandbox: sending stops as with cancel, every
sent call is revoked at mPaaS (RevokePushTask, or RevokePushMessage per msgKey for a call
whose sender died), each outcome is kept on its dispatch, and the page says how it went."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import dispatch, run_controls
from campaigns.approval import TransitionRefused
from campaigns.models import (
    Audience,
    Campaign,
    CampaignRun,
    Dispatch,
    SandboxMessage,
    SandboxPush,
)
from campaigns.providers.base import ProviderResponse
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import MpaasClient
from campaigns.ratelimit import limiter
from campaigns.sandbox import control
from campaigns.sandbox.registry import APPS
from tests.campaigns.test_dispatch import ledger, send_everything
from tests.campaigns.views.test_campaign_sending import sending
from tests.factories import AudienceFactory, CampaignFactory, EmasAppFactory

pytestmark = pytest.mark.django_db
D, Run, R = Dispatch.Status, CampaignRun.Status, Dispatch.Recall
SANDBOX_APP = next(iter(APPS))  # the demo mPaaS app the factories point at


@pytest.fixture(autouse=True)
def sandbox_without_faults() -> Iterator[None]:
    control.forget_cache()
    yield
    control.forget_cache()


def send_calls(count: int) -> None:
    dispatch.send_claimed(dispatch.claim_dispatches(count), threads=1)


def pushes(campaign: Campaign) -> dict[str, str]:
    """The sandbox's pushes of the campaign's calls: task id -> status."""
    task_ids = Dispatch.objects.filter(run__campaign=campaign).values_list("provider_id", flat=True)
    return dict(
        SandboxPush.objects.filter(task_id__in=list(task_ids)).values_list("task_id", "status")
    )


def progress(client: Client, campaign: Campaign) -> str:
    return client.get(reverse("campaign_progress", args=[campaign.pk])).content.decode()


def test_a_recall_revokes_every_sent_call_and_the_phones_no_longer_show_it(
    marketer: Client,
) -> None:
    campaign = sending(150)
    send_everything()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    control.advance_clock(timedelta(hours=7).total_seconds())  # long enough to arrive
    inbox = f"{reverse('sandbox_inbox')}?app={SANDBOX_APP}"
    assert "Hi N" in marketer.get(inbox).content.decode()

    changes = run_controls.recall(campaign)

    assert changes["calls_recalled"] == [None, 2]
    assert changes["calls_refused"] == [None, 0]
    assert "status" not in changes  # a completed campaign stays completed
    assert set(pushes(campaign).values()) == {SandboxPush.Status.REVOKED}
    assert list(Dispatch.objects.values_list("recall", flat=True)) == [R.RECALLED] * 2
    assert campaign.runs.get().recalled_at is not None
    assert "Hi N" not in marketer.get(inbox).content.decode()
    html = progress(marketer, campaign)
    assert "Recall: 2 of 2 calls recalled" in html
    assert reverse("campaign_recall", args=[campaign.pk]) not in html  # nothing left to recall


def test_a_recall_while_paused_mid_run_stops_sending_for_good() -> None:
    campaign = sending(250)
    send_calls(1)
    run_controls.pause(campaign)

    changes = run_controls.recall(campaign)

    assert changes["status"] == [Campaign.Status.PAUSED, Campaign.Status.CANCELLED]
    assert changes["calls_cancelled"] == [None, 2]
    assert changes["calls_recalled"] == [None, 1]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    assert campaign.runs.get().status == Run.CANCELLED
    statuses = list(Dispatch.objects.order_by("seq").values_list("status", "recall"))
    assert statuses == [(D.SENT, R.RECALLED), (D.CANCELLED, R.NONE), (D.CANCELLED, R.NONE)]
    send_everything()
    assert dispatch.claim_dispatches() == []
    assert len(ledger(campaign)) == 100  # nothing more went out after the recall
    assert set(pushes(campaign).values()) == {SandboxPush.Status.REVOKED}


def test_a_call_in_flight_during_the_recall_is_shown_and_revoked_by_the_next_recall(
    monkeypatch: pytest.MonkeyPatch, marketer: Client
) -> None:
    campaign = sending(150)
    recalls: list[dict[str, Any]] = []
    real_call = MpaasClient.call

    def call_then_recall(client: MpaasClient, request: Any, **kwargs: Any) -> ProviderResponse:
        answer = real_call(client, request, **kwargs)
        if request.action == "PushMultiple" and not recalls:
            # The provider has the push; its answer is still on the way when Recall is pressed.
            recalls.append(run_controls.recall(campaign, wait_s=0))
        return answer

    monkeypatch.setattr(MpaasClient, "call", call_then_recall)
    send_calls(1)
    [first] = recalls
    assert first["calls_in_flight"] == [None, 1]
    assert first["calls_recalled"] == [None, 0]
    sent = Dispatch.objects.get(seq=1)
    assert (sent.status, sent.recall) == (D.SENT, R.NONE)  # recorded after the recall
    assert set(pushes(campaign).values()) == {SandboxPush.Status.SENT}
    html = progress(marketer, campaign)
    assert "1 sent call is not recalled yet" in html
    assert reverse("campaign_recall", args=[campaign.pk]) in html  # offered again

    second = run_controls.recall(campaign)

    assert second["calls_recalled"] == [None, 1]
    assert set(pushes(campaign).values()) == {SandboxPush.Status.REVOKED}
    assert Dispatch.objects.filter(status=D.SENT).count() == 1  # the second call never went


def test_a_call_whose_sender_died_is_revoked_by_its_message_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = sending(150)
    real_call = MpaasClient.call

    def call_then_die(client: MpaasClient, request: Any, **kwargs: Any) -> ProviderResponse:
        real_call(client, request, **kwargs)
        raise SystemExit("the worker was killed before it recorded the answer")

    [claimed] = dispatch.claim_dispatches(1)
    monkeypatch.setattr(MpaasClient, "call", call_then_die)
    with pytest.raises(SystemExit):
        dispatch.send(claimed)
    monkeypatch.undo()
    Dispatch.objects.filter(id=claimed).update(lease_expires_at=timezone.now() - timedelta(1))

    changes = run_controls.recall(campaign)

    assert changes["calls_recalled"] == [None, 1]
    lost = Dispatch.objects.get(id=claimed)
    assert (lost.status, lost.recall) == (D.SENDING, R.RECALLED)
    revoked = SandboxMessage.objects.filter(revoked_after_s__isnull=False).count()
    assert revoked == SandboxMessage.objects.count() == 100


def test_a_refusal_is_kept_with_the_providers_code_and_message(marketer: Client) -> None:
    campaign = sending(150)
    send_calls(1)
    control.advance_clock(timedelta(hours=25).total_seconds())  # past the sandbox's window
    send_calls(1)
    campaign.refresh_from_db()

    changes = run_controls.recall(campaign)

    assert (changes["calls_recalled"], changes["calls_refused"]) == ([None, 1], [None, 1])
    late = Dispatch.objects.get(seq=1)
    assert (late.recall, late.recall_code) == (R.REFUSED, "REVOKE_EXPIRED")
    assert "was sent over 24 h ago" in late.recall_message
    html = progress(marketer, campaign)
    assert "Recall: 1 of 2 calls recalled; 1 refused:" in html
    assert "<code>REVOKE_EXPIRED</code>" in html
    assert late.recall_message in html


def test_every_revoke_takes_a_token_of_the_apps_rate_limiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = sending(250)
    send_everything()
    campaign.refresh_from_db()
    grants: list[tuple[str, float]] = []

    class NoRoomAfterTwo:
        def acquire(self, key: str, rate: float, **kwargs: Any) -> bool:
            grants.append((key, rate))
            return len(grants) <= 2

        def penalise(self, key: str, seconds: float) -> None:
            raise AssertionError("the sandbox did not throttle")

    monkeypatch.setattr(run_controls, "limiter", NoRoomAfterTwo)
    changes = run_controls.recall(campaign)

    bucket = f"app:{campaign.app_id}"
    assert grants == [(bucket, campaign.app.rate_limit)] * 3
    assert (changes["calls_recalled"], changes["calls_left"]) == ([None, 2], [None, 1])
    assert sorted(pushes(campaign).values()) == ["revoked", "revoked", "sent"]
    assert run_controls.recall_summary(campaign).not_recalled == 1


def test_a_provider_that_asks_to_wait_gets_the_app_limiter_penalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = sending(50)
    send_everything()
    campaign.refresh_from_db()
    penalties: list[tuple[str, float]] = []

    def throttled(client: MpaasClient, app: Any, task_id: str) -> str:
        raise ProviderError("slow down", permanent=False, code="Throttling", retry_after=3.0)

    monkeypatch.setattr(MpaasClient, "revoke_task", throttled)
    monkeypatch.setattr(
        type(limiter()), "penalise", lambda self, key, s: penalties.append((key, s))
    )
    changes = run_controls.recall(campaign)

    assert changes["calls_refused"] == [None, 1]
    assert penalties == [(f"app:{campaign.app_id}", 3.0)]
    assert Dispatch.objects.get().recall_code == "Throttling"
    assert run_controls.recall_refusal(campaign) is None  # a refused call may be asked again


def test_emas_campaigns_cannot_be_recalled_and_the_page_says_why(marketer: Client) -> None:
    app = EmasAppFactory.create()
    audience = AudienceFactory.create(app=app, kind=Audience.Kind.DEVICES)
    campaign = CampaignFactory.create(
        app=app, audience=audience, kind=Campaign.Kind.EMAS, status=Campaign.Status.COMPLETED
    )
    run = CampaignRun.objects.create(
        campaign=campaign, due_at=timezone.now(), status=Run.COMPLETED, calls=1, calls_sent=1
    )
    Dispatch.objects.create(
        run=run,
        seq=1,
        targets=[["device-1", {}, {}]],
        target_count=1,
        status=D.SENT,
        next_attempt_at=timezone.now(),
        provider_id="500131",
    )

    with pytest.raises(TransitionRefused) as refused:
        run_controls.recall(campaign)

    assert "EMAS Push (API 2016-08-01) has no call that withdraws a push" in refused.value.message
    html = progress(marketer, campaign)
    assert "These messages cannot be recalled." in html
    assert "only stops a push whose scheduled time has not come yet" in html
    assert reverse("campaign_recall", args=[campaign.pk]) not in html


def test_a_campaign_with_nothing_sent_has_nothing_to_recall() -> None:
    campaign = sending(50)
    with pytest.raises(TransitionRefused) as refused:
        run_controls.recall(campaign)
    assert refused.value.message == (
        "Nothing of this campaign has been sent yet, so there is nothing to recall."
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING  # refused: nothing was stopped
