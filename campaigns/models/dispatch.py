"""Sending: a campaign's runs (one per occurrence) and each run's dispatches (one per provider
call). The rows are the truth of what was sent; the broker only carries nudges.

A dispatch keeps the targets of its call and a deterministic idempotency key, so a call that
is made again after a crash (its lease expired) carries the same mPaaS msgKeys or EMAS
IdempotentToken and the provider drops the duplicate.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.campaigns import Campaign


class CampaignRun(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for its time")
        PLANNING = "planning", _("Planning")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    # A run in these statuses may still send; the others are over.
    ACTIVE = (Status.WAITING, Status.PLANNING, Status.SENDING, Status.PAUSED)

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField(_("due"))
    # Recipient-local runs: the members in this zone ("" = the whole audience).
    time_zone = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # Counts kept as the run goes, so progress never scans its dispatches.
    targets = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    calls_sent = models.PositiveIntegerField(default=0)
    calls_failed = models.PositiveIntegerField(default=0)
    targets_sent = models.PositiveIntegerField(default=0)
    targets_failed = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)  # why it failed, in words
    created_at = models.DateTimeField(auto_now_add=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recalled_at = models.DateTimeField(null=True, blank=True)  # its latest recall
    # Delivery results (campaigns.stats): the next step of its polling schedule and when it
    # is due (None: not ended yet, or every step taken), and the last poll's trouble.
    stats_step = models.PositiveSmallIntegerField(default=0, db_default=0)
    stats_due_at = models.DateTimeField(null=True, blank=True)
    stats_error = models.TextField(blank=True, default="", db_default="")
    stats_retries = models.PositiveSmallIntegerField(default=0, db_default=0)  # of this step

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "due_at", "time_zone"], name="run_once_per_time"
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="run_due"),
            models.Index(
                fields=["stats_due_at"],
                name="run_stats_due",
                condition=models.Q(stats_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} @ {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def calls_done(self) -> int:
        return self.calls_sent + self.calls_failed


class Dispatch(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Recall(models.TextChoices):
        NONE = "", _("Not recalled")
        RECALLED = "recalled", _("Recalled")
        REFUSED = "refused", _("Recall refused")

    DONE = (Status.SENT, Status.FAILED, Status.CANCELLED)

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(CampaignRun, on_delete=models.CASCADE, related_name="dispatches")
    seq = models.PositiveIntegerField()  # the call's number in its run, from 1
    # [[target, {template values}, {extended params}], ...] as planned: later audience
    # changes do not change a planned call.
    targets = models.JSONField()
    target_count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)  # the claiming sender's token
    request_id = models.CharField(max_length=64, blank=True)
    result_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    provider_id = models.CharField(max_length=64, blank=True)  # mPaaS task id, EMAS MessageId
    sent_at = models.DateTimeField(null=True, blank=True)
    # A recall of the sent call (campaigns.run_controls.recall): done, or refused with the
    # provider's code and words. Database defaults too: planning inserts rows in raw SQL.
    recall = models.CharField(
        max_length=10, choices=Recall.choices, blank=True, default="", db_default=""
    )
    recall_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    recall_message = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="dispatch_once")]
        indexes = [
            # Claiming: what is due, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="dispatch_due"),
            models.Index(fields=["lease_owner"], name="dispatch_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq}"
