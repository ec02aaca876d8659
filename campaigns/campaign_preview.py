"""What a campaign looks like on a phone while it is composed: the notification of one sample
recipient, filled in by the same substitution the sender uses, with each vendor's length
warnings, how the audience splits into calls, and when it will be sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from campaigns import scheduling
from campaigns.call_plan import CallPlan, call_plan
from campaigns.campaign_requests import SAMPLE_TARGET, content_of, sample_recipients
from campaigns.models import Campaign
from campaigns.rendering import render
from campaigns.vendor_limits import LengthWarning, warnings

NEXT_OCCURRENCES = 5


@dataclass(frozen=True)
class CampaignPreview:
    title: str
    body: str
    sample_target: str  # whose values fill the placeholders ("" when none)
    warnings: list[LengthWarning]
    call_plan: CallPlan | None
    schedule_summary: str
    next_occurrences: list[datetime]
    schedule_zone: str
    subtitle: str = ""
    image_url: str = ""
    shown_as_notification: bool = True
    notes: list[str] = field(default_factory=list)


def _image(campaign: Campaign) -> str:
    images = campaign.option("mp_image_urls") or {}
    return str(
        (images.get("defaultUrl") if isinstance(images, dict) else "")
        or campaign.option("android_big_picture_url")
        or campaign.option("harmony_image_url")
        or ""
    )


def build_campaign_preview(campaign: Campaign, *, now: datetime) -> CampaignPreview:
    content = content_of(campaign)
    values = dict(content.values)
    sample = ""
    if campaign.kind == Campaign.Kind.PERSONALISED:
        [first, *_rest] = sample_recipients(campaign, limit=1)
        if first.target != SAMPLE_TARGET:
            sample, values = first.target, dict(first.values)
    title, body = render(content.title, values), render(content.body, values)
    notes = []
    silent = campaign.option("mp_silent") is True or campaign.option("ios_silent_notification")
    message_only = campaign.option("push_type") == "MESSAGE"
    if message_only:
        notes.append(_("A message is handed to the running app; nothing shows on screen."))
    elif silent:
        notes.append(_("Silent: it arrives without sound or banner."))
    return CampaignPreview(
        title=title,
        body=body,
        sample_target=sample,
        warnings=warnings(title, body, campaign.app.provider),
        call_plan=call_plan(campaign),
        schedule_summary=scheduling.describe(campaign),
        next_occurrences=scheduling.occurrences(campaign, after=now, limit=NEXT_OCCURRENCES),
        schedule_zone=campaign.time_zone,
        subtitle=str(campaign.option("ios_subtitle") or ""),
        image_url=_image(campaign),
        shown_as_notification=not message_only,
        notes=notes,
    )
