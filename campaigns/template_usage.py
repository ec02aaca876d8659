"""What uses a message template: a template in use is archived, never deleted.

Today audiences reference templates (their value columns were checked against one).
Campaigns arrive with issue 7: ``usage_of`` is where they join (``campaigns``), so every
page and rule that asks "is it used?" learns about them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from campaigns.models import Audience, MessageTemplate


@dataclass(frozen=True)
class TemplateUsage:
    audiences: list[Audience]
    campaigns: list[models.Model] = field(default_factory=list)  # issue 7

    @property
    def in_use(self) -> bool:
        return bool(self.audiences or self.campaigns)


def usage_of(template: MessageTemplate) -> TemplateUsage:
    audiences = Audience.objects.filter(template=template).order_by("name")
    return TemplateUsage(audiences=list(audiences))
