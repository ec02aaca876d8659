"""How a campaign's audience splits into provider calls: the targets each action takes per
call, and the plan the composer shows ("48,213 targets → 483 PushMultiple calls").

Planning (issue 8) batches by the same numbers; provider-held schedules count one pending
schedule at the provider per call.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import ngettext

from campaigns.connections import emas_apps
from campaigns.models import Campaign
from campaigns.providers import emas as emas_provider
from campaigns.providers import mpaas_push as mpaas
from campaigns.providers.emas_options import DeviceType

TARGETS_PER_CALL: dict[str, int] = {
    Campaign.Kind.SIMPLE: mpaas.PUSH_SIMPLE_MAX_TARGETS,
    Campaign.Kind.TEMPLATE: mpaas.PUSH_TEMPLATE_MAX_TARGETS,
    Campaign.Kind.PERSONALISED: mpaas.PUSH_MULTIPLE_MAX_TARGETS,
    Campaign.Kind.EMAS: emas_provider.EMAS_MAX_TARGET_VALUES,
}
ACTION_NAMES: dict[str, str] = {
    Campaign.Kind.SIMPLE: "PushSimple",
    Campaign.Kind.TEMPLATE: "PushTemplate",
    Campaign.Kind.PERSONALISED: "PushMultiple",
    Campaign.Kind.BROADCAST: "PushBroadcast",
    Campaign.Kind.EMAS: "Push",
}


EMAS_PLATFORMS: dict[str, tuple[str, ...]] = {
    DeviceType.ANDROID: ("android",),
    DeviceType.IOS: ("ios",),
    DeviceType.HARMONY: ("harmony",),
    DeviceType.ALL: ("android", "ios", "harmony"),
}


@dataclass(frozen=True)
class CallPlan:
    targets: int | None  # None: the provider decides (broadcast, tag, all)
    calls: int
    action: str
    per_call: int | None

    def __str__(self) -> str:
        if self.targets is None:
            return ngettext(
                "The provider finds the devices → %(calls)d %(action)s call",
                "The provider finds the devices → %(calls)d %(action)s calls",
                self.calls,
            ) % {"calls": self.calls, "action": self.action}
        targets = ngettext("%(count)s target", "%(count)s targets", self.targets) % {
            "count": number_format(self.targets, force_grouping=True)
        }
        calls = ngettext("%(count)s %(action)s call", "%(count)s %(action)s calls", self.calls) % {
            "count": number_format(self.calls, force_grouping=True),
            "action": self.action,
        }
        return f"{targets} → {calls}"


def call_plan(campaign: Campaign) -> CallPlan | None:
    """How the audience splits into provider calls ("48,213 targets → 483 PushMultiple
    calls"), from the audience's kept member count; None before an audience is chosen."""
    audience = campaign.audience
    if audience is None:
        return None
    action = ACTION_NAMES[campaign.kind]
    platforms = 1
    if campaign.kind == Campaign.Kind.EMAS:
        device_type = str(campaign.options.get("device_type") or DeviceType.ALL)
        apps = emas_apps(campaign.app)
        platforms = max(1, sum(1 for p in EMAS_PLATFORMS.get(device_type, ()) if p in apps))
    if not audience.is_listed:
        return CallPlan(None, platforms, action, None)
    per_call = TARGETS_PER_CALL[campaign.kind]
    calls = -(-audience.member_count // per_call) * platforms
    return CallPlan(audience.member_count, calls, action, per_call)
