"""The sandbox's mPaaS Message Push gateway (API version 2020-10-28): PushSimple,
PushTemplate, PushMultiple and PushBroadcast, written from the seed documents and the
official SDK (alibabacloud_mpaas20201028), not from Pushdeck's own client.

The schedules, revocations and statistics are in ``mpaas_stats``, the template store in
``mpaas_templates``, the parameter rules in ``mpaas_rules``; importing this module
registers every mPaaS action with the gateway.

mPaaS refuses a request with HTTP 200: ResultCode is not "OK" and ResultMessage (and, for
the push actions, PushResult.ResultMsg with PushResult.Success false) says why, naming the
parameter ("param is invalid: DeliveryType must be one of 1, 2, 3, not 4"). The template
actions answer {"Success": false, "Code": ..., "Msg": ...} instead.

=================== =================================================================
ResultCode          When
=================== =================================================================
OK                  accepted
PARAM_ILLEGAL       a parameter is missing, malformed or out of range (every rule of the
                    seeds: required parameters, DeliveryType per API, JSON parameters,
                    StrategyType/StrategyContent, SMS fields, PushStatus periods…)
APP_NOT_EXIST       AppId:WorkspaceId is not an mPaaS app of the registry
TARGET_OVER_LIMIT   more than 10 targets in TargetMsgkey, or more than 100 TargetMsg
MSGKEY_DUPLICATE    the same msgKey twice in one call
TEMPLATE_NOT_EXIST  TemplateName (or TemplateId) names no template of the app
TEMPLATE_EXIST      CreateTemplate with a name the app already has
SCHEDULE_LIMIT      already 100 pending scheduled or recurring tasks for the app
TASK_NOT_EXIST      TaskId / UniqueIds names no task of the app
TASK_STATUS_ILLEGAL cancelling a schedule that is not pending; revoking a task not sent
MESSAGE_NOT_EXIST   RevokePushMessage: no message MessageId (its msgKey) to TargetId
REVOKE_EXPIRED      revoking more than 24 h after the push was sent
=================== =================================================================

Success: {"ResultCode": "OK", "ResultMessage": "", "PushResult": {"Success": true,
"ResultMsg": "", "Data": <task id>}}; for strategyType 1 or 2 the task id is the
scheduled task's, which QueryPushSchedulerList and CancelPushScheduler know.

Repeated msgKeys. The ledger holds each (app, msgKey) once. A call all of whose msgKeys
the ledger already has delivers nothing and records nothing new: it succeeds with the
task id of the push that first carried its first msgKey (the repeats' ``attempts``
grow). A call with some new msgKeys is a new task of only the new ones (the repeats are
not delivered again, their ``attempts`` grow). A broadcast's Msgkey is its idempotency
key: a broadcast with a Msgkey already broadcast answers the first task's id. The 100
pending schedules limit applies only to calls that would schedule something new.

Choices where the seeds are silent or disagree with their own examples:
- PushSimple's pushStyle is marked required, but the official examples omit it: it is
  optional (default 0) and must be 0, 1 or 2 when sent.
- PushBroadcast's period rules apply when PushStatus or TimeMode is sent (the examples
  send neither): TimeMode 0 needs BindPeriod for PushStatus 0 and UnBindPeriod for 1
  and 2; TimeMode 1 needs BindStartTime/BindEndTime, or UnBindStartTime/UnBindEndTime.
- fixedTime is truncated to the second; unknown #placeholders# are left as they are.
- Days (today 00:00, recurring times) are those of Asia/Shanghai, the region's.
- SMS fallback: smsStrategy 1 (resend) sends the SMS to the unreached at expiry, 2
  (concurrent) at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, NamedTuple

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control, mpaas_templates
from campaigns.sandbox.delivery import Delivery
from campaigns.sandbox.gateway import MPAAS_VERSION, Call, action
from campaigns.sandbox.ledger import Messages, Outgoing, accept
from campaigns.sandbox.mpaas_rules import (
    MAX_MSGKEY_LENGTH,
    MAX_TARGET_LENGTH,
    MSGKEY_DUPLICATE,
    OK,
    SCHEDULE_LIMIT,
    TARGET_OVER_LIMIT,
    TEMPLATE_NOT_EXIST,
    Params,
    Rejected,
    Strategy,
    answers,
    check_msg_key,
    check_target,
    objects_or_none,
    parse_object,
    reject,
    render,
    render_columns,
    resolve_app,
    strategy,
)
from campaigns.sandbox.mpaas_stats import broadcast_target_count, fire_due
from campaigns.sandbox.registry import SandboxApp

MAX_SIMPLE_TARGETS = 10  # TargetMsgkey of PushSimple and PushTemplate
MAX_MULTIPLE_TARGETS = 100  # TargetMsg of PushMultiple
MAX_PENDING_SCHEDULES = 100  # scheduled or recurring tasks not yet executed, per app
SIMPLE_DELIVERY_TYPES = (1, 2, 3, 5, 6)  # Android, iOS, user, Live Activity token / id
MULTIPLE_DELIVERY_TYPES = (1, 2, 3)
BROADCAST_DELIVERY_TYPES = (1, 2, 7)  # Android, iOS, HarmonyOS
PERIODS = (1, 2, 3, 4)  # BindPeriod / UnBindPeriod: 7, 15, 60 days, permanent
_TARGET_MSG_PREFIX = "TargetMsg."
_TARGET_MSG = re.compile(r"TargetMsg\.(\d{1,4})\.(\w+)")

Status = SandboxPush.Status


@dataclass(frozen=True)
class Common:
    task_name: str
    delivery_type: int
    expires: int
    strategy: Strategy
    sms_delay_s: float | None


def _common(
    call: Call, params: Params, delivery_types: tuple[int, ...], *, sms: bool, activity: bool
) -> Common:
    """The rules every push action shares."""
    task_name = params.text("TaskName", required=True)
    delivery_type = params.whole("DeliveryType", choices=delivery_types)
    expires = params.whole("ExpiredSeconds", minimum=1)
    params.choice("Classification", ("0", "1"))
    params.choice("NotifyType", ("transparent", "notify"))
    params.json_object("ExtendedParams")
    params.json_object("ThirdChannelCategory")
    levels = params.json_object("NotifyLevel") or {}
    if "oppo" in levels and str(levels["oppo"]) not in ("1", "2", "3"):
        reject("NotifyLevel.oppo", f"must be 1, 2 or 3, not {levels['oppo']!r}")
    if activity:
        params.choice("ActivityEvent", ("update", "end"))
        params.json_object("ActivityContentState")
        params.integer("DismissalDate", minimum=0)
    sms_delay_s = None
    if sms:
        sms_strategy = params.integer("SmsStrategy", default=0, choices=(0, 1, 2))
        if sms_strategy:
            for name in ("SmsSignName", "SmsTemplateCode", "SmsTemplateParam"):
                if not params.text(name).strip():
                    reject(name, "is required when SmsStrategy is not 0")
            params.json_object("SmsTemplateParam")
            sms_delay_s = float(expires) if sms_strategy == 1 else 0.0
    return Common(
        task_name, delivery_type, expires, strategy(params, call.received_at), sms_delay_s
    )


def _template(app: SandboxApp, params: Params) -> mpaas_templates.Template:
    name = params.text("TemplateName", required=True)
    template = mpaas_templates.find(app.key, name)
    if template is None:
        raise Rejected(TEMPLATE_NOT_EXIST, f"template {name} does not exist")
    return template


def _target_msgkey(params: Params) -> list[tuple[str, str]]:
    """TargetMsgkey: {target: msgKey}, 1 to 10 pairs, msgKeys unique."""
    pairs = parse_object("TargetMsgkey", params.text("TargetMsgkey", required=True))
    if not pairs:
        reject("TargetMsgkey", "must name at least one target")
    if len(pairs) > MAX_SIMPLE_TARGETS:
        raise Rejected(
            TARGET_OVER_LIMIT,
            f"param is invalid: TargetMsgkey has {len(pairs)} targets, at most "
            f"{MAX_SIMPLE_TARGETS}",
        )
    targets: list[tuple[str, str]] = []
    for target, msg_key in pairs.items():
        if isinstance(msg_key, bool) or not isinstance(msg_key, str | int):
            reject("TargetMsgkey", f"msgKey of {target} must be a string")
        check_target("TargetMsgkey target", target)
        check_msg_key(f"TargetMsgkey msgKey of {target}", str(msg_key))
        targets.append((target, str(msg_key)))
    _unique([msg_key for _, msg_key in targets])
    return targets


def _unique(msg_keys: Sequence[str]) -> None:
    if len(set(msg_keys)) == len(msg_keys):
        return
    seen: set[str] = set()
    for msg_key in msg_keys:
        if msg_key in seen:
            raise Rejected(MSGKEY_DUPLICATE, f"param is invalid: msgKey {msg_key} is repeated")
        seen.add(msg_key)


def _success(task_id: str) -> dict[str, Any]:
    return {
        "ResultCode": OK,
        "ResultMessage": "",
        "PushResult": {"Success": True, "ResultMsg": "", "Data": task_id},
    }


def _check_schedule_room(app: SandboxApp, common: Common, messages: Messages) -> None:
    if common.strategy.type == 0:
        return
    fire_due(app.key)  # schedules whose time has come no longer count as pending
    keys = messages.msg_keys
    if keys and SandboxMessage.objects.filter(app=app.key, msg_key__in=keys).count() == len(keys):
        return  # nothing new: the answer is the first push's
    pending = SandboxPush.objects.filter(
        provider="mpaas", app=app.key, status=Status.SCHEDULED
    ).count()
    if pending >= MAX_PENDING_SCHEDULES:
        raise Rejected(
            SCHEDULE_LIMIT,
            f"the app already has {pending} pending scheduled or recurring tasks, "
            f"at most {MAX_PENDING_SCHEDULES}",
        )


def _push_params(params: Mapping[str, str]) -> dict[str, str]:
    """The call's parameters but the per-target ones, which are in the ledger rows; by
    name. (The set difference spares PushMultiple a Python loop over its 300 names.)"""
    names = sorted(params.keys() - _ALL_SDK_NAMES)
    return {name: params[name] for name in names if not name.startswith(_TARGET_MSG_PREFIX)}


def _record(
    call: Call,
    app: SandboxApp,
    common: Common,
    messages: Messages,
    *,
    template_name: str = "",
    title: str = "",
    body: str = "",
    idempotency_key: str = "",
) -> SandboxPush:
    _check_schedule_room(app, common, messages)
    scheduled = common.strategy.type != 0
    accepted = accept(
        app=app,
        push_fields={
            "provider": "mpaas",
            "action": call.action,
            "task_id": uuid.uuid4().hex,
            "request_id": call.request_id,
            "idempotency_key": idempotency_key,
            "task_name": common.task_name,
            "template_name": template_name,
            "title": title,
            "body": body,
            "delivery_type": str(common.delivery_type),
            "strategy_type": common.strategy.type,
            "strategy_content": common.strategy.content,
            "status": Status.SCHEDULED if scheduled else Status.SENT,
            "fires_at": common.strategy.fires_at,
            "params": _push_params(call.params),
        },
        messages=messages,
        seed=control.current().seed,
        accepted_at=call.received_at,
        delivery=Delivery(float(common.expires), common.sms_delay_s),
    )
    return accepted.push


@action(MPAAS_VERSION, "PushSimple")
@answers("push")
def push_simple(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    title = params.text("Title", required=True)
    content = params.text("Content", required=True)
    params.integer("PushStyle", choices=(0, 1, 2))
    params.integer("PushAction", choices=(0, 1))
    params.integer("Silent", choices=(0, 1))
    params.json_object("ImageUrls")
    params.json_object("IconUrls")
    common = _common(call, params, SIMPLE_DELIVERY_TYPES, sms=True, activity=True)
    targets = _target_msgkey(params)
    messages = Messages.of(
        [Outgoing(target, msg_key, title, content) for target, msg_key in targets]
    )
    push = _record(call, app, common, messages, title=title, body=content)
    return _success(push.task_id)


@action(MPAAS_VERSION, "PushTemplate")
@answers("push")
def push_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    name = params.text("TemplateName", required=True)
    if "," in name:
        reject("TemplateName", "cannot contain commas")
    values = params.json_object("TemplateKeyValue") or {}
    common = _common(call, params, SIMPLE_DELIVERY_TYPES, sms=True, activity=True)
    targets = _target_msgkey(params)
    template = _template(app, params)
    title, body = render(template.title, values), render(template.content, values)
    messages = Messages.of([Outgoing(target, msg_key, title, body) for target, msg_key in targets])
    push = _record(call, app, common, messages, template_name=name, title=title, body=body)
    return _success(push.task_id)


class TargetMsgs(NamedTuple):
    """PushMultiple's TargetMsg list, as columns."""

    targets: list[str]
    msg_keys: list[str]
    values: list[dict[str, Any]]  # TemplateKeyValue, parsed once


