"""What a campaign page says about the campaign: its message as a phone shows it, the
options set (in the composer's words), how it is split into calls and when it is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from campaigns.campaign_options import SECTION_TITLES, Input, Option, options_for
from campaigns.campaign_preview import CampaignPreview, build_campaign_preview
from campaigns.models import Campaign


@dataclass(frozen=True)
class OptionRow:
    section: Promise | str
    label: Promise | str
    wire: str
    value: str


def shown_value(option: Option, value: Any) -> str:
    if option.input is Input.YES_NO:
        return _("Yes") if value else _("No")
    if option.choices is not None and option.input is Input.CHOICE:
        for member in option.choices:
            if str(member.value) == str(value):
                return f"{member.name.replace('_', ' ').capitalize()} ({member.value})"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def option_rows(campaign: Campaign) -> list[OptionRow]:
    """The options the campaign sets, in the composer's order."""
    kept = (
        campaign.snapshot.get("options", campaign.options)
        if campaign.snapshot
        else campaign.options
    )
    return [
        OptionRow(
            SECTION_TITLES[option.section],
            option.label,
            option.wire,
            shown_value(option, kept[option.key]),
        )
        for option in options_for(campaign.kind)
        if kept.get(option.key) not in (None, "", [], {})
    ]


@dataclass(frozen=True)
class CampaignSummary:
    preview: CampaignPreview
    options: list[OptionRow]


def summarise(campaign: Campaign, *, now: datetime) -> CampaignSummary:
    return CampaignSummary(build_campaign_preview(campaign, now=now), option_rows(campaign))
