"""The sandbox gateway's state: what it accepted (the ledger), its schedules, its settings.

The ledger has one row per (app, message key): a message key sent again is not delivered
again (``attempts`` counts the tries), which is the idempotency the dispatch engine relies
on. What becomes of a message — when it arrives, is opened or deleted, or falls back to
SMS — is not stored: ``campaigns.sandbox.delivery`` derives it from the push's seed and
delivery settings.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class SandboxPush(models.Model):
    """One accepted push call: a task (mPaaS) or a message (EMAS)."""

    class Provider(models.TextChoices):
        MPAAS = "mpaas", "mPaaS"
        EMAS = "emas", "EMAS"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")
        REVOKED = "revoked", _("revoked")
        FINISHED = "finished", _("finished")  # a recurring schedule whose last time has come

    provider = models.CharField(max_length=8, choices=Provider.choices)
    app = models.CharField(max_length=80, help_text="mPaaS appId:workspaceId, or EMAS AppKey")
    action = models.CharField(max_length=40)
    task_id = models.CharField(max_length=64, unique=True)  # mPaaS task id / EMAS MessageId
    request_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    task_name = models.CharField(max_length=200, blank=True, default="")
    template_name = models.CharField(max_length=200, blank=True, default="")
    title = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")
    delivery_type = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    strategy_type = models.PositiveSmallIntegerField(default=0)
    strategy_content = models.JSONField(null=True, blank=True)
    fires_at = models.DateTimeField(null=True, blank=True)  # provider-held schedule
    revoked_at = models.DateTimeField(null=True, blank=True)  # simulated time of the revoke
    accepted_at = models.DateTimeField()
    target_count = models.PositiveIntegerField(default=0)
    seed = models.BigIntegerField(default=0)  # the simulation's seed when it was accepted
    # How its messages travel (campaigns.sandbox.delivery.Delivery).
    expires_after_s = models.FloatField(default=72 * 3600.0)
    sms_delay_s = models.FloatField(null=True, blank=True)  # SMS fallback after this long
    sms_unless_opened = models.BooleanField(default=False)  # also SMS the unopened
    device_type = models.CharField(max_length=8, blank=True, default="")  # only this platform
    params = models.JSONField(default=dict)  # the call's parameters, for the inbox and tests
    # One sending of a recurring push (strategyType 2): the recurring push itself is the
    # schedule, and never delivers its own rows.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="occurrences"
    )

    class Meta:
        indexes = [
            models.Index(fields=["provider", "app", "idempotency_key"]),
            models.Index(fields=["provider", "app", "status", "fires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.task_id}"

    @property
    def sent_at(self) -> datetime | None:
        """When the push went out: its schedule's time once fired, else when accepted;
        None while it waits for its schedule, after it was cancelled, and for a recurring
        schedule (its occurrences are sent)."""
        if self.status in (self.Status.SCHEDULED, self.Status.CANCELLED, self.Status.FINISHED):
            return None
        return self.fires_at or self.accepted_at


class SandboxMessage(models.Model):
    """One target of an accepted push: what was sent to whom, and when."""

    push = models.ForeignKey(SandboxPush, on_delete=models.CASCADE, related_name="messages")
    app = models.CharField(max_length=80)
    msg_key = models.CharField(max_length=128)
    target = models.CharField(max_length=255)
    title = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")
    accepted_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=1)
    # RevokePushMessage: seconds after sending when this message was withdrawn.
    revoked_after_s = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "msg_key"], name="sandbox_message_once")
        ]
        # No index by target: keeping one up to date was a seventh of the sandbox's CPU per
        # PushMultiple, and only the inbox looks a device up (a scan of the app's rows,
        # quick at demo sizes).

    def __str__(self) -> str:
        return f"{self.target} {self.msg_key}"


class SandboxTemplate(models.Model):
    """A template in the sandbox's mPaaS template store (CreateTemplate and friends)."""

    app = models.CharField(max_length=80)
    template_id = models.CharField(max_length=24)
    name = models.CharField(max_length=200)
    title = models.TextField()
    content = models.TextField()
    desc_info = models.TextField(blank=True, default="")
    push_style = models.CharField(max_length=4, default="0")
    show_style = models.CharField(max_length=4, default="0")
    jump_action = models.CharField(max_length=4, default="0")
    uri = models.TextField(blank=True, default="")
    icon_urls = models.TextField(blank=True, default="")
    image_urls = models.TextField(blank=True, default="")
    variables = models.TextField(blank=True, default="")
    created = models.CharField(max_length=19)  # "YYYY-MM-DD HH:MM:SS", as the API shows it
    modified = models.CharField(max_length=19)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="sandbox_template_name_once")
        ]

    def __str__(self) -> str:
        return self.name

    def as_data(self) -> dict[str, str]:
        return {
            "Id": self.template_id,
            "Name": self.name,
            "Title": self.title,
            "Content": self.content,
            "DescInfo": self.desc_info,
            "PushStyle": self.push_style,
            "ShowStyle": self.show_style,
            "Action": self.jump_action,
            "Uri": self.uri,
            "IconUrls": self.icon_urls,
            "ImageUrls": self.image_urls,
            "Variables": self.variables,
            "GmtCreate": self.created,
            "GmtModified": self.modified,
        }


class SandboxSettings(models.Model):
    """One row: the faults the gateway injects, the seed of its simulation and how far its
    simulated clock runs ahead of the real one. Changed at run time by the control page or
    the API, read by every sandbox process (cached for about a second)."""

    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0)  # share of calls answered with a 5xx
    throttle_rate = models.FloatField(default=0.0)  # share answered Throttling + retry-after
    timeout_rate = models.FloatField(default=0.0)  # share that hang past the client timeout
    drop_rate = models.FloatField(default=0.0)  # share whose connection is closed unanswered
    seed = models.BigIntegerField(default=0)
    clock_offset_s = models.FloatField(default=0.0)  # simulated time = real time + this
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sandbox settings"

    def __str__(self) -> str:
        return "sandbox settings"
