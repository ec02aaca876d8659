"""Delivery results: after a run ends, Pushdeck asks the provider (here the in-process
sandbox) what became of its calls at each step of the schedule, and what it keeps equals
what the sandbox's ledger says happened to the same messages at that time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from campaigns import approval, dispatch, stats
from campaigns.models import (
    Audience,
    AudienceMember,
    Campaign,
    CampaignRun,
    DeliveryStat,
    SandboxMessage,
)
from campaigns.providers.errors import ProviderError
from campaigns.roles import Role
from campaigns.sandbox import control
from campaigns.sandbox.delivery import fate_of
from campaigns.sandbox.emas_stats import push_time
from campaigns.sandbox.registry import emas_device_id
from tests.campaigns.test_dispatch import personalised, send_everything
from tests.factories import AudienceFactory, CampaignFactory, EmasAppFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox_clock() -> Iterator[None]:
    control.forget_cache()
    control.update(error_rate=0.0, throttle_rate=0.0, clock_offset_s=0.0)
    yield
    control.update(error_rate=0.0, throttle_rate=0.0, clock_offset_s=0.0)
    control.forget_cache()


def sent(campaign: Campaign) -> CampaignRun:
    approval.schedule(campaign, make_user("sender", Role.MARKETER))
    run = campaign.runs.get()
    assert dispatch.plan(dispatch.claim_due_runs()[0])
    send_everything()
    dispatch.finish_runs({run.id})
    run.refresh_from_db()
    assert run.status == CampaignRun.Status.COMPLETED
    return run


def an_emas_campaign(devices: int) -> Campaign:
    app = EmasAppFactory.create(rate_limit=1000)
    audience = AudienceFactory.create(app=app, kind=Audience.Kind.DEVICES, member_count=devices)
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=emas_device_id(n)) for n in range(devices)
    )
    return CampaignFactory.create(
        app=app,
        audience=audience,
        kind=Campaign.Kind.EMAS,
        title="Sale",
        body="Half price today",
        options={"device_type": "ANDROID"},
    )


def ledger_funnel(campaign: Campaign, *, emas: bool) -> dict[str, int]:
    """What the sandbox's ledger says became of the campaign's messages by the sandbox's
    current time: every accepted row, and its fate by then."""
    now = control.simulated_now()
    rows = SandboxMessage.objects.filter(
        push__provider="emas" if emas else "mpaas",
        push__app__startswith=campaign.app.emas_app_key_android
        if emas
        else campaign.app.mpaas_app_id,
    ).select_related("push")
    counts = {"accepted": 0, "arrived": 0, "opened": 0}
    for message in rows:
        start = push_time(message.push) if emas else message.push.sent_at
        assert start is not None
        arrived, opened, _, _ = fate_of(message).by((now - start).total_seconds())
        counts["accepted"] += 1
        counts["arrived"] += arrived
        counts["opened"] += opened
    return counts


def later(seconds: float) -> datetime:
    control.advance_clock(seconds)
    return control.simulated_now()


def snapshot_funnel(stat: DeliveryStat) -> dict[str, int]:
    return {"accepted": stat.accepted, "arrived": stat.arrived, "opened": stat.opened}


def test_results_equal_the_sandbox_ledger_at_each_step_and_polling_stops_after_the_last() -> None:
    campaign = personalised(150)
    run = sent(campaign)
    assert run.finished_at is not None
    assert run.stats_due_at == run.finished_at + stats.SCHEDULE[0]
    assert stats.poll_due() == 0  # nothing asked before the first step

    later(90)
    first = stats.poll_run(run.id)
    assert first is not None
    assert first.step == 0
    assert snapshot_funnel(first) == ledger_funnel(campaign, emas=False)
    assert first.accepted == 150
    assert first.calls_asked == 2

    later(3 * 3600)  # the 5 min, 15 min and 1 h steps are all due: one poll, as the last
    assert stats.poll_due() == 1
    second = DeliveryStat.objects.filter(run=run).latest("taken_at")
    assert second.step == 3
    assert snapshot_funnel(second) == ledger_funnel(campaign, emas=False)
    assert first.arrived <= second.arrived <= second.accepted
    assert second.opened >= first.opened
    assert second.opened > 0

    campaign.refresh_from_db()
    assert (campaign.total_accepted, campaign.total_arrived, campaign.total_opened) == (
        second.accepted,
        second.arrived,
        second.opened,
    )
    assert campaign.total_targets == 150
    assert campaign.first_sent_at == run.started_at

    later(80 * 3600)
    assert stats.poll_due() == 1
    last = DeliveryStat.objects.filter(run=run).latest("taken_at")
    assert last.step == len(stats.SCHEDULE) - 1
    assert snapshot_funnel(last) == ledger_funnel(campaign, emas=False)
    run.refresh_from_db()
    assert run.stats_due_at is None
    assert run.stats_step == len(stats.SCHEDULE)

    later(30 * 24 * 3600)
    assert stats.poll_due() == 0
    assert stats.poll_run(run.id) is None
    assert DeliveryStat.objects.filter(run=run).count() == 3


def test_a_small_mpaas_run_gets_its_platform_and_vendor_split() -> None:
    campaign = personalised(30)
    run = sent(campaign)
    later(7200)
    stat = stats.poll_run(run.id)
    assert stat is not None
    assert set(stat.by_platform) <= set(stats.MPAAS_PLATFORMS)
    assert stat.by_platform
    assert sum(each["arrived"] for each in stat.by_platform.values()) == stat.arrived
    assert sum(each["arrived"] for each in stat.by_vendor.values()) == stat.arrived


def test_emas_results_equal_the_ledger_and_come_by_platform() -> None:
    campaign = an_emas_campaign(120)
    run = sent(campaign)
    later(6 * 3600)
    stat = stats.poll_run(run.id)
    assert stat is not None
    assert snapshot_funnel(stat) == ledger_funnel(campaign, emas=True)
    assert stat.sent > 0
    assert stat.by_platform["android"]["arrived"] == stat.arrived


def test_a_failing_stats_query_is_retried_and_never_writes_a_partial_funnel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = personalised(150)
    run = sent(campaign)
    later(120)
    real = stats._ask_mpaas
    calls = {"n": 0}

    def flaky(client, run, asked, *, now):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            real(client, run, asked, now=now)
            asked.failed(ProviderError("Service unavailable", permanent=False, code="5xx"))
            return
        real(client, run, asked, now=now)

    monkeypatch.setattr(stats, "_ask_mpaas", flaky)
    assert stats.poll_run(run.id) is None
    run.refresh_from_db()
    assert not DeliveryStat.objects.filter(run=run).exists()
    assert run.stats_error == "Service unavailable (5xx)"
    assert run.stats_retries == 1
    assert run.stats_due_at is not None
    assert stats.poll_run(run.id) is None  # not due yet: retried after RETRY_AFTER

    later(stats.RETRY_AFTER.total_seconds())
    assert stats.poll_run(run.id) is not None
    run.refresh_from_db()
    assert run.stats_error == ""
    assert run.stats_retries == 0


def test_two_pollers_never_ask_about_the_same_run_at_once() -> None:
    run = sent(personalised(10))
    later(120)
    claimed = stats._claim(run.id, None)
    assert claimed is not None
    assert stats._claim(run.id, None) is None  # leased by the first


def test_a_run_cancelled_after_some_calls_still_gets_its_results() -> None:
    campaign = personalised(250, schedule_mode=Campaign.ScheduleMode.NOW)
    approval.schedule(campaign, make_user("sender", Role.MARKETER))
    run = campaign.runs.get()
    dispatch.plan(dispatch.claim_due_runs()[0])
    dispatch.send_claimed(dispatch.claim_dispatches(limit=1), threads=1)
    from campaigns import run_controls

    campaign.refresh_from_db()
    run_controls.cancel(campaign)
    run.refresh_from_db()
    assert run.status == CampaignRun.Status.CANCELLED
    assert run.stats_due_at is not None
    later(120)
    stat = stats.poll_run(run.id)
    assert stat is not None
    assert stat.accepted == 100


def test_stats_polling_is_its_own_task_woken_by_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    from campaigns import tasks

    woken: list[str] = []
    monkeypatch.setattr(tasks.dispatch_send, "delay", lambda: woken.append("send"))
    monkeypatch.setattr(tasks.stats_poll, "delay", lambda: woken.append("stats"))
    monkeypatch.setattr(tasks.dispatch_plan, "delay", lambda run_id: woken.append("plan"))
    run = sent(personalised(5))
    tasks.tick()
    assert "stats" not in woken
    CampaignRun.objects.filter(id=run.id).update(stats_due_at=timezone.now() - timedelta(1))
    tasks.tick()
    assert "stats" in woken
