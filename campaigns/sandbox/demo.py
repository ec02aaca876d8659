"""Demo pushes for a fresh console: real signed calls through Pushdeck's own clients into
the sandbox, so the inbox has something to show. Sent once: when the demo apps already
have pushes in the sandbox, nothing is sent again."""

from __future__ import annotations

import httpx
from django.conf import settings

from campaigns.models import SandboxPush
from campaigns.providers.base import Account, Credentials
from campaigns.providers.emas import EmasApp, EmasClient, EmasPush
from campaigns.providers.emas_options import DeviceType, PushType, Target
from campaigns.providers.mpaas import MpaasClient
from campaigns.providers.mpaas_options import MpaasApp
from campaigns.providers.mpaas_push import DeliveryType, PushMultiple, PushSimple, TargetMessage
from campaigns.providers.mpaas_push import Target as MpaasTarget
from campaigns.sandbox.registry import emas_device_id
from campaigns.sandbox.transport import InProcessSandbox

DEMO_ENDPOINT = "http://sandbox.local/"
DEMO_MPAAS_APP = MpaasApp("ONEX570DA89211721", "test")
DEMO_EMAS_APP = EmasApp(23267207)
THREE_DAYS_S = 3 * 24 * 3600


def send_demo_pushes() -> int:
    """Send the demo pushes; the number of calls made (0 without sandbox AccessKeys, or
    when the demo apps have pushes already)."""
    keys: dict[str, str] = settings.SANDBOX_ACCESS_KEYS
    demo_apps = [
        f"{DEMO_MPAAS_APP.app_id}:{DEMO_MPAAS_APP.workspace_id}",
        str(DEMO_EMAS_APP.app_key),
    ]
    if not keys or SandboxPush.objects.filter(app__in=demo_apps).exists():
        return 0
    key_id, secret = next(iter(keys.items()))
    account = Account(DEMO_ENDPOINT, Credentials(key_id, secret))
    http = httpx.Client(transport=InProcessSandbox())
    mpaas, emas = MpaasClient(account, http=http), EmasClient(account, http=http)
    mpaas.push_simple(
        DEMO_MPAAS_APP,
        PushSimple(
            task_name="Welcome",
            delivery_type=DeliveryType.USER,
            expired_seconds=THREE_DAYS_S,
            targets=tuple(MpaasTarget(f"user{n}", f"demo-welcome-{n}") for n in range(1, 11)),
            title="欢迎 Welcome to the shop",
            content="Your first order ships free this week.",
        ),
    )
    mpaas.push_multiple(
        DEMO_MPAAS_APP,
        PushMultiple(
            task_name="Spring sale",
            delivery_type=DeliveryType.USER,
            expired_seconds=THREE_DAYS_S,
            template_name="sale",
            target_msgs=tuple(
                TargetMessage(
                    f"user{n}", f"demo-sale-{n}", {"name": f"Customer {n}", "money": str(5 * n)}
                )
                for n in range(1, 51)
            ),
        ),
    )
    emas.push(
        DEMO_EMAS_APP,
        EmasPush(
            push_type=PushType.NOTICE,
            device_type=DeviceType.ALL,
            target=Target.DEVICE,
            target_value=tuple(emas_device_id(n) for n in range(1, 21)),
            title="Your parcel is on its way",
            body="Track it in the app: it arrives tomorrow.",
        ),
    )
    return 3
