"""manage.py redrive_run RUN_ID: send a run's failed calls again (with their same keys, so
the provider drops what it already has), or plan again a run stuck before planning."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun, Dispatch


class Command(BaseCommand):
    help = "Send a run's failed calls again, or plan again a run stuck before planning."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int)

    def handle(self, *args: Any, run_id: int, **options: Any) -> None:
        with transaction.atomic():
            run = CampaignRun.objects.select_for_update().filter(id=run_id).first()
            if run is None:
                raise CommandError(f"There is no run {run_id}.")
            if run.status == CampaignRun.Status.PLANNING:
                run.status = CampaignRun.Status.WAITING  # the next tick plans it
                run.save(update_fields=["status"])
                self.stdout.write(f"Run {run_id} will be planned at the next tick.")
                return
            failed = run.dispatches.filter(status=Dispatch.Status.FAILED)
            targets = sum(failed.values_list("target_count", flat=True))
            again = failed.update(
                status=Dispatch.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
            )
            if again:
                run.calls_failed -= again
                run.targets_failed -= targets
                run.status = CampaignRun.Status.SENDING
                run.finished_at = None
                run.save()
                Campaign.objects.filter(
                    id=run.campaign_id,
                    status__in=(Campaign.Status.COMPLETED, Campaign.Status.SCHEDULED),
                ).update(status=Campaign.Status.RUNNING)
        self.stdout.write(f"Run {run_id}: {again} failed calls will be sent again.")
