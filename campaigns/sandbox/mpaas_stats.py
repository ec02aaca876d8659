"""The sandbox's mPaaS schedules, revocations and statistics.

- Schedules: a push with strategyType 1 or 2 is held as ``scheduled`` with ``fires_at``;
  ``fire_due`` flips a scheduled push whose time has come (on the simulated clock) to
  ``sent``. A recurring push stays the schedule: each of its times becomes an occurrence,
  a push of its own (task id ``<schedule>-YYYYMMDD``, msgKeys ``<key>@YYYYMMDD``, listed
  by QueryPushSchedulerList with the schedule as ParentId), until the last one, when the
  schedule is ``finished``. Cancelling the schedule stops the occurrences still to come;
  its statistics are those of its occurrences together.
- A push's messages count from the time it was sent (``fires_at`` for a scheduled push,
  else ``accepted_at``); a message has arrived when its fate's ``arrive_after_s`` <= the
  time since.
- Revoking withdraws what has not happened yet: arrivals, opens, dismissals and SMS of the
  revoked messages after the revoke do not happen (``delivery.withdrawn_after_s``), so the
  funnel stops growing.
  Only within ``REVOKE_WINDOW_S`` of sending, and never before a push is sent.
- Broadcasts have no message rows: their funnel is derived from the delivery rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control
from campaigns.sandbox.delivery import (
    ARRIVAL_RATE,
    DELETE_RATE,
    OFFLINE_DELAY_S,
    ONLINE_DELAY_S,
    OPEN_DELAY_S,
    OPEN_RATE,
    fates,
)
from campaigns.sandbox.gateway import MPAAS_VERSION, Call, action
from campaigns.sandbox.mpaas_rules import (
    GATEWAY_TZ,
    MESSAGE_NOT_EXIST,
    OK,
    REVOKE_EXPIRED,
    TASK_NOT_EXIST,
    TASK_STATUS_ILLEGAL,
    Params,
    Rejected,
    answers,
    from_milliseconds,
    milliseconds,
    next_occurrence,
    reject,
    resolve_app,
)
from campaigns.sandbox.registry import ANDROID_VENDORS

Status = SandboxPush.Status

REVOKE_WINDOW_S = 24 * 3600
SCHEDULER_PAGE_SIZE = 500  # QueryPushSchedulerList's default page size
TASK_PAGE_SIZE = 10
MAX_PAGE_SIZE = 500
CREATE_TYPE_API = 1  # QueryPushSchedulerList CreateType of a task created through the API

# The push type ("Type") of the scheduler and analysis actions.
PUSH_TYPES = {"PushSimple": 0, "PushTemplate": 1, "PushMultiple": 2, "PushBroadcast": 3}
# A broadcast's platform by DeliveryType, and the registry's share of each platform.
BROADCAST_PLATFORMS = {1: "android", 2: "ios", 7: "harmony"}
PLATFORM_SHARE = {"android": 0.65, "ios": 0.27, "harmony": 0.08}
PLATFORM_VENDORS = {"android": ANDROID_VENDORS, "ios": ("apple",), "harmony": ("huawei",)}
ONLINE_SHARE = 0.8  # devices online in the registry
_CONVOLUTION_STEPS = 64


def fire_due(app_key: str) -> int:
    """Send the scheduled pushes of ``app_key`` whose time has come; how many sendings.

    A scheduled push (strategyType 1) is itself sent. A recurring one (2) stays the
    schedule: each of its times that has come becomes an occurrence, a push of its own
    with the schedule's targets, sent at that time; the schedule moves on to its next
    time, and is ``finished`` after its last. Each step is claimed with a conditional
    update, so two processes firing at once never send a time twice.
    """
    now = control.simulated_now()
    due = SandboxPush.objects.filter(
        provider="mpaas", app=app_key, status=Status.SCHEDULED, fires_at__lte=now
    )
    fired = due.filter(strategy_type=1).update(status=Status.SENT)
    for schedule in due.filter(strategy_type=2):
        while schedule.fires_at is not None and schedule.fires_at <= now:
            moment = schedule.fires_at
            assert schedule.strategy_content is not None
            following = next_occurrence(schedule.strategy_content, moment)
            changes: dict[str, Any] = (
                {"fires_at": following} if following else {"status": Status.FINISHED}
            )
            claimed = SandboxPush.objects.filter(
                pk=schedule.pk, status=Status.SCHEDULED, fires_at=moment
            ).update(**changes)
            if not claimed:
                break  # another process is firing it
            _occur(schedule, moment)
            fired += 1
            schedule.fires_at = following
    return fired


def _occur(schedule: SandboxPush, time: datetime) -> None:
    """Send the recurring push ``schedule`` once, at ``time``: its msgKeys carry the day
    (``key@YYYYMMDD``), so each sending is delivered once."""
    day = time.astimezone(GATEWAY_TZ).strftime("%Y%m%d")
    with transaction.atomic():
        occurrence = SandboxPush.objects.create(
            **{
                field.name: getattr(schedule, field.name)
                for field in SandboxPush._meta.concrete_fields
                if not field.primary_key and field.name != "parent"
            }
            | {
                "task_id": f"{schedule.task_id}-{day}",
                "status": Status.SENT,
                "fires_at": time,
                "parent": schedule,
                "idempotency_key": "",
            }
        )
        SandboxMessage.objects.bulk_create(
            [
                SandboxMessage(
                    push=occurrence,
                    app=row.app,
                    msg_key=f"{row.msg_key}@{day}",
                    target=row.target,
                    title=row.title,
                    body=row.body,
                    accepted_at=row.accepted_at,
                )
                for row in schedule.messages.all()
            ],
            ignore_conflicts=True,
        )


def broadcast_target_count(size: int, delivery_type: int) -> int:
    return round(size * PLATFORM_SHARE[BROADCAST_PLATFORMS[delivery_type]])


@dataclass(frozen=True)
class Funnel:
    total: int = 0  # targets of the push
    sent: int = 0  # sent by now (0 before a scheduled push fires)
    success: int = 0  # handed to a channel: targets the registry knows
    arrived: int = 0
    opened: int = 0
    ignored: int = 0  # dismissed without opening
    last_arrival_s: float | None = None

    def __add__(self, other: Funnel) -> Funnel:
        return Funnel(
            self.total + other.total,
            self.sent + other.sent,
            self.success + other.success,
            self.arrived + other.arrived,
            self.opened + other.opened,
            self.ignored + other.ignored,
        )


def _cdf(bounds: tuple[float, float], x: float) -> float:
    return min(1.0, max(0.0, (x - bounds[0]) / (bounds[1] - bounds[0])))


def _arrived_share(elapsed: float, expires: float) -> float:
    if elapsed <= 0:
        return 0.0
    reach = min(elapsed, expires)  # later than the expiry, nothing arrives
    return ONLINE_SHARE * _cdf(ONLINE_DELAY_S, reach) + (1 - ONLINE_SHARE) * _cdf(
        OFFLINE_DELAY_S, reach
    )


def _after_arrival(elapsed: float, expires: float) -> float:
    """Share arrived and then acted on (OPEN_DELAY_S later) by ``elapsed``."""
    low, high = OPEN_DELAY_S
    step = (high - low) / _CONVOLUTION_STEPS
    delays = (low + (i + 0.5) * step for i in range(_CONVOLUTION_STEPS))
    return fmean(_arrived_share(elapsed - delay, expires) for delay in delays)


def _broadcast_funnel(push: SandboxPush, elapsed: float, platform: str, vendor: str) -> Funnel:
    own = BROADCAST_PLATFORMS.get(int(push.delivery_type or 0), "")
    vendors = PLATFORM_VENDORS.get(own, ())
    if (platform and platform != own) or (vendor and vendor not in vendors):
        return Funnel()
    chosen = (vendor,) if vendor else vendors
    count = push.target_count * len(chosen) / len(vendors)
    rate = fmean(ARRIVAL_RATE.get(name, 0.95) for name in chosen)
    expires = float(push.params.get("ExpiredSeconds") or 0) or float("inf")
    acted = count * rate * _after_arrival(elapsed, expires)
    return Funnel(
        total=round(count),
        sent=round(count),
        success=round(count),
        arrived=round(count * rate * _arrived_share(elapsed, expires)),
        opened=round(OPEN_RATE * acted),
        ignored=round((1 - OPEN_RATE) * DELETE_RATE * acted),
    )


def funnel(push: SandboxPush, now: datetime, platform: str = "", vendor: str = "") -> Funnel:
    """What became of ``push`` by ``now``, optionally of one platform or vendor only; of a
    recurring schedule, what became of its occurrences so far."""
    start = push.sent_at
    if push.strategy_type == 2 and push.parent_id is None and start is None:
        total = Funnel()
        for occurrence in push.occurrences.all():
            total = total + funnel(occurrence, now, platform, vendor)
        return total if total.total else Funnel(total=push.target_count)
    if start is None or start > now:
        return Funnel(total=push.target_count)
    elapsed = (now - start).total_seconds()
    if push.action == "PushBroadcast":
        if push.revoked_at is not None:
            elapsed = min(elapsed, (push.revoked_at - start).total_seconds())
        return _broadcast_funnel(push, elapsed, platform, vendor)
    chosen = [
        one
        for one in fates(push)
        if (not platform or one.platform == platform) and (not vendor or one.vendor == vendor)
    ]
    arrivals = [
        one.arrive_after_s
        for one in chosen
        if one.arrive_after_s is not None and one.arrive_after_s <= elapsed
    ]
    return Funnel(
        total=len(chosen),
        sent=len(chosen),
        success=sum(one.reached for one in chosen),
        arrived=len(arrivals),
        opened=sum(one.by(elapsed)[1] for one in chosen),
        ignored=sum(one.by(elapsed)[2] for one in chosen),
        last_arrival_s=max(arrivals, default=None),
    )


def _push(app_key: str, task_id: str) -> SandboxPush:
    push = SandboxPush.objects.filter(provider="mpaas", app=app_key, task_id=task_id).first()
    if push is None:
        raise Rejected(TASK_NOT_EXIST, f"task {task_id} does not exist")
    return push


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _page(params: Params, default_size: int) -> tuple[int, int]:
    page = params.integer("PageNumber", default=1, minimum=1) or 1
    size = params.integer("PageSize", default=default_size, minimum=1) or default_size
    return page, min(size, MAX_PAGE_SIZE)


@action(MPAAS_VERSION, "QueryPushAnalysisTaskDetail")
@answers("result")
def query_push_analysis_task_detail(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    task_id = params.text("TaskId", required=True)
    fire_due(app.key)
    push = _push(app.key, task_id)
    result = funnel(push, control.simulated_now())
    start = push.sent_at
    start_ms = milliseconds(start) if start and result.sent else None
    end_ms = start_ms
    if start_ms is not None and result.last_arrival_s is not None:
        end_ms = start_ms + int(result.last_arrival_s * 1000)
    data = {
        "TaskId": push.task_id,
        "PushNum": result.sent,
        "PushSuccessNum": result.success,
        "PushArrivalNum": result.arrived,
        "StartTime": start_ms,
        "EndTime": end_ms,
        "Duration": str(end_ms - start_ms) if start_ms is not None and end_ms else "0",
    }
    return {"ResultCode": OK, "ResultMessage": "", "ResultContent": {"Data": data}}


def _task_row(push: SandboxPush) -> dict[str, Any]:
    return {
        "TaskId": push.task_id,
        "TaskName": push.task_name,
        "TemplateId": "",
        "TemplateName": push.template_name,
        "Type": PUSH_TYPES.get(push.action, 0),
        "GmtCreate": milliseconds(push.accepted_at),
        "List": [],
    }


@action(MPAAS_VERSION, "QueryPushAnalysisTaskList")
@answers("result")
def query_push_analysis_task_list(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    page, size = _page(params, TASK_PAGE_SIZE)
    fire_due(app.key)
    pushes = SandboxPush.objects.filter(provider="mpaas", app=app.key)
    if task_id := params.text("TaskId"):
        pushes = pushes.filter(task_id=task_id)
    if task_name := params.text("TaskName"):
        pushes = pushes.filter(task_name__contains=task_name)
    start = params.integer("StartTime", minimum=0)
    if start is not None:
        pushes = pushes.filter(accepted_at__gte=from_milliseconds(start))
    chunk = pushes.order_by("-accepted_at", "-id")[(page - 1) * size : page * size]
    data = [_task_row(push) for push in chunk]
    return {"ResultCode": OK, "ResultMessage": "", "ResultContent": {"Data": data}}


def _sent_between(app_key: str, start: datetime, end: datetime) -> QuerySet[SandboxPush]:
    window = Q(fires_at__isnull=False, fires_at__range=(start, end)) | Q(
        fires_at__isnull=True, accepted_at__range=(start, end)
    )
    return SandboxPush.objects.filter(
        window, provider="mpaas", app=app_key, status__in=(Status.SENT, Status.REVOKED)
    )


def _time_window(params: Params) -> tuple[int, int]:
    """StartTime and EndTime, in milliseconds, the end not before the start."""
    start = params.whole("StartTime", minimum=0)
    end = params.whole("EndTime", minimum=0)
    if end < start:
        reject("EndTime", "cannot be earlier than StartTime")
    return start, end


@action(MPAAS_VERSION, "QueryPushAnalysisCoreIndex")
@answers("result")
def query_push_analysis_core_index(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    start, end = _time_window(params)
    platform = params.text("Platform").lower()
    if platform and platform not in PLATFORM_SHARE:
        reject("Platform", f"must be one of {', '.join(PLATFORM_SHARE)}")
    vendor = params.text("Channel").lower()
    kind = params.integer("Type", choices=tuple(PUSH_TYPES.values()))
    fire_due(app.key)
    pushes = _sent_between(app.key, from_milliseconds(start), from_milliseconds(end))
    if task_id := params.text("TaskId"):
        pushes = pushes.filter(task_id=task_id)
    if kind is not None:
        pushes = pushes.filter(action__in=[k for k, v in PUSH_TYPES.items() if v == kind])
    now = control.simulated_now()
    total = Funnel()
    for push in pushes:
        total = total + funnel(push, now, platform, vendor)
    data = {
        "PushTotalNum": total.sent,
        "PushNum": total.success,
        "ArrivalNum": total.arrived,
        "ArrivalRate": _rate(total.arrived, total.success),
        "OpenNum": total.opened,
        "OpenRate": _rate(total.opened, total.arrived),
        "IgnoreNum": total.ignored,
        "IgnoreRate": _rate(total.ignored, total.arrived),
    }
    return {"ResultCode": OK, "ResultMessage": "", "ResultContent": {"Data": data}}


def _scheduler_row(push: SandboxPush) -> dict[str, Any]:
    fires_at = push.fires_at or push.accepted_at
    return {
        "UniqueId": push.task_id,
        "ParentId": push.parent.task_id if push.parent else push.task_id,
        "CreateType": CREATE_TYPE_API,
        "DeliveryType": int(push.delivery_type or 0),
        "ExecutedStatus": "0" if push.status == Status.SCHEDULED else "1",
        "GmtCreate": milliseconds(push.accepted_at),
        "PushTime": milliseconds(fires_at),
        "PushTitle": push.title,
        "PushContent": push.body,
        "StrategyType": push.strategy_type,
        "Type": PUSH_TYPES.get(push.action, 0),
    }


@action(MPAAS_VERSION, "QueryPushSchedulerList")
@answers("result")
def query_push_scheduler_list(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    start, end = _time_window(params)
    kind = params.integer("Type", choices=tuple(PUSH_TYPES.values()))
    page, size = _page(params, SCHEDULER_PAGE_SIZE)
    fire_due(app.key)
    pushes = SandboxPush.objects.filter(
        provider="mpaas",
        app=app.key,
        strategy_type__in=(1, 2),
        status__in=(Status.SCHEDULED, Status.SENT, Status.REVOKED),
        fires_at__range=(from_milliseconds(start), from_milliseconds(end)),
    )
    if unique_id := params.text("UniqueId"):
        pushes = pushes.filter(task_id=unique_id)
    if kind is not None:
        pushes = pushes.filter(action__in=[k for k, v in PUSH_TYPES.items() if v == kind])
    total = pushes.count()
    chunk = pushes.select_related("parent").order_by("fires_at", "id")[
        (page - 1) * size : page * size
    ]
    data = {"TotalCount": total, "List": [_scheduler_row(push) for push in chunk]}
    return {"ResultCode": OK, "ResultMessage": "", "ResultContent": {"Data": data}}


@action(MPAAS_VERSION, "CancelPushScheduler")
@answers("result")
def cancel_push_scheduler(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    params.integer("Type")
    ids = [part.strip() for part in params.text("UniqueIds", required=True).split(",")]
    if not all(ids):
        reject("UniqueIds", "must be task ids separated by commas")
    fire_due(app.key)
    with transaction.atomic():
        found = {
            push.task_id: push
            for push in SandboxPush.objects.select_for_update().filter(
                provider="mpaas", app=app.key, task_id__in=ids, strategy_type__in=(1, 2)
            )
        }
        for unique_id in ids:
            push = found.get(unique_id)
            if push is None:
                raise Rejected(TASK_NOT_EXIST, f"scheduled task {unique_id} does not exist")
            if push.status != Status.SCHEDULED:
                raise Rejected(
                    TASK_STATUS_ILLEGAL, f"scheduled task {unique_id} is {push.status}, not pending"
                )
        cancelled = SandboxPush.objects.filter(pk__in=[p.pk for p in found.values()]).update(
            status=Status.CANCELLED
        )
    return {"ResultCode": OK, "ResultMessage": "", "ResultContent": str(cancelled)}


def _revocable(push: SandboxPush, now: datetime, what: str) -> float:
    start = push.sent_at
    if start is None or start > now:
        raise Rejected(TASK_STATUS_ILLEGAL, f"{what} is {push.status}, not sent")
    elapsed = (now - start).total_seconds()
    if elapsed > REVOKE_WINDOW_S:
        raise Rejected(REVOKE_EXPIRED, f"{what} was sent over {REVOKE_WINDOW_S // 3600} h ago")
    return elapsed


@action(MPAAS_VERSION, "RevokePushMessage")
@answers("push")
def revoke_push_message(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    msg_key = params.text("MessageId", required=True)
    target = params.text("TargetId", required=True)
    fire_due(app.key)
    message = (
        SandboxMessage.objects.select_related("push")
        .filter(app=app.key, msg_key=msg_key, target=target, push__provider="mpaas")
        .first()
    )
    if message is None:
        raise Rejected(MESSAGE_NOT_EXIST, f"message {msg_key} to {target} does not exist")
    elapsed = _revocable(message.push, control.simulated_now(), f"message {msg_key}")
    if message.revoked_after_s is None:  # revoking twice does not move it later
        message.revoked_after_s = elapsed
        message.save(update_fields=["revoked_after_s"])
    return {
        "ResultCode": OK,
        "ResultMessage": "",
        "PushResult": {"Success": True, "ResultMsg": "", "Data": msg_key},
    }


@action(MPAAS_VERSION, "RevokePushTask")
@answers("push")
def revoke_push_task(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    task_id = params.text("TaskId", required=True)
    fire_due(app.key)
    push = _push(app.key, task_id)
    if push.status != Status.REVOKED:  # revoking twice is a success
        now = control.simulated_now()
        _revocable(push, now, f"task {task_id}")
        push.status = Status.REVOKED
        push.revoked_at = now
        push.save(update_fields=["status", "revoked_at"])
    return {
        "ResultCode": OK,
        "ResultMessage": "",
        "PushResult": {"Success": True, "ResultMsg": "", "Data": task_id},
    }
