"""What uses a message template: a template in use is archived, never deleted; and a sync
that would change what an approved campaign sends is refused.

Audiences reference templates (their value columns were checked against one); campaigns
name one. An mPaaS template push names the template of the provider's store, and mPaaS
fills the text in from the store when it sends: syncing a newer version while a campaign
approved with an older one waits to be sent would send text nobody approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.models import Audience, Campaign, MessageTemplate

# Campaigns whose approved text is still to be sent.
WAITING_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED)


@dataclass(frozen=True)
class TemplateUsage:
    audiences: list[Audience]
    campaigns: list[Campaign] = field(default_factory=list)

    @property
    def in_use(self) -> bool:
        return bool(self.audiences or self.campaigns)


def usage_of(template: MessageTemplate) -> TemplateUsage:
    audiences = Audience.objects.filter(template=template).order_by("name")
    campaigns = Campaign.objects.filter(template=template).order_by("-created_at", "-id")
    return TemplateUsage(audiences=list(audiences), campaigns=list(campaigns.only("name")))


def sync_would_change(template: MessageTemplate) -> list[Campaign]:
    """The waiting campaigns that read this template from the provider's store and were
    approved with another version (or name) of it than the one a sync would put there."""
    waiting = Campaign.objects.filter(
        template=template, status__in=WAITING_STATUSES, kind__in=Campaign.MPAAS_KINDS
    ).only("name", "snapshot")
    return [campaign for campaign in waiting if _approved_as(campaign) != now_as(template)]


def now_as(template: MessageTemplate) -> tuple[object, object]:
    return template.version, template.name


def _approved_as(campaign: Campaign) -> tuple[object, object]:
    approved = (campaign.snapshot or {}).get("template") or {}
    return approved.get("version"), approved.get("name")
