"""manage.py dispatch_status: what the dispatch engine holds now — runs by status, calls by
status, leases held and expired, and runs that look stuck."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from campaigns.models import CampaignRun, Dispatch

STUCK_AFTER = timedelta(minutes=5)


class Command(BaseCommand):
    help = "Show the dispatch engine's runs, calls, leases and stuck runs."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        runs = dict(CampaignRun.objects.values_list("status").annotate(n=Count("id")))
        calls = dict(Dispatch.objects.values_list("status").annotate(n=Count("id")))
        sending = Dispatch.objects.filter(status=Dispatch.Status.SENDING)
        self.stdout.write("runs:  " + _counts(runs, CampaignRun.Status.values))
        self.stdout.write("calls: " + _counts(calls, Dispatch.Status.values))
        self.stdout.write(
            f"leases: {sending.filter(lease_expires_at__gte=now).count()} held, "
            f"{sending.filter(lease_expires_at__lt=now).count()} expired (sent again soon)"
        )
        due = Dispatch.objects.filter(
            status=Dispatch.Status.PENDING,
            next_attempt_at__lte=now,
            run__status=CampaignRun.Status.SENDING,
        ).count()
        self.stdout.write(f"due now: {due} calls")
        stuck = CampaignRun.objects.filter(
            status__in=(CampaignRun.Status.WAITING, CampaignRun.Status.PLANNING),
            due_at__lt=now - STUCK_AFTER,
        ).select_related("campaign")
        for run in stuck:
            since = f"{run.due_at:%Y-%m-%d %H:%M} UTC"
            self.stdout.write(
                f"stuck: run {run.id} of “{run.campaign}” is {run.status} since {since}"
                " (is the worker or beat running? `manage.py redrive_run` plans it again)"
            )


def _counts(counts: dict[str, int], order: list[str]) -> str:
    return ", ".join(f"{status} {counts.get(status, 0)}" for status in order)
