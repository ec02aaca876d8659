"""The sandbox's control form: faults and the simulation's seed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

RATE_HELP = _("A share of calls between 0 and 1, e.g. 0.05 for 5 %.")


def rate_field(label: str | _StrPromise) -> forms.FloatField:
    return forms.FloatField(label=label, min_value=0.0, max_value=1.0, help_text=RATE_HELP)


class SandboxSettingsForm(forms.Form):
    latency_ms = forms.IntegerField(label=_("Added latency (ms)"), min_value=0, max_value=60_000)
    error_rate = rate_field(_("Server errors (5xx)"))
    throttle_rate = rate_field(_("Throttling"))
    timeout_rate = rate_field(_("Timeouts"))
    drop_rate = rate_field(_("Dropped connections"))
    seed = forms.IntegerField(
        label=_("Seed"), min_value=0, help_text=_("The same seed fails the same calls.")
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        rates = ("error_rate", "throttle_rate", "timeout_rate", "drop_rate")
        if sum(cleaned.get(name) or 0.0 for name in rates) > 1.0:
            raise forms.ValidationError(_("Together the fault rates cannot pass 1 (every call)."))
        return cleaned


class AdvanceClockForm(forms.Form):
    hours = forms.FloatField(
        label=_("Advance the simulated clock by (hours)"), min_value=0.0, max_value=24 * 30
    )
