"""EMAS queries: the delivery funnel of a message (``QueryPushStatByMsg``), the push records
(``QueryPushRecords``), and what both need — firing due schedules and sizing an audience.

Counts unfold in simulated time. A push to listed targets (DEVICE/ACCOUNT/ALIAS) counts its
ledger rows; a push to a TAG or to ALL has no rows (a million of them would be absurd), so
its funnel is the ledger's own outcome drawn for a bounded, deterministic sample of its
audience and scaled to the audience's size.

Sandbox choices where the real service says nothing usable:
- QueryPushStatByMsg answers at once (the real one only has data from the next day), and an
  unknown MessageId gives an empty ``PushStat`` list;
- SMS: sent to known targets the push did not reach in time, failed for unknown targets,
  skipped for those reached first; every SMS sent is received;
- QueryPushRecords: StartTime..EndTime at most ``RECORDS_MAX_DAYS`` apart, Keyword matches a
  MessageId exactly or a Title/Body case-insensitively as a substring, every sandbox push has
  Source ``API``, Status is ``SCHEDULED``, ``SENT`` or ``CANCELLED``, NextToken (deprecated)
  is neither read nor returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce

from campaigns.models import SandboxPush
from campaigns.sandbox.delivery import Delivery, fate, fates
from campaigns.sandbox.emas_rules import (
    PUSH_TYPES,
    TARGETS,
    Reader,
    emas_app,
    empty,
    format_time,
    invalid_format,
    invalid_parameter,
    tag_expression,
)
from campaigns.sandbox.gateway import EMAS_VERSION, Call, GatewayError, action
from campaigns.sandbox.registry import TAGS, SandboxApp, device, emas_device_id, has_tag

AUDIENCE_SCAN_MAX = 20_000  # registry devices examined to size a TAG / ALL audience
FUNNEL_SAMPLE = 2_000  # audience members whose outcomes stand for a TAG / ALL push
RECORDS_MAX_DAYS = 7
RECORDS_PAGE_MAX = 10_000
RECORDS_PAGE_SIZE_MAX = 100
RECORDS_PAGE_SIZE_DEFAULT = 20
RECORDS_SOURCES = frozenset({"API", "CONSOLE", "OpenAPIExplorer"})
SANDBOX_SOURCE = "API"
PLATFORMS = {
    "iOS": frozenset({"ios"}),
    "ANDROID": frozenset({"android"}),
    "HARMONY": frozenset({"harmony"}),
    "ALL": frozenset({"android", "ios", "harmony"}),
}
_TAG_NAME = re.compile(r"^tag(\d+)$")
_DIGITS = re.compile(r"^\d+$")


def fire_due(app_key: str, now: datetime) -> int:
    """Scheduled pushes of ``app_key`` whose PushTime has passed are sent (a conditional
    update, so concurrent callers fire each once). Returns how many fired."""
    return SandboxPush.objects.filter(
        provider=SandboxPush.Provider.EMAS,
        app=app_key,
        status=SandboxPush.Status.SCHEDULED,
        fires_at__lte=now,
    ).update(status=SandboxPush.Status.SENT)


def push_time(push: SandboxPush) -> datetime:
    """When the push goes or went out: its PushTime when scheduled, else when accepted."""
    return push.fires_at or push.accepted_at


def _in_tags(tree: Mapping[str, Any], seed: int, index: int) -> bool:
    ((operator, operand),) = tree.items()
    if operator == "tag":
        match = _TAG_NAME.match(operand)
        return match is not None and int(match[1]) < TAGS and has_tag(seed, index, int(match[1]))
    if operator == "and":
        return all(_in_tags(node, seed, index) for node in operand)
    if operator == "or":
        return any(_in_tags(node, seed, index) for node in operand)
    return not _in_tags(operand, seed, index)


def audience(app: SandboxApp, seed: int, params: Mapping[str, str]) -> tuple[int, list[int]]:
    """The size of a TAG / ALL push's audience (exact for apps of up to AUDIENCE_SCAN_MAX
    devices, else the share among the first ones, scaled) and a sample of its members."""
    platforms = PLATFORMS[params["DeviceType"]]
    tree = tag_expression(params["TargetValue"]) if params["Target"] == "TAG" else None
    scanned = min(app.size, AUDIENCE_SCAN_MAX)
    members = [
        index
        for index in range(scanned)
        if device(seed, index).platform in platforms
        and (tree is None or _in_tags(tree, seed, index))
    ]
    size = len(members) if scanned == app.size else round(len(members) * app.size / scanned)
    return size, members[:FUNNEL_SAMPLE]


@dataclass
class Funnel:
    """One PushStat, field names as on the wire."""

    AcceptCount: int = 0
    SentCount: int = 0
    ReceivedCount: int = 0
    OpenedCount: int = 0
    DeletedCount: int = 0
    SmsSentCount: int = 0
    SmsSkipCount: int = 0
    SmsFailedCount: int = 0
    SmsReceiveSuccessCount: int = 0
    SmsReceiveFailedCount: int = 0


def funnel(app: SandboxApp, push: SandboxPush, now: datetime) -> Funnel:
    """The push's counts at ``now``; a push not (yet) sent has accepted its targets only."""
    result = Funnel(AcceptCount=push.target_count)
    if push.status != SandboxPush.Status.SENT:
        return result
    elapsed = (now - push_time(push)).total_seconds()
    sms_delay = push.sms_delay_s
    if push.params.get("Target") in ("TAG", "ALL"):
        _sampled_funnel(app, push, result, elapsed, sms_delay)
        return result
    for one in fates(push):
        arrived, opened, deleted, sms_sent = one.by(elapsed)
        if one.reached:
            result.SentCount += 1
            result.ReceivedCount += arrived
            result.OpenedCount += opened
            result.DeletedCount += deleted
            result.SmsSentCount += sms_sent
        else:
            result.SmsFailedCount += sms_sent  # no such device: no phone number either
        result.SmsSkipCount += one.sms_after_s is None
    if sms_delay is None or elapsed < sms_delay:
        result.SmsSkipCount = 0
    result.SmsReceiveSuccessCount = result.SmsSentCount
    return result


