"""Rate-limit buckets: the global per-app limiter's state when Redis isn't configured.

``campaigns.ratelimit`` explains the algorithm; with ``REDIS_URL`` set these rows stay empty.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitBucket(models.Model):
    key = models.CharField(_("key"), max_length=100, primary_key=True)
    # Unix times in seconds from the workers' clocks, read while holding the row's lock.
    full_at = models.FloatField(
        _("full at"), default=0.0, help_text=_("When the bucket is full again.")
    )
    penalty_until = models.FloatField(
        _("penalty until"), default=0.0, help_text=_("No call before this: the provider said so.")
    )

    class Meta:
        verbose_name = _("rate limit bucket")
        verbose_name_plural = _("rate limit buckets")

    def __str__(self) -> str:
        return self.key
