"""mPaaS Message Push (API 2020-10-28): the four push actions as typed inputs and pure builders.

Each ``build_push_*`` function checks every rule of the seeds (PushSimple, PushTemplate,
PushMultiple, PushBroadcast) before it builds anything, names each broken rule by the wire
name of its parameter, and returns a ``ProviderRequest`` whose parameters are exactly what
the official SDK (``alibabacloud_mpaas20201028``) sends for the same logical input: the
vendor maps travel as compact JSON strings ("shrink"), PushMultiple's targets flatten as
``TargetMsg.1.Target``, datetimes become millisecond timestamps.

The option groups they share (app, schedule, vendor options, SMS fallback, Live Activity)
and their rules live in ``mpaas_options``. The builders are pure: the caller passes ``now``
(an aware datetime; "today" is the day of ``now`` in its own time zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from django.utils.translation import gettext as _

from campaigns.providers.base import ProviderRequest
from campaigns.providers.errors import RuleCheck
from campaigns.providers.mpaas_options import (
    IMMEDIATE,
    NO_VENDOR_OPTIONS,
    LiveActivity,
    MpaasApp,
    SmsFallback,
    Strategy,
    StrategyType,
    VendorOptions,
    app_params,
    check_app,
    check_aware,
    check_live_activity,
    check_one_of,
    check_sms,
    check_strategy,
    check_vendor,
    epoch_ms,
    live_activity_params,
    put_json,
    put_param,
    sms_params,
    strategy_content,
    wire,
)
from campaigns.providers.wire import compact_json, flatten

API_VERSION = "2020-10-28"

# Limits from the seeds, each next to the rule that enforces it.
PUSH_SIMPLE_MAX_TARGETS = 10  # "targetMsgkey can contain up to 10 key-value pairs"
PUSH_TEMPLATE_MAX_TARGETS = 10
PUSH_MULTIPLE_MAX_TARGETS = 100  # "The maximum number of targets ... is 100"


class DeliveryType(IntEnum):
    ANDROID = 1  # Android device (broadcast: every Android device)
    IOS = 2  # iOS device (broadcast: every iOS device)
    USER = 3  # user ID bound by the app
    LIVE_ACTIVITY_TOKEN = 5  # Live Activity pushToken
    LIVE_ACTIVITY_ID = 6  # Live Activity activityId
    HARMONYOS = 7  # HarmonyOS broadcast


SIMPLE_DELIVERY_TYPES = frozenset(
    {
        DeliveryType.ANDROID,
        DeliveryType.IOS,
        DeliveryType.USER,
        DeliveryType.LIVE_ACTIVITY_TOKEN,
        DeliveryType.LIVE_ACTIVITY_ID,
    }
)
TEMPLATE_DELIVERY_TYPES = SIMPLE_DELIVERY_TYPES
MULTIPLE_DELIVERY_TYPES = frozenset({DeliveryType.ANDROID, DeliveryType.IOS, DeliveryType.USER})
BROADCAST_DELIVERY_TYPES = frozenset(
    {DeliveryType.ANDROID, DeliveryType.IOS, DeliveryType.HARMONYOS}
)


class NotifyType(StrEnum):
    TRANSPARENT = "transparent"  # MPS self-built channel
    NOTIFY = "notify"  # default channel


class PushAction(IntEnum):
    OPEN_URL = 0
    OPEN_ACTIVITY = 1  # Android intent activity


class PushStyle(IntEnum):
    DEFAULT = 0
    BIG_TEXT = 1
    BIG_PICTURE = 2  # image and text


class PushStatus(IntEnum):
    BOUND = 0  # users bound to a device
    ALL = 1  # bound and unbound users
    UNBOUND = 2


class Period(IntEnum):
    """bindPeriod / unBindPeriod: how long ago users bound (or unbound) their device."""

    WITHIN_7_DAYS = 1
    WITHIN_15_DAYS = 2
    WITHIN_60_DAYS = 3
    ANY_TIME = 4


class TimeMode(IntEnum):
    DAYS = 0  # bindPeriod / unBindPeriod
    RANGE = 1  # bind/unBind start and end times


class AndroidChannel(IntEnum):
    MPS = 1  # MPS self-built channel
    DEFAULT = 2


@dataclass(frozen=True)
class Target:
    """One PushSimple / PushTemplate target and the business ID of its message."""

    target: str  # device ID or user ID, as deliveryType says
    msg_key: str


@dataclass(frozen=True, kw_only=True)
class PushOptions:
    """What every push action shares."""

    task_name: str
    delivery_type: DeliveryType
    expired_seconds: int
    strategy: Strategy = IMMEDIATE
    vendor: VendorOptions = NO_VENDOR_OPTIONS
    notify_type: NotifyType | None = None
    push_action: PushAction | None = None
    silent: bool | None = None
    extended_params: Mapping[str, str] = field(default_factory=dict)
    audience_is_group: bool = False  # an analytics group or tag audience: no schedule


@dataclass(frozen=True, kw_only=True)
class PushSimple(PushOptions):
    targets: tuple[Target, ...]
    title: str
    content: str
    push_style: PushStyle = PushStyle.DEFAULT
    uri: str | None = None
    image_urls: Mapping[str, str] = field(default_factory=dict)  # {"defaultUrl": ...}
    icon_urls: Mapping[str, str] = field(default_factory=dict)
    sms: SmsFallback | None = None
    live_activity: LiveActivity | None = None


@dataclass(frozen=True, kw_only=True)
class PushTemplate(PushOptions):
    targets: tuple[Target, ...]
    template_name: str
    template_values: Mapping[str, str] = field(default_factory=dict)
    placeholders: tuple[str, ...] = ()  # the template's #placeholders#, when known
    sms: SmsFallback | None = None
    live_activity: LiveActivity | None = None


@dataclass(frozen=True)
class TargetMessage:
    """One PushMultiple target with its own template values."""

    target: str
    msg_key: str
    template_values: Mapping[str, str] = field(default_factory=dict)
    extended_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PushMultiple(PushOptions):
    target_msgs: tuple[TargetMessage, ...]
    template_name: str
    placeholders: tuple[str, ...] = ()
    live_activity: LiveActivity | None = None


@dataclass(frozen=True, kw_only=True)
class PushBroadcast(PushOptions):
    msg_key: str
    template_name: str
    template_values: Mapping[str, str] = field(default_factory=dict)
    placeholders: tuple[str, ...] = ()
    push_status: PushStatus = PushStatus.BOUND
    time_mode: TimeMode = TimeMode.DAYS
    bind_period: Period | None = None
    unbind_period: Period | None = None
    bind_start: datetime | None = None
    bind_end: datetime | None = None
    unbind_start: datetime | None = None
    unbind_end: datetime | None = None
    android_channel: AndroidChannel | None = None


# -- rules shared by the actions -------------------------------------------------------------


def check_options(
    check: RuleCheck,
    app: MpaasApp,
    push: PushOptions,
    *,
    delivery_types: frozenset[DeliveryType],
    now: datetime,
) -> None:
    check_app(check, app)
    check.require(bool(push.task_name.strip()), "TaskName", _("The push task needs a name."))
    check_one_of(check, "DeliveryType", push.delivery_type, sorted(delivery_types))
    check.require(
        isinstance(push.expired_seconds, int)
        and not isinstance(push.expired_seconds, bool)
        and push.expired_seconds > 0,
        "ExpiredSeconds",
        _("The validity period must be a whole number of seconds above zero."),
    )
    if push.notify_type is not None:
        check_one_of(check, "NotifyType", push.notify_type, NotifyType)
    if push.push_action is not None:
        check_one_of(check, "PushAction", push.push_action, PushAction)
    if push.silent is not None:
        check.require(
            isinstance(push.silent, bool), "Silent", _("Silent must be yes (1) or no (0).")
        )
    check_strategy(check, push.strategy, audience_is_group=push.audience_is_group, now=now)
    check_vendor(check, push.vendor)


def check_placeholders(
    check: RuleCheck,
    values: Mapping[str, str],
    placeholders: tuple[str, ...],
    *,
    wire_name: str = "TemplateKeyValue",
) -> None:
    missing = missing_placeholders(values, placeholders)
    if missing:
        check.fail(
            wire_name,
            _("The template needs a value for %(placeholders)s.")
            % {"placeholders": ", ".join(f"#{name}#" for name in missing)},
        )


def check_template_name(check: RuleCheck, name: str) -> None:
    if not name.strip():
        check.fail("TemplateName", _("Choose the template to send."))
    elif "," in name:
        check.fail("TemplateName", _("A template name cannot contain commas."))


def missing_placeholders(values: Mapping[str, str], placeholders: tuple[str, ...]) -> list[str]:
    names = [placeholder.strip("#") for placeholder in placeholders]
    return [name for name in dict.fromkeys(names) if not str(values.get(name) or "").strip()]


def check_targets(check: RuleCheck, targets: tuple[Target, ...], *, limit: int) -> None:
    if not targets:
        check.fail("TargetMsgkey", _("Add at least one target."))
    elif len(targets) > limit:
        check.fail(
            "TargetMsgkey",
            _("At most %(limit)d targets per call; this batch has %(count)d.")
            % {"limit": limit, "count": len(targets)},
        )
    _check_unique(check, "TargetMsgkey", [target.target for target in targets], _("target"))
    _check_unique(check, "TargetMsgkey", [target.msg_key for target in targets], _("message key"))
    if any(not target.target.strip() for target in targets):
        check.fail("TargetMsgkey", _("A target is empty."))
    if any(not target.msg_key.strip() for target in targets):
        check.fail("TargetMsgkey", _("Every target needs a message key."))


def _check_unique(check: RuleCheck, wire_name: str, values: list[str], what: str) -> None:
    seen: set[str] = set()
    repeated: set[str] = set()
    for value in values:
        if value in seen:
            repeated.add(value)
        seen.add(value)
    if repeated:
        check.fail(
            wire_name,
            _("Each %(what)s may appear only once in a call; repeated: %(values)s.")
            % {"what": what, "values": ", ".join(sorted(repeated))},
        )


# -- wire parameters -------------------------------------------------------------------------


def options_params(app: MpaasApp, push: PushOptions) -> dict[str, str]:
    params = app_params(app)
    params["TaskName"] = push.task_name
    params["DeliveryType"] = wire(push.delivery_type)
    params["ExpiredSeconds"] = wire(push.expired_seconds)
    put_param(params, "NotifyType", push.notify_type)
    put_param(params, "PushAction", push.push_action)
    put_param(params, "Silent", push.silent)
    put_json(params, "ExtendedParams", push.extended_params)
    if push.strategy.type is not StrategyType.IMMEDIATE:
        params["StrategyType"] = wire(push.strategy.type)
        params["StrategyContent"] = compact_json(strategy_content(push.strategy))
    vendor = push.vendor
    put_param(params, "Classification", vendor.classification)
    put_json(params, "ThirdChannelCategory", vendor.third_channel_category)
    put_json(params, "NotifyLevel", vendor.notify_level)
    put_param(params, "MiChannelId", vendor.mi_channel_id)
    put_param(params, "ChannelId", vendor.channel_id)
    return params


def target_msgkey(targets: tuple[Target, ...]) -> str:
    return compact_json({target.target: target.msg_key for target in targets})


def request(action: str, params: dict[str, str]) -> ProviderRequest:
    return ProviderRequest(action=action, version=API_VERSION, params=params, in_query=False)


# -- the four push builders ------------------------------------------------------------------


def build_push_simple(app: MpaasApp, push: PushSimple, *, now: datetime) -> ProviderRequest:
    check = RuleCheck()
    check_options(check, app, push, delivery_types=SIMPLE_DELIVERY_TYPES, now=now)
    check_targets(check, push.targets, limit=PUSH_SIMPLE_MAX_TARGETS)
    check.require(bool(push.title.strip()), "Title", _("The message needs a title."))
    check.require(bool(push.content.strip()), "Content", _("The message needs a text."))
    check_one_of(check, "PushStyle", push.push_style, PushStyle)
    if push.push_style == PushStyle.BIG_PICTURE and not push.image_urls:
        check.fail("ImageUrls", _("The image-and-text style needs an image URL."))
    if push.sms is not None:
        check_sms(check, push.sms)
    if push.live_activity is not None:
        check_live_activity(check, push.live_activity)
    check.raise_if_any()

    params = options_params(app, push)
    params["TargetMsgkey"] = target_msgkey(push.targets)
    params["Title"] = push.title
    params["Content"] = push.content
    params["PushStyle"] = wire(push.push_style)
    put_param(params, "Uri", push.uri)
    put_json(params, "ImageUrls", push.image_urls)
    put_json(params, "IconUrls", push.icon_urls)
    sms_params(params, push.sms)
    live_activity_params(params, push.live_activity)
    return request("PushSimple", params)


def build_push_template(app: MpaasApp, push: PushTemplate, *, now: datetime) -> ProviderRequest:
    check = RuleCheck()
    check_options(check, app, push, delivery_types=TEMPLATE_DELIVERY_TYPES, now=now)
    check_targets(check, push.targets, limit=PUSH_TEMPLATE_MAX_TARGETS)
    check_template_name(check, push.template_name)
    check_placeholders(check, push.template_values, push.placeholders)
    if push.sms is not None:
        check_sms(check, push.sms)
    if push.live_activity is not None:
        check_live_activity(check, push.live_activity)
    check.raise_if_any()

    params = options_params(app, push)
    params["TargetMsgkey"] = target_msgkey(push.targets)
    params["TemplateName"] = push.template_name
    put_json(params, "TemplateKeyValue", push.template_values)
    sms_params(params, push.sms)
    live_activity_params(params, push.live_activity)
    return request("PushTemplate", params)


def build_push_multiple(app: MpaasApp, push: PushMultiple, *, now: datetime) -> ProviderRequest:
    check = RuleCheck()
    check_options(check, app, push, delivery_types=MULTIPLE_DELIVERY_TYPES, now=now)
    check_template_name(check, push.template_name)
    messages = push.target_msgs
    if not messages:
        check.fail("TargetMsg", _("Add at least one target."))
    elif len(messages) > PUSH_MULTIPLE_MAX_TARGETS:
        check.fail(
            "TargetMsg",
            _("At most %(limit)d targets per PushMultiple call; this batch has %(count)d.")
            % {"limit": PUSH_MULTIPLE_MAX_TARGETS, "count": len(messages)},
        )
    for index, message in enumerate(messages, start=1):
        if not message.target.strip():
            check.fail(
                f"TargetMsg.{index}.Target", _("Target %(index)d is empty.") % {"index": index}
            )
        if not message.msg_key.strip():
            check.fail(
                f"TargetMsg.{index}.MsgKey",
                _("Target %(index)d needs a message key.") % {"index": index},
            )
        if push.placeholders:
            check_placeholders(
                check,
                message.template_values,
                push.placeholders,
                wire_name=f"TargetMsg.{index}.TemplateKeyValue",
            )
    _check_unique(check, "TargetMsg", [message.target for message in messages], _("target"))
    _check_unique(check, "TargetMsg", [message.msg_key for message in messages], _("message key"))
    if push.live_activity is not None:
        check_live_activity(check, push.live_activity)
    check.raise_if_any()

    params = options_params(app, push)
    params["TemplateName"] = push.template_name
    target_msg = [
        {
            "Target": message.target,
            "MsgKey": message.msg_key,
            "TemplateKeyValue": compact_json(dict(message.template_values))
            if message.template_values
            else None,
            "ExtendedParams": compact_json(dict(message.extended_params))
            if message.extended_params
            else None,
        }
        for message in messages
    ]
    flatten("TargetMsg", target_msg, params)
    live_activity_params(params, push.live_activity)
    return request("PushMultiple", params)


def build_push_broadcast(app: MpaasApp, push: PushBroadcast, *, now: datetime) -> ProviderRequest:
    check = RuleCheck()
    check_options(check, app, push, delivery_types=BROADCAST_DELIVERY_TYPES, now=now)
    check.require(bool(push.msg_key.strip()), "Msgkey", _("The broadcast needs a message key."))
    check_template_name(check, push.template_name)
    check_placeholders(check, push.template_values, push.placeholders)
    check_one_of(check, "PushStatus", push.push_status, PushStatus)
    check_one_of(check, "TimeMode", push.time_mode, TimeMode)
    bound = push.push_status == PushStatus.BOUND
    if push.time_mode == TimeMode.DAYS:
        if bound:
            _check_period(check, "BindPeriod", push.bind_period)
        else:
            _check_period(check, "UnBindPeriod", push.unbind_period)
    elif push.time_mode == TimeMode.RANGE:
        if bound:
            _check_range(check, "BindStartTime", "BindEndTime", push.bind_start, push.bind_end)
        else:
            _check_range(
                check, "UnBindStartTime", "UnBindEndTime", push.unbind_start, push.unbind_end
            )
    if push.android_channel is not None:
        check_one_of(check, "AndroidChannel", push.android_channel, AndroidChannel)
    check.raise_if_any()

    params = options_params(app, push)
    params["Msgkey"] = push.msg_key
    params["TemplateName"] = push.template_name
    put_json(params, "TemplateKeyValue", push.template_values)
    params["PushStatus"] = wire(push.push_status)
    params["TimeMode"] = wire(push.time_mode)
    put_param(params, "BindPeriod", push.bind_period)
    put_param(params, "UnBindPeriod", push.unbind_period)
    for name, value in (
        ("BindStartTime", push.bind_start),
        ("BindEndTime", push.bind_end),
        ("UnBindStartTime", push.unbind_start),
        ("UnBindEndTime", push.unbind_end),
    ):
        if value is not None:
            params[name] = wire(epoch_ms(value))
    put_param(params, "AndroidChannel", push.android_channel)
    return request("PushBroadcast", params)


def _check_period(check: RuleCheck, wire_name: str, period: Period | None) -> None:
    if period is None:
        check.fail(
            wire_name,
            _("Choose how long ago the users bound or unbound their devices (1 to 4)."),
        )
    else:
        check_one_of(check, wire_name, period, Period)


def _check_range(
    check: RuleCheck,
    start_name: str,
    end_name: str,
    start: datetime | None,
    end: datetime | None,
) -> None:
    check.require(start is not None, start_name, _("The time range needs its start."))
    check.require(end is not None, end_name, _("The time range needs its end."))
    if start is None or end is None:
        return
    if check_aware(check, start_name, start) and check_aware(check, end_name, end):
        check.require(
            end >= start, end_name, _("The end of the time range cannot be before its start.")
        )
