"""Delivery results: snapshots of what the provider says became of a run's calls.

A snapshot is taken at each step of ``campaigns.stats.SCHEDULE`` after a run ends; the
newest one of each run is its result, a campaign's result is the sum over its runs (kept
on the campaign, ``Campaign.results``, so lists never add them up), and the snapshots of a
run in order are its arrivals and opens over time.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.dispatch import CampaignRun

# The funnel's counts, in the order a message goes through them. mPaaS reports accepted
# (PushNum), sent (PushSuccessNum), arrived, opened and ignored; EMAS accepted, sent,
# received, opened, deleted and the SMS fallback's counts.
FUNNEL_FIELDS = (
    "accepted",
    "sent",
    "arrived",
    "opened",
    "ignored",
    "deleted",
    "sms_sent",
    "sms_skipped",
    "sms_failed",
    "sms_received",
)


class DeliveryStat(models.Model):
    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(CampaignRun, on_delete=models.CASCADE, related_name="stats")
    taken_at = models.DateTimeField(_("taken"))
    step = models.PositiveSmallIntegerField()  # the step of stats.SCHEDULE it was taken at
    calls_asked = models.PositiveIntegerField(default=0)  # provider calls whose results it sums
    calls_unanswered = models.PositiveIntegerField(default=0)  # their stats queries failed
    accepted = models.PositiveBigIntegerField(_("accepted"), default=0)
    sent = models.PositiveBigIntegerField(_("sent"), default=0)
    arrived = models.PositiveBigIntegerField(_("arrived"), default=0)
    opened = models.PositiveBigIntegerField(_("opened"), default=0)
    ignored = models.PositiveBigIntegerField(_("ignored"), default=0)
    deleted = models.PositiveBigIntegerField(_("deleted"), default=0)
    sms_sent = models.PositiveBigIntegerField(_("SMS sent"), default=0)
    sms_skipped = models.PositiveBigIntegerField(_("SMS not needed"), default=0)
    sms_failed = models.PositiveBigIntegerField(_("SMS failed"), default=0)
    sms_received = models.PositiveBigIntegerField(_("SMS received"), default=0)
    # Where the provider reports them: {"android": {"sent": n, "arrived": n, "opened": n}}.
    by_platform = models.JSONField(default=dict, blank=True)
    by_vendor = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "taken_at", "id"]
        indexes = [models.Index(fields=["run", "-taken_at"], name="stat_newest")]

    def __str__(self) -> str:
        return f"{self.run_id} @ {self.taken_at:%Y-%m-%d %H:%M}"
