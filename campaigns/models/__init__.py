"""Pushdeck's models, one module per concept."""

from __future__ import annotations

from campaigns.models.access import Access
from campaigns.models.heartbeat import Heartbeat
from campaigns.models.sandbox import (
    SandboxMessage,
    SandboxPush,
    SandboxSettings,
    SandboxTemplate,
)
from campaigns.models.users import User

__all__ = [
    "Access",
    "Heartbeat",
    "SandboxMessage",
    "SandboxPush",
    "SandboxSettings",
    "SandboxTemplate",
    "User",
]
