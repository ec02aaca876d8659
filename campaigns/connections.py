"""From a MobileApp to a provider client: the one place that reads an app's keys.

An app on the built-in sandbox is served in this process (no socket, no network): its
client talks to the sandbox through an in-process transport, signed exactly as for a real
endpoint, so every path Pushdeck takes against a provider is taken against the sandbox too.
"""

from __future__ import annotations

import httpx

from campaigns.models import MobileApp
from campaigns.providers.base import Account, Credentials, SignatureVersion
from campaigns.providers.emas import EmasApp, EmasClient
from campaigns.providers.mpaas import MpaasClient
from campaigns.providers.mpaas_options import MpaasApp
from campaigns.sandbox.transport import InProcessSandbox

SANDBOX_URL = "http://sandbox.pushdeck.internal/sandbox/"


def account(app: MobileApp) -> Account:
    return Account(
        SANDBOX_URL if app.uses_sandbox else app.endpoint,
        Credentials(app.access_key_id, app.access_key_secret.reveal()),
        SignatureVersion(app.signature_version),
    )


def _http(app: MobileApp) -> httpx.Client | None:
    """The sandbox's in-process transport, or None for the shared pooled client."""
    return httpx.Client(transport=InProcessSandbox()) if app.uses_sandbox else None


def mpaas_client(app: MobileApp) -> MpaasClient:
    return MpaasClient(account(app), http=_http(app))


def emas_client(app: MobileApp) -> EmasClient:
    return EmasClient(account(app), http=_http(app))


def mpaas_app(app: MobileApp) -> MpaasApp:
    return MpaasApp(app.mpaas_app_id, app.mpaas_workspace_id, app.mpaas_tenant_id or None)


def emas_apps(app: MobileApp) -> dict[str, EmasApp]:
    """The app's EMAS AppKeys by platform ("android", "ios", "harmony"), those it has."""
    keys = {
        "android": app.emas_app_key_android,
        "ios": app.emas_app_key_ios,
        "harmony": app.emas_app_key_harmony,
    }
    return {platform: EmasApp(int(key)) for platform, key in keys.items() if key.isdigit()}
