"""Build + sign throughput per provider action: Pushdeck's clients beside the official SDKs.

Each side turns the same ready-made input into a signed V3 request, over and over, and we
count requests per second of CPU time (per core). The official SDK is stopped right after
it has built and signed its request (its HTTP send is replaced by an exception), so neither
side pays for the network. ``--quick`` measures for a shorter time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from campaigns.providers import emas, mpaas  # noqa: E402
from campaigns.providers.base import Account, Credentials, ProviderClient  # noqa: E402
from campaigns.providers.emas_android import AndroidNotifyType, AndroidOptions  # noqa: E402
from campaigns.providers.emas_options import DeviceType, PushType, Target  # noqa: E402
from campaigns.providers.mpaas_options import MpaasApp  # noqa: E402
from campaigns.providers.mpaas_push import (  # noqa: E402
    DeliveryType,
    Period,
    PushBroadcast,
    PushMultiple,
    PushSimple,
    PushTemplate,
    TargetMessage,
)
from campaigns.providers.mpaas_push import Target as MpaasTarget  # noqa: E402
from tests.bench.report import write_report  # noqa: E402

ENDPOINT = "https://mpaas.cn-hangzhou.aliyuncs.com/"
KEY_ID, SECRET = "LTAI-bench-key", "bench-secret-0123456789"
NOW = datetime.now(UTC)
APP = MpaasApp("ONEX570DA89211721", "test")
EMAS_APP = emas.EmasApp(23267207)


class SdkStopped(Exception):
    """Raised where the SDK would send: its request is built, signed and prepared."""


def stop_before_sending(request: Any, runtime_option: Any = None) -> Any:
    """Stands in for DaraCore.do_action: prepares the HTTP request as do_action does (as
    Pushdeck's side builds its httpx.Request), then stops instead of sending it."""
    requests: Any = importlib.import_module("requests")
    darabonba_core: Any = importlib.import_module("darabonba.core")
    body = request.body.encode() if isinstance(request.body, str) else request.body
    requests.PreparedRequest().prepare(
        method=request.method.upper(),
        url=darabonba_core.DaraCore.compose_url(request),
        data=body,
        headers=request.headers,
    )
    raise SdkStopped


def sdk_client(package: str) -> Any:
    config_module: Any = importlib.import_module("alibabacloud_tea_openapi.utils_models")
    client_module: Any = importlib.import_module(f"{package}.client")
    config = config_module.Config(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        endpoint=ENDPOINT.removeprefix("https://").rstrip("/"),
    )
    return client_module.Client(config)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Case:
    action: str
    ours: Callable[[], object]
    sdk: Callable[[], object]


def cases() -> list[Case]:
    ours = ProviderClient(Account(ENDPOINT, Credentials(KEY_ID, SECRET)))
    mpaas_sdk, mpaas_models = (
        sdk_client("alibabacloud_mpaas20201028"),
        importlib.import_module("alibabacloud_mpaas20201028.models"),
    )
    push_sdk, push_models = (
        sdk_client("alibabacloud_push20160801"),
        importlib.import_module("alibabacloud_push20160801.models"),
    )
    app = {"app_id": APP.app_id, "workspace_id": APP.workspace_id}
    ten = tuple(MpaasTarget(f"user{n}", f"key-{n}") for n in range(10))
    hundred = tuple(
        TargetMessage(f"user{n}", f"key-{n}", {"name": f"Name {n}", "money": str(n)})
        for n in range(100)
    )
    simple = PushSimple(
        task_name="bench",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        targets=ten,
        title="Spring sale",
        content="Up to 50% off today only",
    )
    template = PushTemplate(
        task_name="bench",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        targets=ten,
        template_name="sale",
        template_values={"name": "Li"},
    )
    multiple = PushMultiple(
        task_name="bench",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        target_msgs=hundred,
        template_name="sale",
    )
    broadcast = PushBroadcast(
        task_name="bench",
        delivery_type=DeliveryType.ANDROID,
        expired_seconds=300,
        msg_key="bench-broadcast",
        template_name="sale",
        template_values={"name": "all"},
        bind_period=Period.WITHIN_60_DAYS,
    )
    devices = tuple(f"{n:032x}" for n in range(1000))
    emas_push = emas.EmasPush(
        push_type=PushType.NOTICE,
        device_type=DeviceType.ANDROID,
        target=Target.DEVICE,
        target_value=devices,
        title="Spring sale",
        body="Up to 50% off today only",
        android=AndroidOptions(notify_type=AndroidNotifyType.BOTH),
    )
    sdk_targets = [
        mpaas_models.PushMultipleRequestTargetMsg(
            target=m.target, msg_key=m.msg_key, template_key_value=compact(m.template_values)
        )
        for m in hundred
    ]
    return [
        Case(
            "PushSimple",
            lambda: ours.signed(mpaas.build_push_simple(APP, simple, now=NOW)),
            lambda: mpaas_sdk.push_simple(
                mpaas_models.PushSimpleRequest(
                    **app,
                    task_name="bench",
                    delivery_type=3,
                    expired_seconds=300,
                    push_style=0,
                    target_msgkey=compact({t.target: t.msg_key for t in ten}),
                    title=simple.title,
                    content=simple.content,
                )
            ),
        ),
        Case(
            "PushTemplate",
            lambda: ours.signed(mpaas.build_push_template(APP, template, now=NOW)),
            lambda: mpaas_sdk.push_template(
                mpaas_models.PushTemplateRequest(
                    **app,
                    task_name="bench",
                    delivery_type=3,
                    expired_seconds=300,
                    target_msgkey=compact({t.target: t.msg_key for t in ten}),
                    template_name="sale",
                    template_key_value=compact({"name": "Li"}),
                )
            ),
        ),
        Case(
            "PushMultiple (100 targets)",
            lambda: ours.signed(mpaas.build_push_multiple(APP, multiple, now=NOW)),
            lambda: mpaas_sdk.push_multiple(
                mpaas_models.PushMultipleRequest(
                    **app,
                    task_name="bench",
                    delivery_type=3,
                    expired_seconds=300,
                    template_name="sale",
                    target_msg=sdk_targets,
                )
            ),
        ),
        Case(
            "PushBroadcast",
            lambda: ours.signed(mpaas.build_push_broadcast(APP, broadcast, now=NOW)),
            lambda: mpaas_sdk.push_broadcast(
                mpaas_models.PushBroadcastRequest(
                    **app,
                    task_name="bench",
                    delivery_type=1,
                    expired_seconds=300,
                    msgkey="bench-broadcast",
                    template_name="sale",
                    template_key_value=compact({"name": "all"}),
                    push_status=0,
                    bind_period=3,
                )
            ),
        ),
        Case(
            "EMAS Push (1000 devices)",
            lambda: ours.signed(emas.build_push(EMAS_APP, emas_push, now=NOW)),
            lambda: push_sdk.push(
                push_models.PushRequest(
                    app_key=EMAS_APP.app_key,
                    push_type="NOTICE",
                    device_type="ANDROID",
                    target="DEVICE",
                    target_value=",".join(devices),
                    title=emas_push.title,
                    body=emas_push.body,
                    android_notify_type="BOTH",
                )
            ),
        ),
        Case(
            "EMAS QueryPushStatByMsg",
            lambda: ours.signed(emas.build_query_push_stat_by_msg(EMAS_APP, "501029")),
            lambda: push_sdk.query_push_stat_by_msg(
                push_models.QueryPushStatByMsgRequest(
                    app_key=EMAS_APP.app_key,
                    message_id=501029,
                )
            ),
        ),
    ]


def stopped_on_purpose(error: BaseException) -> bool:
    """The SDK wraps our SdkStopped in its UnretryableException (as ``inner_exception``)."""
    return isinstance(error, SdkStopped) or isinstance(
        getattr(error, "inner_exception", None), SdkStopped
    )


def per_core_rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second of this process's CPU time."""
    calls, started = 0, time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            try:
                call()
            except Exception as error:
                if not stopped_on_purpose(error):
                    raise
        calls += 20
    return calls / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="measure 0.3 s per case")
    seconds = 0.3 if parser.parse_args().quick else 2.0

    darabonba_core: Any = importlib.import_module("darabonba.core")
    darabonba_core.DaraCore.do_action = staticmethod(stop_before_sending)

    metrics: dict[str, float] = {}
    print(f"{'action':<28} {'pushdeck req/s':>15} {'official SDK':>13} {'ratio':>7}")
    for case in cases():
        ours, theirs = per_core_rate(case.ours, seconds), per_core_rate(case.sdk, seconds)
        key = case.action.split(" ")[0] if "EMAS" not in case.action else case.action.split()[1]
        metrics[f"{key}_pushdeck_rps"] = round(ours, 1)
        metrics[f"{key}_sdk_rps"] = round(theirs, 1)
        metrics[f"{key}_ratio"] = round(ours / theirs, 2)
        print(f"{case.action:<28} {ours:>15,.0f} {theirs:>13,.0f} {ours / theirs:>6.1f}x")
    write_report("providers", metrics)


if __name__ == "__main__":
    main()
