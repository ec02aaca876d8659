"""Celery tasks. Each one is thin: it takes primary keys, loads rows and calls a plain
function from the modules beside this one, so the logic is testable without a broker."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from campaigns import audience_import, dispatch, quiet_hours, stats
from campaigns.models import Dispatch, Heartbeat

# A sender keeps claiming for this long, then hands over to a fresh task: no task runs for
# ever, and a worker restart loses at most one sender's leases (they expire and are resent).
SENDER_BUDGET_S = 50.0


@shared_task(ignore_result=True)
def tick() -> None:
    """Beat's one periodic task: records that the scheduler is alive (shown on /healthz and
    the admin's dashboard), sends again the imports whose message seems lost and ends those
    whose worker died; holds back the calls of runs in their app's quiet hours, completes
    provider-held campaigns whose last send has passed and runs whose senders died before
    completing them, fires the runs that are due, wakes the senders while calls wait and the stats
    poller when delivery results are due."""
    Heartbeat.record("tick")
    for import_id in audience_import.waiting_too_long():
        import_audience.delay(import_id)
    audience_import.fail_stalled()
    quiet_hours.hold_calls(now=timezone.now())
    dispatch.finish_provider_held()
    dispatch.finish_idle_runs()
    dispatch_fire_due()
    if Dispatch.objects.filter(dispatch.claimable(timezone.now())).exists():
        dispatch_send.delay()
    if stats.due_runs():
        stats_poll.delay()


@shared_task(ignore_result=True)
def dispatch_fire_due() -> None:
    """Claim the runs that are due and plan each (also enqueued when a campaign is
    scheduled, so "send now" does not wait for the next tick)."""
    with transaction.atomic():
        for run_id in dispatch.claim_due_runs():
            transaction.on_commit(partial(dispatch_plan.delay, run_id))


@shared_task(ignore_result=True)
def dispatch_plan(run_id: int) -> None:
    """Write the dispatches of a run that ``tick`` claimed, then wake a sender. A run with
    nothing to send (its zone has no members left) completes at once."""
    if dispatch.plan(run_id):
        dispatch_send.delay()
    else:
        dispatch.finish_runs({run_id})


@shared_task(ignore_result=True)
def dispatch_send() -> None:
    """Send due dispatches, many calls in flight, for up to SENDER_BUDGET_S; then hand
    over to a fresh task if calls may still wait."""
    if dispatch.send_due(seconds=SENDER_BUDGET_S).more:
        dispatch_send.delay()


@shared_task(ignore_result=True)
def stats_poll() -> None:
    """Ask the providers for the delivery results of the runs whose next poll is due: a
    task of its own, so a slow or failing stats query never holds up sending."""
    stats.poll_due()


@shared_task(ignore_result=True)
def import_audience(import_id: int) -> None:
    """Import the members of one AudienceImport; enqueued once its row is committed."""
    audience_import.run_import(import_id)
