"""Campaigns: what a marketer wants sent, to whom, with which options and when.

A campaign holds what the composer's form says, close to how the marketer said it: the kind
(which provider action), the audience, the content (direct or a template with values), the
provider options as a flat map of option keys (``campaign_options``) and the schedule.
``campaign_requests`` turns it into provider requests; the provider's request builders are
where the rules live. At approval the campaign freezes a snapshot of its content and
template, so what is sent is what was approved even if the template changes afterwards.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from campaigns.models.apps import MobileApp, validate_time_zone
from campaigns.models.audiences import Audience
from campaigns.models.templates import MessageTemplate


class Campaign(models.Model):
    class Kind(models.TextChoices):
        SIMPLE = "simple", _("Simple push (title and text)")
        TEMPLATE = "template", _("Template push (one set of values)")
        PERSONALISED = "personalised", _("Personalised push (values per target)")
        BROADCAST = "broadcast", _("Broadcast (every device of a platform)")
        EMAS = "emas", _("EMAS push")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    class ScheduleMode(models.TextChoices):
        NOW = "now", _("As soon as it is scheduled")
        AT = "at", _("Once, at a date and time")
        RECURRING = "recurring", _("Repeatedly")

    class Frequency(models.TextChoices):
        DAILY = "daily", _("Every day")
        WEEKLY = "weekly", _("Every week, on chosen days")
        MONTHLY = "monthly", _("Every month, on chosen dates")

    class ScheduleHolder(models.TextChoices):
        PUSHDECK = "pushdeck", _("Pushdeck (can be paused and edited)")
        PROVIDER = "provider", _("The provider (sent by mPaaS or EMAS at its time)")

    # Kinds per provider: a campaign's kind must be one its app's provider offers.
    MPAAS_KINDS = (Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST)
    EMAS_KINDS = (Kind.EMAS,)
    # Statuses in which the composer may still change it.
    EDITABLE = (Status.DRAFT, Status.PENDING_APPROVAL)

    name = models.CharField(_("name"), max_length=200)
    app = models.ForeignKey(
        MobileApp, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("app")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    audience = models.ForeignKey(
        Audience,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("audience"),
    )
    template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("template"),
    )
    title = models.CharField(_("title"), max_length=500, blank=True)
    body = models.TextField(_("text"), blank=True)
    template_values = models.JSONField(_("template values"), default=dict, blank=True)
    # Option key (campaign_options.OPTIONS) -> value as the form cleaned it, JSON-ready.
    options = models.JSONField(default=dict, blank=True)

    schedule_mode = models.CharField(
        _("when"), max_length=10, choices=ScheduleMode.choices, default=ScheduleMode.NOW
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    frequency = models.CharField(_("repeat"), max_length=8, choices=Frequency.choices, blank=True)
    repeat_on = models.JSONField(_("on"), default=list, blank=True)  # weekdays 1-7 or dates 1-31
    time_of_day = models.TimeField(_("at"), null=True, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    recipient_local_time = models.BooleanField(
        _("in each recipient's local time"),
        default=False,
        help_text=_("Each member is sent at this time in their own time zone."),
    )
    schedule_holder = models.CharField(
        _("schedule kept by"),
        max_length=8,
        choices=ScheduleHolder.choices,
        default=ScheduleHolder.PUSHDECK,
    )

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # What was approved: content, template version and options, frozen (None before).
    snapshot = models.JSONField(null=True, blank=True)
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    # Key figures, kept as it goes so history and lists never add up runs: when its first
    # run started sending, and its runs' latest delivery results summed (campaigns.stats).
    first_sent_at = models.DateTimeField(_("first sent"), null=True, blank=True)
    total_targets = models.PositiveBigIntegerField(_("targets"), default=0, db_default=0)
    total_accepted = models.PositiveBigIntegerField(_("accepted"), default=0, db_default=0)
    total_arrived = models.PositiveBigIntegerField(_("arrived"), default=0, db_default=0)
    total_opened = models.PositiveBigIntegerField(_("opened"), default=0, db_default=0)
    results_at = models.DateTimeField(_("results as of"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        indexes = [
            # The list page: newest first, whole or narrowed by status, app or owner.
            models.Index(fields=["-created_at", "-id"], name="campaign_newest"),
            models.Index(fields=["status", "-created_at", "-id"], name="campaign_status_newest"),
            models.Index(fields=["app", "-created_at", "-id"], name="campaign_app_newest"),
            models.Index(fields=["created_by", "-created_at", "-id"], name="campaign_owner_newest"),
            # The list's other sorts: name A-Z (case-insensitive) and recently changed.
            models.Index(Lower("name"), "id", name="campaign_name"),
            models.Index(fields=["-changed_at", "-id"], name="campaign_changed"),
            # History: what went out, newest first (keyset pages), and its totals per month
            # read from the index alone (the key figures ride along).
            models.Index(
                fields=[
                    "-first_sent_at",
                    "-id",
                    "total_targets",
                    "total_accepted",
                    "total_arrived",
                    "total_opened",
                ],
                name="campaign_sent_newest",
                condition=models.Q(first_sent_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def needs_template(self) -> bool:
        """mPaaS template kinds name a template of the provider's store; an EMAS push may
        fill one in itself (EMAS has no store), a simple push never has one."""
        return self.kind in (self.Kind.TEMPLATE, self.Kind.PERSONALISED, self.Kind.BROADCAST)

    @property
    def open_rate(self) -> float | None:
        """Opened of arrived, 0..1; None before anything arrived."""
        return self.total_opened / self.total_arrived if self.total_arrived else None

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)
