"""The dashboard: where a signed-in user lands. What is sending now (refreshed while it
moves), what goes out in the next 7 days, the latest results, and what needs attention
(campaigns.dashboard_data reads them); next steps for newcomers, system status for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from campaigns import dashboard_data, quiet_hours
from campaigns.health import check_broker, check_database, scheduler_state
from campaigns.navigation import NAVIGATION, NavItem
from campaigns.roles import roles_of
from campaigns.views import HtmxHttpRequest
from campaigns.views.campaign_sending import RunProgress, run_progress

SENDING_ID = "dashboard-sending"  # the section that refreshes itself


@dataclass(frozen=True)
class NextStep:
    title: str | Promise
    text: str | Promise
    nav_key: str
    permission: str


NEXT_STEPS = (
    NextStep(
        _("Register an app"),
        _("Connect an mPaaS or EMAS app with its AccessKey, or use the built-in sandbox."),
        "apps",
        "campaigns.manage_credentials",
    ),
    NextStep(
        _("Write message templates"),
        _("Titles and bodies with #placeholders#, previewed as each phone shows them."),
        "templates",
        "campaigns.compose_campaign",
    ),
    NextStep(
        _("Build an audience"),
        _("Paste or upload device IDs, user IDs, aliases or accounts, or use a broadcast rule."),
        "audiences",
        "campaigns.compose_campaign",
    ),
    NextStep(
        _("Compose and schedule a campaign"),
        _("Pick the kind of push, the vendor channel options and when it goes out."),
        "campaigns",
        "campaigns.compose_campaign",
    ),
    NextStep(
        _("Follow the results"),
        _("Delivery funnels per campaign, and the history across apps and months."),
        "history",
        "campaigns.view_console",
    ),
)


def _nav_item(key: str) -> NavItem:
    return next(item for item in NAVIGATION if item.key == key)


@require_GET
@permission_required("campaigns.view_console", raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")  # the page, or one of its sections refreshing
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    sees_system = request.user.has_perm("campaigns.manage_credentials")
    if sees_system and request.htmx.target == "system-status":
        return render(request, "campaigns/dashboard.html#system_status", _system_status())
    now = timezone.now()
    if request.htmx.target == SENDING_ID:
        sending = dashboard_data.sending_now(now)
        return render(request, "campaigns/_dashboard_sending.html", _sending_context(sending, now))
    data = dashboard_data.dashboard(now)
    steps = [
        (step, _nav_item(step.nav_key))
        for step in NEXT_STEPS
        if request.user.has_perm(step.permission)
    ]
    context = {
        "steps": steps,
        "roles": roles_of(request.user),
        "data": data,
        **_sending_context(data.sending, now),
    }
    if sees_system:
        context.update(_system_status())
    return render(request, "campaigns/dashboard.html", context)


def _sending_context(sending: dashboard_data.Sending, now: datetime) -> dict[str, object]:
    progress: list[tuple[RunProgress, str]] = [
        (
            run_progress(run, [], quiet_hours.hold_note(run, now)),
            dashboard_data.stuck_reason(run, now),
        )
        for run in sending.runs
    ]
    return {"sending": sending, "progress": progress, "sending_id": SENDING_ID}


def _system_status() -> dict[str, object]:
    return {
        "database": check_database(),
        "broker": check_broker(),
        "scheduler": scheduler_state(),
    }
