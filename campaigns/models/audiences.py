"""Audiences: who receives a campaign — a list of targets, or a rule the provider applies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.apps import MobileApp
from campaigns.models.templates import MessageTemplate


class Audience(models.Model):
    class Kind(models.TextChoices):
        DEVICES = "devices", _("Device IDs")
        USERS = "users", _("User IDs")
        ACCOUNTS = "accounts", _("EMAS accounts")
        ALIASES = "aliases", _("EMAS aliases")
        TAGS = "tags", _("EMAS tag expression")
        BROADCAST = "broadcast", _("Broadcast rule")
        ALL = "all", _("Every device of the app")

    class Platform(models.TextChoices):
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        HARMONY = "harmony", "HarmonyOS"

    class BindStatus(models.IntegerChoices):
        # PushBroadcast's PushStatus (seed 000).
        BOUND = 0, _("devices with a bound user")
        EVERYONE = 1, _("every device")
        UNBOUND = 2, _("devices without a bound user")

    class Period(models.IntegerChoices):
        # PushBroadcast's BindPeriod / UnBindPeriod (seed 000).
        WEEK = 1, _("the last 7 days")
        FORTNIGHT = 2, _("the last 15 days")
        TWO_MONTHS = 3, _("the last 60 days")
        EVER = 4, _("ever")

    # Kinds whose members are stored, one row each.
    LISTED = (Kind.DEVICES, Kind.USERS, Kind.ACCOUNTS, Kind.ALIASES)

    app = models.ForeignKey(
        MobileApp, on_delete=models.PROTECT, related_name="audiences", verbose_name=_("app")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    platform = models.CharField(_("platform"), max_length=8, choices=Platform.choices, blank=True)
    tag_expression = models.TextField(_("tag expression"), blank=True)
    bind_status = models.PositiveSmallIntegerField(
        _("devices"), choices=BindStatus.choices, null=True, blank=True
    )
    bind_period = models.PositiveSmallIntegerField(
        _("active in"), choices=Period.choices, null=True, blank=True
    )
    # The per-target value columns its members carry, and the template they were checked
    # against on import.
    value_columns = models.JSONField(default=list, blank=True)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_count = models.PositiveIntegerField(default=0)  # kept by imports: never COUNT(*)
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["app", "name"]
        verbose_name = _("audience")
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="audience_name_once_per_app")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_listed(self) -> bool:
        return self.kind in self.LISTED


class AudienceMember(models.Model):
    id = models.BigAutoField(primary_key=True)
    # Indexed by the keyset index below. No foreign key constraint in the database: the
    # only writer is the import, one INSERT … SELECT of the audience's own id under a lock
    # on that audience, and on PostgreSQL the constraint's check of a million identical
    # references took 4-7 s of a 1M-row import's 20 s budget. Deleting an audience still
    # deletes its members (Django's on_delete).
    audience = models.ForeignKey(
        Audience,
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,
        db_constraint=False,
    )
    target = models.CharField(max_length=255)
    values = models.JSONField(null=True, blank=True)  # per-target template values
    time_zone = models.CharField(max_length=64, blank=True)
    extended_params = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            # Pattern operators on PostgreSQL let a search by target prefix (LIKE 'abc%')
            # use this index whatever the database's collation; equality is unchanged.
            models.UniqueConstraint(
                fields=["audience", "target"],
                name="member_once_per_audience",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            )
        ]
        indexes = [
            # Browsing members: WHERE audience_id = %s AND id > %s ORDER BY id LIMIT n.
            models.Index(fields=["audience", "id"], name="member_keyset")
        ]

    def __str__(self) -> str:
        return self.target


class AudienceImport(models.Model):
    """One upload or paste of members, imported in the background."""

    class Mode(models.TextChoices):
        APPEND = "append", _("Add to the current members")
        REPLACE = "replace", _("Replace the current members")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("importing")
        SUCCEEDED = "succeeded", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="imports")
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.APPEND)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    source = models.FileField(upload_to="imports/%Y/%m/")
    source_name = models.CharField(max_length=255, blank=True)
    pasted = models.BooleanField(default=False)  # a pasted list: one target a line, no header
    # The file's per-target value columns, and the template they were checked against.
    value_columns = models.JSONField(default=list, blank=True)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size_bytes = models.PositiveBigIntegerField(default=0)
    processed_bytes = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rejected_report = models.FileField(upload_to="imports/rejected/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # the worker's last sign of life
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.audience} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress(self) -> float:
        """Share of the file read, 0 to 1."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        return min(self.processed_bytes / self.size_bytes, 1.0) if self.size_bytes else 0.0
