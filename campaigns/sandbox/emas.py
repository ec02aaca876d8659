"""EMAS Mobile Push actions of the sandbox gateway (API version 2016-08-01): ``Push``,
``MassPush`` and ``CancelPush`` here; the queries live in ``emas_stats`` and the rules of
seed 004 in ``emas_rules``.

An accepted push gets a MessageId — a numeric string, increasing — and is recorded in the
ledger: one row per listed target (DEVICE/ACCOUNT/ALIAS, message key
``<MessageId>:<target>``); a TAG or ALL push records only its audience's size.

IdempotentToken (a UUID, case-insensitive): a call that repeats a token the same AppKey used
for the same action less than ``IDEMPOTENCY_WINDOW`` earlier (simulated time) is validated,
then answered with the first call's MessageId(s) and sends nothing; from the window's end the
token starts a new push. Like the real service it guards retries, not concurrent calls.

CancelPush cancels a push whose PushTime is still ahead; a push already sent (or never
scheduled) cannot be cancelled (``Invalid.Parameter``), cancelling a cancelled push succeeds
again, and an unknown MessageId is ``Invalid.Parameter`` too.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from campaigns.models import SandboxPush
from campaigns.sandbox import control
from campaigns.sandbox.delivery import Delivery
from campaigns.sandbox.emas_rules import (
    PushSpec,
    Reader,
    check_push,
    emas_app,
    empty,
    expires_after_s,
    idempotent_token,
    invalid_parameter,
    length_exceed,
    sms_unless_opened,
)
from campaigns.sandbox.emas_stats import audience, fire_due, message_id
from campaigns.sandbox.gateway import EMAS_VERSION, Call, action
from campaigns.sandbox.ledger import Outgoing, accept
from campaigns.sandbox.registry import SandboxApp

IDEMPOTENCY_WINDOW = timedelta(minutes=15)
MASS_PUSH_TASKS_MAX = 100
_TASK_PARAMETER = re.compile(r"^PushTask\.(\d+)\.(.+)$")

_id_lock = threading.Lock()
_last_id = 0


# DeviceType → the platform whose devices receive the push (ALL: every platform).
RECEIVING_PLATFORM = {"ANDROID": "android", "iOS": "ios", "HARMONY": "harmony"}


def next_message_id() -> str:
    """Microseconds since the epoch, bumped past the last one: unique and increasing."""
    global _last_id
    with _id_lock:
        _last_id = max(_last_id + 1, time.time_ns() // 1000)
        return str(_last_id)


def _repeated(app: SandboxApp, name: str, token: str, now: datetime) -> list[str] | None:
    """The MessageIds of the first call that used ``token`` within the window, if any."""
    if not token:
        return None
    first = list(
        SandboxPush.objects.filter(
            provider=SandboxPush.Provider.EMAS,
            app=app.key,
            action=name,
            idempotency_key=token,
            accepted_at__gt=now - IDEMPOTENCY_WINDOW,
        )
        .order_by("pk")
        .values_list("task_id", flat=True)
    )
    return first or None


def _record(
    app: SandboxApp,
    spec: PushSpec,
    params: dict[str, str],
    *,
    call: Call,
    token: str,
) -> str:
    """Record one accepted push in the ledger; returns its MessageId."""
    now = call.received_at
    seed = control.current().seed
    new_id = next_message_id()
    scheduled = spec.push_time is not None
    messages = [
        Outgoing(target, f"{new_id}:{target}", spec.title, spec.body) for target in spec.targets
    ]
    accepted = accept(
        app=app,
        push_fields={
            "provider": SandboxPush.Provider.EMAS,
            "action": call.action,
            "task_id": new_id,
            "request_id": call.request_id,
            "idempotency_key": token,
            "title": spec.title,
            "body": spec.body,
            "delivery_type": spec.device_type,
            "status": SandboxPush.Status.SCHEDULED if scheduled else SandboxPush.Status.SENT,
            "fires_at": spec.push_time,
            "params": params,
        },
        messages=messages,
        seed=seed,
        accepted_at=now,
        delivery=Delivery(
            expires_after_s=expires_after_s(params, spec.push_time or now),
            sms_delay_s=spec.sms_delay_s,
            sms_unless_opened=sms_unless_opened(params),
            device_type=RECEIVING_PLATFORM.get(spec.device_type, ""),
        ),
    )
    if spec.target in ("TAG", "ALL"):
        size, _ = audience(app, seed, params)
        SandboxPush.objects.filter(pk=accepted.push.pk).update(target_count=size)
    return new_id


@action(EMAS_VERSION, "Push")
def push(call: Call) -> dict[str, Any]:
    app = emas_app(call.params)
    spec = check_push(call.params, now=call.received_at)
    token = idempotent_token(call.params)
    with transaction.atomic():
        first = _repeated(app, call.action, token, call.received_at)
        if first is not None:
            return {"MessageId": first[0]}
        return {"MessageId": _record(app, spec, dict(call.params), call=call, token=token)}


def _tasks(call: Call) -> list[dict[str, str]]:
    """PushTask.N.<Param> (N from 1, as the SDK flattens the list) as one mapping per task."""
    by_number: dict[int, dict[str, str]] = {}
    for name, value in call.params.items():
        match = _TASK_PARAMETER.match(name)
        if match:
            by_number.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if not by_number:
        raise empty("PushTask", "PushTask")
    if len(by_number) > MASS_PUSH_TASKS_MAX or max(by_number) > MASS_PUSH_TASKS_MAX:
        raise length_exceed("PushTask", "PushTask", MASS_PUSH_TASKS_MAX)
    if sorted(by_number) != list(range(1, len(by_number) + 1)):
        raise invalid_parameter("PushTask must be numbered from 1 without gaps")
    return [by_number[number] for number in sorted(by_number)]


@action(EMAS_VERSION, "MassPush")
def mass_push(call: Call) -> dict[str, Any]:
    app = emas_app(call.params)
    tasks = _tasks(call)
    specs = [
        check_push(task, now=call.received_at, prefix=f"PushTask.{number}.", batch=True)
        for number, task in enumerate(tasks, start=1)
    ]
    token = idempotent_token(call.params)
    with transaction.atomic():
        ids = _repeated(app, call.action, token, call.received_at)
        if ids is None:
            ids = [
                _record(app, spec, {"AppKey": app.key, **task}, call=call, token=token)
                for spec, task in zip(specs, tasks, strict=True)
            ]
    return {"MessageIds": {"MessageId": ids}}


@action(EMAS_VERSION, "CancelPush")
def cancel_push(call: Call) -> dict[str, Any]:
    app = emas_app(call.params)
    wanted = message_id(Reader(call.params))
    fire_due(app.key, call.received_at)
    pushes = SandboxPush.objects.filter(
        provider=SandboxPush.Provider.EMAS, app=app.key, task_id=wanted
    )
    cancelled = pushes.filter(
        status=SandboxPush.Status.SCHEDULED, fires_at__gt=call.received_at
    ).update(status=SandboxPush.Status.CANCELLED)
    if cancelled:
        return {}
    status = pushes.values_list("status", flat=True).first()
    if status is None:
        raise invalid_parameter(f"MessageId {wanted} does not exist")
    if status != SandboxPush.Status.CANCELLED:
        raise invalid_parameter(f"MessageId {wanted} is not a scheduled push that is yet to send")
    return {}
