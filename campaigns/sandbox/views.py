"""The sandbox gateway inside the web app, under /sandbox/, for Pushdeck's own client."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.sandbox.service import serve


@csrf_exempt  # called by API clients with AccessKey signatures, not by browsers
@login_not_required
@require_POST
def gateway(request: HttpRequest) -> HttpResponse:
    response = serve(
        "POST", request.path, request.META.get("QUERY_STRING", ""), request.headers, request.body
    )
    if response is None:  # a dropped connection cannot be shown through WSGI: a bare 502
        return HttpResponse(status=502)
    reply = HttpResponse(response.body, status=response.status)
    for name, value in response.headers.items():
        reply[name] = value
    return reply
