""" "Send now" starts at once and scheduled runs start on time: the chain of nudges from the
click to the sender, and the settings that bound the wait (issue 8, must-show 6).

The timings themselves are measured by tests/bench/bench_latency.py with a real worker and
beat; these tests check the mechanism they rely on, without a broker.
"""

from __future__ import annotations

import shlex
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import approval, dispatch
from campaigns.models import AudienceMember, Campaign, CampaignRun, MobileApp, User
from campaigns.tasks import dispatch_fire_due, dispatch_plan, dispatch_send, tick
from config.celery import app as celery_app
from tests.factories import AudienceFactory, CampaignFactory, MobileAppFactory

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED_START_PROMISE_S = 5.0
# Messages between beat and the first call of a due run: tick, dispatch_plan, dispatch_send
# (tick claims the run itself). Each waits up to one broker polling interval.
BROKER_HOPS = 3
# Claiming, planning, the sender's claim and the call itself on a busy 2-core machine (the
# benchmark saw 0.3 s median for all of it after the click, 0.8 s at worst).
WORK_ALLOWANCE_S = 1.5


def send_now_campaign(**fields: Any) -> Campaign:
    """A simple push to three users, scheduled by nobody yet, that needs no approver."""
    app = MobileAppFactory.create(approval_policy=MobileApp.ApprovalPolicy.NONE)
    audience = AudienceFactory.create(app=app, member_count=3)
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"user{n}") for n in range(3)
    )
    marketer = User.objects.get(username="marketer")
    return CampaignFactory.create(
        app=app, audience=audience, created_by=marketer, changed_by=marketer, **fields
    )


@pytest.mark.django_db
def test_clicking_schedule_on_a_send_now_campaign_wakes_the_engine_once_committed(
    marketer: Client, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    nudges: list[str] = []
    monkeypatch.setattr(dispatch_fire_due, "delay", lambda: nudges.append("fire_due"))
    campaign = send_now_campaign()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        marketer.post(reverse("campaign_schedule", args=[campaign.pk]))
    assert nudges == []  # not before the run is committed: a worker would not see it
    run = CampaignRun.objects.get(campaign=campaign)
    assert run.due_at <= timezone.now()  # due at once, not at the next tick

    for callback in callbacks:
        callback()
    assert nudges == ["fire_due"]


@pytest.mark.django_db
def test_fire_due_claims_the_due_run_and_enqueues_its_planning_once_committed(
    marketer: Client, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[int] = []
    monkeypatch.setattr(dispatch_plan, "delay", planned.append)
    campaign = send_now_campaign()
    approval.schedule(campaign, User.objects.get(username="marketer"))
    run = campaign.runs.get()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatch_fire_due.apply()
    assert planned == []
    run.refresh_from_db()
    assert run.status == CampaignRun.Status.PLANNING

    for callback in callbacks:
        callback()
    assert planned == [run.id]


@pytest.mark.django_db
def test_planning_wakes_a_sender(marketer: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    senders: list[str] = []
    monkeypatch.setattr(dispatch_send, "delay", lambda: senders.append("send"))
    campaign = send_now_campaign()
    approval.schedule(campaign, User.objects.get(username="marketer"))
    run = campaign.runs.get()
    assert dispatch.claim_due_runs() == [run.id]

    dispatch_plan.apply(args=(run.id,))
    assert senders == ["send"]
    assert run.dispatches.count() == 1


@pytest.mark.django_db
def test_a_run_scheduled_for_later_is_left_to_the_tick_that_finds_it_due(
    marketer: Client, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[int] = []
    monkeypatch.setattr(dispatch_plan, "delay", planned.append)
    campaign = send_now_campaign(
        schedule_mode=Campaign.ScheduleMode.AT, send_at=timezone.now() + timedelta(minutes=5)
    )
    approval.schedule(campaign, User.objects.get(username="marketer"))
    run = campaign.runs.get()

    with django_capture_on_commit_callbacks(execute=True):
        tick.apply()
    assert planned == []  # not due yet

    CampaignRun.objects.filter(id=run.id).update(due_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        tick.apply()
    assert planned == [run.id]


def test_beat_ticks_often_enough_for_scheduled_runs_to_start_within_5_s() -> None:
    """A run that comes due just after a tick waits a whole tick period for the next one;
    then the tick's message, the plan's and the sender's each wait up to one polling
    interval of the broker (the filesystem transport looks for messages; Redis pushes them,
    so its interval is 0) and the work itself takes a moment. All of it must fit in the 5 s
    promised: TICK_SECONDS + 3 * polling interval + work ≤ 5 s. (At the former 5 s tick and
    kombu's 1 s polling, the benchmark saw scheduled starts up to 6.5 s late.)"""
    entry = celery_app.conf.beat_schedule["tick"]
    assert entry["task"] == tick.name
    period = float(entry["schedule"])
    assert period == settings.TICK_SECONDS
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    polling = float(options.get("polling_interval", 0.0))
    worst_start = period + BROKER_HOPS * polling + WORK_ALLOWANCE_S
    assert worst_start <= SCHEDULED_START_PROMISE_S


def test_the_filesystem_broker_is_polled_often_enough_for_send_now_within_2_s() -> None:
    """A click sends three messages before the first call (fire_due, plan, send); kombu's
    default of one look a second made that up to 3 s."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("only the filesystem transport polls")
    assert BROKER_HOPS * float(options["polling_interval"]) + WORK_ALLOWANCE_S <= 2.0


def test_the_make_run_worker_consumes_every_queue_tasks_are_routed_to() -> None:
    """A queue nobody consumes holds "send now" for ever: `make run` starts the Procfile's
    worker, which must read the default queue (tick) and the dispatch queue."""
    worker = next(
        shlex.split(command)
        for role, _, command in (
            line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines()
        )
        if role.strip() == "worker"
    )
    queues = set(worker[worker.index("--queues") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert {settings.CELERY_TASK_DEFAULT_QUEUE, *routed} <= queues
    for task in (tick, dispatch_fire_due, dispatch_plan, dispatch_send):
        assert celery_app.amqp.router.route({}, task.name)["queue"].name in queues