def _sampled_funnel(
    app: SandboxApp, push: SandboxPush, result: Funnel, elapsed: float, sms_delay: float | None
) -> None:
    # The seed the push was accepted with: changing it later does not rewrite history.
    seed = push.seed
    _, sample = audience(app, seed, push.params)
    result.SentCount = push.target_count
    if not sample:
        return
    delivery = Delivery.of(push)
    arrived = opened = deleted = sms_sent = skipped = 0
    for index in sample:
        target = emas_device_id(index)
        one = fate(app, target, f"{push.task_id}:{target}", seed=seed, delivery=delivery)
        has_arrived, has_opened, has_deleted, has_sms = one.by(elapsed)
        arrived += has_arrived
        opened += has_opened
        deleted += has_deleted
        sms_sent += has_sms
        skipped += one.sms_after_s is None
    scale = push.target_count / len(sample)
    result.ReceivedCount = round(arrived * scale)
    result.OpenedCount = round(opened * scale)
    result.DeletedCount = round(deleted * scale)
    if sms_delay is not None:
        result.SmsSentCount = result.SmsReceiveSuccessCount = round(sms_sent * scale)
        result.SmsSkipCount = round(skipped * scale) if elapsed >= sms_delay else 0


def message_id(read: Reader) -> str:
    value = read.required("MessageId").strip()
    if not _DIGITS.match(value):
        raise invalid_format("MessageId", "MessageId")
    return value


@action(EMAS_VERSION, "QueryPushStatByMsg")
def query_push_stat_by_msg(call: Call) -> dict[str, Any]:
    app = emas_app(call.params)
    wanted = message_id(Reader(call.params))
    fire_due(app.key, call.received_at)
    push = SandboxPush.objects.filter(
        provider=SandboxPush.Provider.EMAS, app=app.key, task_id=wanted
    ).first()
    stats = (
        []
        if push is None
        else [{"MessageId": wanted, **asdict(funnel(app, push, call.received_at))}]
    )
    return {"PushStats": {"PushStat": stats}}


@action(EMAS_VERSION, "QueryPushRecords")
def query_push_records(call: Call) -> dict[str, Any]:
    app = emas_app(call.params)
    read = Reader(call.params)
    start, end = _required_time(read, "StartTime"), _required_time(read, "EndTime")
    if end < start:
        raise invalid_parameter("EndTime cannot be earlier than StartTime")
    if end - start > timedelta(days=RECORDS_MAX_DAYS):
        raise GatewayError(
            400,
            "InvalidPeriod.ExceedDays",
            f"The period between specified EndTime and StartTime exceeds {RECORDS_MAX_DAYS} days.",
        )
    page = read.integer("Page", 1, RECORDS_PAGE_MAX) or 1
    page_size = read.integer("PageSize", 1, RECORDS_PAGE_SIZE_MAX) or RECORDS_PAGE_SIZE_DEFAULT
    push_type = read.choice("PushType", PUSH_TYPES | {"LIVE_ACTIVITY"})
    target = read.choice("Target", TARGETS)
    source = read.choice("Source", RECORDS_SOURCES)
    keyword = (read.text("Keyword") or "").strip()
    fire_due(app.key, call.received_at)

    pushes = (
        SandboxPush.objects.filter(provider=SandboxPush.Provider.EMAS, app=app.key)
        .annotate(sent_time=Coalesce("fires_at", "accepted_at"))
        .filter(sent_time__gte=start, sent_time__lte=end)
    )
    if source is not None and source != SANDBOX_SOURCE:
        pushes = pushes.none()
    if push_type is not None:
        pushes = pushes.filter(params__PushType=push_type)
    if target is not None:
        pushes = pushes.filter(params__Target=target)
    if keyword:
        pushes = pushes.filter(
            Q(task_id=keyword) | Q(title__icontains=keyword) | Q(body__icontains=keyword)
        )
    total = pushes.count()
    first = (page - 1) * page_size
    rows = pushes.order_by("-sent_time", "-pk")[first : first + page_size]
    return {
        "Page": page,
        "PageSize": page_size,
        "Total": total,
        "PushInfos": {"PushInfo": [_push_info(app, push) for push in rows]},
    }


def _required_time(read: Reader, name: str) -> datetime:
    moment = read.utc_time(name)
    if moment is None:
        raise empty(name, name)
    return moment


def _push_info(app: SandboxApp, push: SandboxPush) -> dict[str, Any]:
    return {
        "AppKey": int(app.key),
        "MessageId": push.task_id,
        "PushTime": format_time(push_time(push)),
        "PushType": push.params.get("PushType", ""),
        "DeviceType": push.delivery_type,
        "Target": push.params.get("Target", ""),
        "Title": push.title,
        "Body": push.body,
        "Source": SANDBOX_SOURCE,
        "Status": push.status.upper(),  # SCHEDULED, SENT, CANCELLED
    }
