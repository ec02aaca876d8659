"""The calendar: a month or a week of sends in the user's time zone (``send_calendar`` says
what goes on a day). Everyone with the console reads it; composers start a campaign from a
day."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns import send_calendar

VIEW = "campaigns.view_console"


@require_GET
@permission_required(VIEW, raise_exception=True)
def calendar(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    zone = timezone.get_current_timezone()
    period = send_calendar.period_of(
        request.GET.get("view"), request.GET.get("date"), today=now.astimezone(zone).date()
    )
    context = {
        "calendar": send_calendar.build(period, zone=zone, now=now),
        "views": send_calendar.View.choices,
        "states": send_calendar.State.choices,
    }
    return render(request, "campaigns/calendar.html", context)