def _target_msgs(params: Params) -> TargetMsgs:
    """TargetMsg.N.{Target,MsgKey,TemplateKeyValue,ExtendedParams}, as the SDK flattens
    its list: 1 to 100 entries, each with a target and a msgKey, msgKeys unique."""
    columns = _valid_sdk_target_msgs(params.raw)
    return _any_target_msgs(params) if columns is None else columns


_TARGET_MSG_FIELDS = ("Target", "MsgKey", "TemplateKeyValue", "ExtendedParams")
# The names the SDK gives a list of 100 TargetMsg, by field: "TargetMsg.1.Target", ...
_SDK_NAMES = {
    field: tuple(f"{_TARGET_MSG_PREFIX}{n}.{field}" for n in range(1, MAX_MULTIPLE_TARGETS + 1))
    for field in _TARGET_MSG_FIELDS
}
_ALL_SDK_NAMES = frozenset(chain.from_iterable(_SDK_NAMES.values()))


def _valid_sdk_target_msgs(raw: Mapping[str, str]) -> TargetMsgs | None:
    """The TargetMsg list when it is numbered 1 to N with the SDK's names and is valid,
    read column by column with C loops; None for anything else, which ``_any_target_msgs``
    then reads entry by entry, naming what it refuses.

    Reading the 300 parameters of a PushMultiple one by one was a fifth of its cost."""
    names = raw.keys() & _ALL_SDK_NAMES
    # Every parameter named "TargetMsg.…" must be one of those. (A name holding a line
    # break can only make this count too high, which sends the call the long way.)
    if ("\n" + "\n".join(raw)).count("\n" + _TARGET_MSG_PREFIX) != len(names):
        return None
    count = len(names.intersection(_SDK_NAMES["Target"]))
    numbered = {field: _SDK_NAMES[field][:count] for field in _TARGET_MSG_FIELDS}
    if not (
        count
        and names.issuperset(numbered["Target"])
        and names.issuperset(numbered["MsgKey"])
        and names.isdisjoint(chain.from_iterable(every[count:] for every in _SDK_NAMES.values()))
    ):
        return None
    targets = list(map(raw.__getitem__, numbered["Target"]))
    msg_keys = list(map(raw.__getitem__, numbered["MsgKey"]))
    if not (
        all(map(str.strip, targets))
        and max(map(len, targets)) <= MAX_TARGET_LENGTH
        and all(map(str.strip, msg_keys))
        and max(map(len, msg_keys)) <= MAX_MSGKEY_LENGTH
        and len(set(msg_keys)) == count
    ):
        return None
    values = objects_or_none(map(raw.get, numbered["TemplateKeyValue"], repeat("")))
    if (
        values is None
        or objects_or_none(map(raw.get, numbered["ExtendedParams"], repeat(""))) is None
    ):
        return None
    return TargetMsgs(targets, msg_keys, values)


