"""A mobile app at one provider, with the keys Pushdeck calls it with."""

from __future__ import annotations

from datetime import time
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.encryption import EncryptedTextField, Secret

SANDBOX_ENDPOINT = "sandbox"  # the built-in sandbox gateway, served by this process

# The providers' public endpoints by region (the seeds' examples use cn-hangzhou).
MPAAS_REGION_ENDPOINTS = {
    "cn-hangzhou": "https://mpaas.cn-hangzhou.aliyuncs.com/",
    "cn-shanghai": "https://mpaas.cn-shanghai.aliyuncs.com/",
}
EMAS_REGION_ENDPOINTS = {
    "cn-hangzhou": "https://cloudpush.aliyuncs.com/",
}


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Asia/Shanghai."), params={"value": value}
        )


@cache
def _time_zones() -> set[str]:
    return available_timezones()


class MobileApp(models.Model):
    class Provider(models.TextChoices):
        MPAAS = "mpaas", "mPaaS Message Push"
        EMAS = "emas", "EMAS Mobile Push"

    class SignatureVersion(models.TextChoices):
        V3 = "v3", _("ACS3-HMAC-SHA256 (V3, recommended)")
        V1 = "v1", _("HMAC-SHA1 (V1)")

    class QuietHoursZone(models.TextChoices):
        APP = "app", _("the app's time zone")
        RECIPIENT = "recipient", _("each recipient's time zone")

    class ApprovalPolicy(models.TextChoices):
        NONE = "none", _("No approval needed")
        BROAD = "broad", _("Broadcasts, tag and all-device pushes need an approver")
        ALL = "all", _("Every campaign needs an approver")

    name = models.CharField(_("name"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    endpoint = models.CharField(
        _("endpoint"),
        max_length=200,
        default=SANDBOX_ENDPOINT,
        help_text=_("A region's host, the built-in sandbox, or a custom URL."),
    )
    mpaas_app_id = models.CharField(_("mPaaS appId"), max_length=64, blank=True)
    mpaas_workspace_id = models.CharField(_("mPaaS workspaceId"), max_length=64, blank=True)
    mpaas_tenant_id = models.CharField(_("mPaaS tenantId"), max_length=64, blank=True)
    emas_app_key_android = models.CharField(_("EMAS AppKey (Android)"), max_length=32, blank=True)
    emas_app_key_ios = models.CharField(_("EMAS AppKey (iOS)"), max_length=32, blank=True)
    emas_app_key_harmony = models.CharField(_("EMAS AppKey (HarmonyOS)"), max_length=32, blank=True)
    access_key_id = models.CharField(_("AccessKey ID"), max_length=64)
    access_key_secret = EncryptedTextField(_("AccessKey secret"))
    signature_version = models.CharField(
        _("signature version"),
        max_length=4,
        choices=SignatureVersion.choices,
        default=SignatureVersion.V3,
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit (calls per second)"),
        default=20,
        help_text=_("Pushdeck never calls the provider faster than this, across all workers."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    quiet_hours_zone = models.CharField(
        _("quiet hours in"),
        max_length=12,
        choices=QuietHoursZone.choices,
        default=QuietHoursZone.APP,
    )
    test_targets = models.TextField(
        _("test targets"),
        blank=True,
        help_text=_("Device or user IDs that receive test sends, one per line."),
    )
    approval_policy = models.CharField(
        _("approval policy"),
        max_length=8,
        choices=ApprovalPolicy.choices,
        default=ApprovalPolicy.NONE,
    )
    four_eyes = models.BooleanField(
        _("four-eyes approval"),
        default=True,
        help_text=_("Nobody approves a campaign they created or last changed."),
    )
    approval_threshold = models.PositiveIntegerField(
        _("approval needed above"),
        default=100_000,
        help_text=_(
            "Campaigns to more targets than this always need an approver, whatever the policy."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("app")

    def __str__(self) -> str:
        return self.name

    @property
    def uses_sandbox(self) -> bool:
        return self.endpoint == SANDBOX_ENDPOINT

    @property
    def masked_secret(self) -> str:
        secret = self.access_key_secret
        return secret.masked if isinstance(secret, Secret) and secret else ""

    @property
    def test_target_list(self) -> list[str]:
        return [line.strip() for line in self.test_targets.splitlines() if line.strip()]

    def in_quiet_hours(self, local: time) -> bool:
        """Whether a local time falls inside the daily quiet window (which may span midnight)."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start is None or end is None or start == end:
            return False
        return start <= local < end if start < end else local >= start or local < end
