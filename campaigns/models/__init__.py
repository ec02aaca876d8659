"""Pushdeck's models, one module per concept."""

from __future__ import annotations

from campaigns.models.access import Access
from campaigns.models.apps import MobileApp
from campaigns.models.audiences import Audience, AudienceImport, AudienceMember
from campaigns.models.audit import AuditEvent
from campaigns.models.campaigns import Campaign
from campaigns.models.dispatch import CampaignRun, Dispatch
from campaigns.models.heartbeat import Heartbeat
from campaigns.models.ratelimit import RateLimitBucket
from campaigns.models.sandbox import (
    SandboxMessage,
    SandboxPush,
    SandboxSettings,
    SandboxTemplate,
)
from campaigns.models.stats import DeliveryStat
from campaigns.models.templates import MessageTemplate, TemplateVersion
from campaigns.models.users import User

__all__ = [
    "Access",
    "Audience",
    "AudienceImport",
    "AudienceMember",
    "AuditEvent",
    "Campaign",
    "CampaignRun",
    "DeliveryStat",
    "Dispatch",
    "Heartbeat",
    "MessageTemplate",
    "MobileApp",
    "RateLimitBucket",
    "SandboxMessage",
    "SandboxPush",
    "SandboxSettings",
    "SandboxTemplate",
    "TemplateVersion",
    "User",
]