def _any_target_msgs(params: Params) -> TargetMsgs:
    """``_target_msgs`` for any numbering and spelling of the entries, refusing the first
    invalid one by its parameter's name."""
    entries: dict[int, dict[str, str]] = {}
    match = _TARGET_MSG.fullmatch
    for key, value in params.raw.items():
        found = match(key)
        if found:
            number, field = found.groups()
            entries.setdefault(int(number), {})[field] = value
    if not entries:
        reject("TargetMsg", "is required")
    if len(entries) > MAX_MULTIPLE_TARGETS:
        raise Rejected(
            TARGET_OVER_LIMIT,
            f"param is invalid: TargetMsg has {len(entries)} targets, at most "
            f"{MAX_MULTIPLE_TARGETS}",
        )
    result = TargetMsgs([], [], [])
    for number in sorted(entries):
        entry = entries[number]
        target, msg_key = entry.get("Target", ""), entry.get("MsgKey", "")
        check_target(f"TargetMsg.{number}.Target", target)
        check_msg_key(f"TargetMsg.{number}.MsgKey", msg_key)
        values, extended = entry.get("TemplateKeyValue", ""), entry.get("ExtendedParams", "")
        parsed = (
            parse_object(f"TargetMsg.{number}.TemplateKeyValue", values) if values.strip() else {}
        )
        if extended.strip():
            parse_object(f"TargetMsg.{number}.ExtendedParams", extended)
        result.targets.append(target)
        result.msg_keys.append(msg_key)
        result.values.append(parsed)
    _unique(result.msg_keys)
    return result


