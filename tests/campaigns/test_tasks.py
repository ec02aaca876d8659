from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from campaigns import dispatch
from campaigns.models import Heartbeat
from campaigns.tasks import dispatch_plan, dispatch_send, tick
from config.celery import app as celery_app


@pytest.mark.django_db
def test_tick_records_that_the_scheduler_is_alive() -> None:
    assert Heartbeat.age("tick") is None
    tick.apply()
    age = Heartbeat.age("tick")
    assert age is not None
    assert age.total_seconds() < 5


def test_beat_holds_only_the_periodic_tick() -> None:
    assert set(celery_app.conf.beat_schedule) == {"tick"}
    entry = celery_app.conf.beat_schedule["tick"]
    assert entry["task"] == tick.name
    assert entry["schedule"] == settings.TICK_SECONDS


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("campaigns.tasks.dispatch_run", "dispatch"),
        ("campaigns.tasks.stats_poll", "stats"),
        ("campaigns.tasks.tick", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task_name: str, queue: str) -> None:
    route = celery_app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue


def test_only_json_crosses_the_broker() -> None:
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


@pytest.mark.django_db
def test_tick_fires_a_due_run_and_the_senders_send_it(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.campaigns.test_dispatch import ledger, personalised, scheduled

    nudges: list[str] = []
    monkeypatch.setattr(dispatch_send, "delay", lambda: nudges.append("send"))
    monkeypatch.setattr(dispatch, "THREADS", 1)  # the test database is one connection
    campaign = personalised(30)
    run = scheduled(campaign)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tick.apply()
    assert len(callbacks) == 1  # plan the run once it is committed
    run.refresh_from_db()
    assert run.status == "planning"
    dispatch_plan.apply(args=(run.id,))
    assert nudges == ["send"]  # planned: a sender is woken
    dispatch_send.apply()
    run.refresh_from_db()
    assert run.status == "completed"
    assert sorted(ledger(campaign)) == sorted(f"user{n}" for n in range(30))
