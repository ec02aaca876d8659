"""Console pages of the sandbox: the device inbox, and the admin's controls."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.forms.sandbox import AdvanceClockForm, SandboxSettingsForm
from campaigns.models import SandboxMessage
from campaigns.sandbox import control
from campaigns.sandbox.delivery import Fate, fate_of
from campaigns.sandbox.registry import APPS
from campaigns.views import HtmxHttpRequest

RECENT_DEVICES = 50
INBOX_SIZE = 30
INBOX_WINDOW = 100_000  # the latest messages the inbox looks through


@require_GET
@permission_required("campaigns.send_campaign", raise_exception=True)
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    now = control.simulated_now()
    app_key = request.GET.get("app") or next(iter(APPS))
    app = APPS.get(app_key)
    recent = (
        SandboxMessage.objects.filter(app=app_key)
        .select_related("push")
        .order_by("-id")[: RECENT_DEVICES * 20]
    )
    devices = list(dict.fromkeys(row.target for row in recent if _received(row, now)))
    devices = devices[:RECENT_DEVICES]
    target = request.GET.get("target") or (devices[0] if devices else "")
    notifications = []
    if target:
        # The ledger keeps no index by target (it would cost the gateway a seventh of its
        # speed): a device's notifications are looked for among the sandbox's latest
        # messages, which is all of them at demo sizes.
        latest = SandboxMessage.objects.aggregate(latest=Max("id"))["latest"] or 0
        rows = (
            SandboxMessage.objects.filter(id__gt=latest - INBOX_WINDOW, app=app_key, target=target)
            .select_related("push")
            .order_by("-accepted_at")[: INBOX_SIZE * 2]
        )
        for row in rows:
            received = _received(row, now)
            if received is not None:
                sent_at, one = received
                opened = one.open_after_s is not None and (
                    sent_at + timedelta(seconds=one.open_after_s) <= now
                )
                notifications.append(
                    {
                        "message": row,
                        "arrived_at": sent_at + timedelta(seconds=one.arrive_after_s or 0),
                        "channel": one.vendor or one.platform,
                        "opened": opened,
                    }
                )
        notifications = notifications[:INBOX_SIZE]
    context = {
        "apps": APPS.values(),
        "app": app,
        "devices": devices,
        "target": target,
        "notifications": notifications,
        "simulated_now": now,
    }
    # The phone refreshes itself every few seconds, so notifications appear as they arrive.
    template = "#phone" if request.htmx.target == "phone" else ""
    return render(request, f"campaigns/sandbox_inbox.html{template}", context)


def _received(message: SandboxMessage, now: datetime) -> tuple[datetime, Fate] | None:
    """When ``message`` was sent and its fate, if it had reached its device by ``now``
    (and was not revoked)."""
    sent_at = message.push.sent_at
    if sent_at is None or message.push.status == message.push.Status.REVOKED:
        return None
    one = fate_of(message)
    if one.arrive_after_s is None or sent_at + timedelta(seconds=one.arrive_after_s) > now:
        return None
    return sent_at, one


@require_http_methods(["GET", "POST"])
@permission_required("campaigns.manage_credentials", raise_exception=True)
def controls(request: HttpRequest) -> HttpResponse:
    form = SandboxSettingsForm(request.POST or None, initial=asdict(control.current()))
    if request.method == "POST" and form.is_valid():
        control.update(**form.cleaned_data)
        messages.success(
            request, _("Sandbox settings saved; every sandbox process uses them within a second.")
        )
        return redirect("sandbox_controls")
    context = {
        "form": form,
        "clock_form": AdvanceClockForm(),
        "simulated_now": control.simulated_now(),
    }
    return render(request, "campaigns/sandbox_controls.html", context)


@require_POST
@permission_required("campaigns.manage_credentials", raise_exception=True)
def advance_clock(request: HttpRequest) -> HttpResponse:
    form = AdvanceClockForm(request.POST)
    if form.is_valid():
        control.advance_clock(form.cleaned_data["hours"] * 3600)
        messages.success(request, _("The simulated clock moved forward."))
    else:
        messages.error(request, _("Give the hours as a number between 0 and 720."))
    return redirect("sandbox_controls")