@action(MPAAS_VERSION, "PushMultiple")
@answers("push")
def push_multiple(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    params.text("TemplateName", required=True)
    common = _common(call, params, MULTIPLE_DELIVERY_TYPES, sms=False, activity=True)
    entries = _target_msgs(params)
    template = _template(app, params)
    titles, bodies = render_columns((template.title, template.content), entries.values)
    messages = Messages(entries.targets, entries.msg_keys, titles, bodies)
    push = _record(
        call,
        app,
        common,
        messages,
        template_name=template.name,
        title=template.title,
        body=template.content,
    )
    return _success(push.task_id)


def _broadcast_audience(params: Params) -> None:
    """PushStatus (0 attached, 1 all, 2 detached) and the period of the audience."""
    status = params.integer("PushStatus", choices=(0, 1, 2))
    mode = params.integer("TimeMode", choices=(0, 1))
    params.integer("BindPeriod", choices=PERIODS)
    params.integer("UnBindPeriod", choices=PERIODS)
    times = {
        name: params.integer(name, minimum=0)
        for name in ("BindStartTime", "BindEndTime", "UnBindStartTime", "UnBindEndTime")
    }
    if status is None and mode is None:
        return
    status = status or 0
    prefix = "Bind" if status == 0 else "UnBind"
    if not mode:
        if params.integer(f"{prefix}Period") is None:
            reject(f"{prefix}Period", f"is required when PushStatus is {status}")
        return
    start, end = times[f"{prefix}StartTime"], times[f"{prefix}EndTime"]
    for name, value in ((f"{prefix}StartTime", start), (f"{prefix}EndTime", end)):
        if value is None:
            reject(name, f"is required when TimeMode is 1 and PushStatus is {status}")
    assert start is not None
    assert end is not None
    if end < start:
        reject(f"{prefix}EndTime", f"cannot be earlier than {prefix}StartTime")


@action(MPAAS_VERSION, "PushBroadcast")
@answers("push")
def push_broadcast(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    msg_key = params.text("Msgkey", required=True)
    check_msg_key("Msgkey", msg_key)
    params.text("TemplateName", required=True)
    values = params.json_object("TemplateKeyValue") or {}
    params.integer("AndroidChannel", choices=(1, 2))
    _broadcast_audience(params)
    common = _common(call, params, BROADCAST_DELIVERY_TYPES, sms=False, activity=False)
    template = _template(app, params)
    first = SandboxPush.objects.filter(
        provider="mpaas", app=app.key, action=call.action, idempotency_key=msg_key
    ).first()
    if first is not None:
        return _success(first.task_id)
    push = _record(
        call,
        app,
        common,
        Messages([], [], [], []),
        template_name=template.name,
        title=render(template.title, values),
        body=render(template.content, values),
        idempotency_key=msg_key,
    )
    # Every device of the platform, derived, not a row each.
    push.target_count = broadcast_target_count(app.size, common.delivery_type)
    push.save(update_fields=["target_count"])
    return _success(push.task_id)
