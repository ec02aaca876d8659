"""The address a request came from, honouring a known number of proxies in front."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT=n the n-th address from the right of
    X-Forwarded-For: the left part of that header is whatever the client chose to send."""
    proxies: int = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    address = request.META.get("REMOTE_ADDR")
    return None if address is None else str(address)
