"""The campaign's life in a few steps with their times, for the top of its results: created,
submitted, approved, scheduled, started, paused and resumed, cancelled, completed.

The steps people took come from the audit trail the page has already loaded (the detailed
log stays below, as History); the steps the engine took come from the runs: sending
started when the first run did, and a campaign ended when its last run finished. Nothing
here asks the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models import AuditEvent, Campaign, CampaignRun

# Audit actions that move the campaign along, as the timeline names them; "tone" picks the
# marker's colour: done (a step forward), held (waiting or paused), stopped (it went back or
# ended early).
STEPS: dict[str, tuple[str | Promise, str]] = {
    "create": (_("Created"), "done"),
    "created": (_("Created"), "done"),
    "duplicate": (_("Created as a copy"), "done"),
    "submit": (_("Submitted for approval"), "held"),
    "approve": (_("Approved"), "done"),
    "reject": (_("Rejected"), "stopped"),
    "schedule": (_("Scheduled"), "done"),
    "unschedule": (_("Unscheduled"), "stopped"),
    "pause": (_("Paused"), "held"),
    "resume": (_("Resumed"), "done"),
    "cancel": (_("Cancelled"), "stopped"),
    "recall": (_("Recalled"), "stopped"),
}

CREATED = ("create", "created", "duplicate")


@dataclass(frozen=True)
class Milestone:
    at: datetime
    label: str | Promise
    tone: str
    who: str = ""


def timeline(
    campaign: Campaign, events: Iterable[AuditEvent], runs: Sequence[CampaignRun]
) -> list[Milestone]:
    """The campaign's milestones, oldest first. ``events``: its audit events (any order;
    the page's trail is the latest 50), ``runs``: all of its runs."""
    moves = [event for event in events if event.action in STEPS]
    steps = [
        Milestone(event.created_at, *STEPS[event.action], who=event.actor_name) for event in moves
    ]
    if not any(event.action in CREATED for event in moves):
        # Older than the trail shown, or made without an event (fixtures): its own field.
        steps.append(Milestone(campaign.created_at, STEPS["create"][0], "done"))
    started = [run.started_at for run in runs if run.started_at]
    if started:
        steps.append(Milestone(min(started), _("Sending started"), "done"))
    finished = [run.finished_at for run in runs if run.finished_at]
    ended = {
        Campaign.Status.COMPLETED: (_("Completed"), "done"),
        Campaign.Status.FAILED: (_("Failed"), "stopped"),
    }.get(Campaign.Status(campaign.status))
    if ended is not None and finished:
        steps.append(Milestone(max(finished), *ended))
    return sorted(steps, key=lambda step: step.at)
