"""GET /healthz: is this process able to do its work? For load balancers and monitors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campaigns.health import check_broker, check_database, scheduler_state


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = check_database(), check_broker()
    healthy = database.ok and broker.ok
    body = {
        "status": "ok" if healthy else "error",
        "checks": {"database": database.as_json(), "broker": broker.as_json()},
        "scheduler": scheduler_state(),
    }
    return JsonResponse(body, status=200 if healthy else 503)
