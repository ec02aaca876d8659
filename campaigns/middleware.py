"""Request middleware: the user's time zone, and sign-in required on every page."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

TIME_ZONE_COOKIE = "pushdeck_tz"


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class UserTimeZoneMiddleware:
    """Shows times in the zone the browser reports (static/js/console.js sets the cookie)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.COOKIES.get(TIME_ZONE_COOKIE, "")
        if name in known_time_zones():
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's, but an htmx request whose session ended sends the whole page to sign-in
    instead of swapping the sign-in form into a fragment."""

    def handle_no_permission(  # type: ignore[override]  # a client redirect is no 302
        self, request: HttpRequest, view_func: Callable[..., Any]
    ) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if htmx:
            page = htmx.current_url_abs_path or "/"
            login_url = resolve_url(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login_url}?next={quote(page)}")
        return super().handle_no_permission(request, view_func)
