"""The dashboard: where a signed-in user lands."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from campaigns.health import check_broker, check_database, scheduler_state
from campaigns.navigation import NAVIGATION, NavItem
from campaigns.roles import roles_of
from campaigns.views import HtmxHttpRequest


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
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    sees_system = request.user.has_perm("campaigns.manage_credentials")
    if sees_system and request.htmx.target == "system-status":
        return render(request, "campaigns/dashboard.html#system_status", _system_status())
    steps = [
        (step, _nav_item(step.nav_key))
        for step in NEXT_STEPS
        if request.user.has_perm(step.permission)
    ]
    context = {"steps": steps, "roles": roles_of(request.user)}
    if sees_system:
        context.update(_system_status())
    return render(request, "campaigns/dashboard.html", context)


def _system_status() -> dict[str, object]:
    return {
        "database": check_database(),
        "broker": check_broker(),
        "scheduler": scheduler_state(),
    }
