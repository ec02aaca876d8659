"""Celery tasks. Each one is thin: it takes primary keys, loads rows and calls a plain
function from the modules beside this one, so the logic is testable without a broker."""

from __future__ import annotations

from celery import shared_task

from campaigns import audience_import
from campaigns.models import Heartbeat


@shared_task(ignore_result=True)
def tick() -> None:
    """Beat's one periodic task: records that the scheduler is alive (shown on /healthz and
    the admin's dashboard), sends again the imports whose message seems lost and ends those
    whose worker died; the dispatch engine will claim due runs here."""
    Heartbeat.record("tick")
    for import_id in audience_import.waiting_too_long():
        import_audience.delay(import_id)
    audience_import.fail_stalled()


@shared_task(ignore_result=True)
def import_audience(import_id: int) -> None:
    """Import the members of one AudienceImport; enqueued once its row is committed."""
    audience_import.run_import(import_id)
