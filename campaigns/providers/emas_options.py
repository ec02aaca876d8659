"""EMAS Mobile Push (API 2016-08-01) option groups: what one push says to iOS, HarmonyOS
and the SMS fallback (Android's are in ``emas_android``), with the rules of seed 004 that
each group enforces, and the rule and wire helpers every group shares.

Every group is a frozen dataclass with ``check(rules)``, which names each broken rule by
its wire name, and ``write(params)``, which adds its wire parameters. ``emas.py`` builds
requests from them. The seed's conversion lost most "Valid values:" lists; the value sets
below come from the official SDK's model documentation (alibabacloud_push20160801), and a
set we could not confirm is left unchecked with a comment saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum, IntEnum, StrEnum
from typing import Any, TypeAlias

from django.utils.translation import gettext as _

from campaigns.providers.errors import RuleCheck
from campaigns.providers.wire import compact_json, utf8_length, wire_value

JsonMap: TypeAlias = Mapping[str, Any] | str  # a map, or the JSON text of one as pasted
JsonList: TypeAlias = tuple[str, ...] | str  # lines, or the JSON text of an array of them


class PushType(StrEnum):
    MESSAGE = "MESSAGE"  # handled by the app while it runs
    NOTICE = "NOTICE"  # shown in the notification bar


class DeviceType(StrEnum):
    IOS = "iOS"
    ANDROID = "ANDROID"
    HARMONY = "HARMONY"
    ALL = "ALL"


class Target(StrEnum):
    DEVICE = "DEVICE"
    ACCOUNT = "ACCOUNT"
    ALIAS = "ALIAS"
    TAG = "TAG"
    ALL = "ALL"
    # "TBD" (continuous push) exists but Pushdeck does not use it.


class SendChannel(StrEnum):
    ACCS = "accs"  # Alibaba Cloud's own channel
    HUAWEI = "huawei"
    HONOR = "honor"
    XIAOMI = "xiaomi"
    OPPO = "oppo"
    VIVO = "vivo"
    MEIZU = "meizu"
    GCM = "gcm"
    FCM = "fcm"
    APNS = "apns"
    HARMONY = "harmony"


class ApnsEnv(StrEnum):
    DEV = "DEV"
    PRODUCT = "PRODUCT"


class InterruptionLevel(StrEnum):
    PASSIVE = "passive"
    ACTIVE = "active"
    TIME_SENSITIVE = "time-sensitive"
    CRITICAL = "critical"


class LiveActivityEvent(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


class HarmonyActionType(StrEnum):
    APP_HOME_PAGE = "APP_HOME_PAGE"
    APP_CUSTOM_PAGE = "APP_CUSTOM_PAGE"


class HarmonyRenderStyle(StrEnum):
    NORMAL = "NORMAL"
    MULTI_LINE = "MULTI_LINE"


class HarmonyCategory(StrEnum):
    IM = "IM"
    VOIP = "VOIP"
    SUBSCRIPTION = "SUBSCRIPTION"
    TRAVEL = "TRAVEL"
    HEALTH = "HEALTH"
    WORK = "WORK"
    ACCOUNT = "ACCOUNT"
    EXPRESS = "EXPRESS"
    FINANCE = "FINANCE"
    DEVICE_REMINDER = "DEVICE_REMINDER"
    MAIL = "MAIL"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    MARKETING = "MARKETING"


class HarmonySlotType(StrEnum):
    SOCIAL_COMMUNICATION = "SOCIAL_COMMUNICATION"
    SERVICE_INFORMATION = "SERVICE_INFORMATION"
    CONTENT_INFORMATION = "CONTENT_INFORMATION"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    OTHER_TYPES = "OTHER_TYPES"


class SmsSendPolicy(IntEnum):
    NOT_RECEIVED = 0  # send the SMS when the push was not received
    NOT_OPENED = 1  # send the SMS when the notification was not opened


# --- the rule helpers every group uses ----------------------------------------------------


@dataclass
class Rules:
    """A RuleCheck seen from one push: field names get the push's wire prefix
    ("" for Push, "PushTask.2." for the second task of a MassPush)."""

    check: RuleCheck
    now: datetime
    prefix: str = ""

    def fail(self, name: str, message: str) -> None:
        self.check.fail(self.prefix + name, message)

    def require(self, condition: bool, name: str, message: str) -> None:
        if not condition:
            self.fail(name, message)

    def one_of(self, name: str, value: object, choices: type[Enum]) -> None:
        if value is not None and not is_member(choices, value):
            allowed = ", ".join(str(member.value) for member in choices)
            self.fail(name, _("Choose one of: %(choices)s.") % {"choices": allowed})

    def within(self, name: str, value: float | None, low: float, high: float) -> None:
        if value is not None and not low <= value <= high:
            self.fail(
                name,
                _("Use a value from %(low)s to %(high)s.") % {"low": low, "high": high},
            )

    def max_bytes(self, name: str, value: str | None, limit: int) -> None:
        if value is not None and utf8_length(value) > limit:
            self.fail(
                name,
                _("At most %(limit)d bytes (a Chinese character counts 3); this is %(size)d.")
                % {"limit": limit, "size": utf8_length(value)},
            )

    def max_chars(self, name: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.fail(
                name,
                _("At most %(limit)d characters; this is %(size)d.")
                % {"limit": limit, "size": len(value)},
            )

    def json_map(self, name: str, value: JsonMap | None) -> None:
        if value is not None and parsed_json(value, dict) is None:
            self.fail(name, _('Write this as a JSON map, for example {"key": "value"}.'))

    def json_list(self, name: str, value: JsonList | None, max_items: int) -> None:
        if value is None:
            return
        items = parsed_json(value, list) if isinstance(value, str) else list(value)
        if items is None:
            self.fail(name, _('Write this as a JSON list of lines, for example ["one", "two"].'))
        elif len(items) > max_items:
            self.fail(
                name,
                _("At most %(limit)d lines; this has %(count)d.")
                % {"limit": max_items, "count": len(items)},
            )

    def aware(self, name: str, value: datetime | None) -> bool:
        if value is not None and value.utcoffset() is None:
            self.fail(name, _("Give the time with its time zone."))
            return False
        return value is not None


def is_member(choices: type[Enum], value: object) -> bool:
    try:
        choices(value)
    except ValueError:
        return False
    return True


def parsed_json(value: object, kind: type) -> Any:
    """``value`` as ``kind`` (dict or list): itself, or parsed from its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    elif isinstance(value, Mapping):
        value = dict(value)
    elif isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, kind) else None


# --- wire writing --------------------------------------------------------------------------

WIRE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # ISO 8601 in UTC, as the seed asks


def wire_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(WIRE_TIME_FORMAT)


def whole_seconds(value: datetime) -> datetime:
    """The instant the wire carries: UTC, truncated to the second."""
    return value.astimezone(UTC).replace(microsecond=0)


class WireParams:
    """Collects one push's wire parameters under its prefix; None means "not sent"."""

    def __init__(self, prefix: str = "", *, mass: bool = False) -> None:
        self.prefix = prefix
        self.mass = mass  # MassPush flattens map-valued parameters instead of JSON
        self.values: dict[str, str] = {}

    def put(self, name: str, value: object) -> None:
        if value is None:
            return
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, datetime):
            value = wire_time(value)
        elif isinstance(value, Mapping | list | tuple):
            value = compact_json(dict(value) if isinstance(value, Mapping) else list(value))
        self.values[self.prefix + name] = wire_value(value)

    def put_unix(self, name: str, value: datetime | None) -> None:
        if value is not None:
            self.put(name, int(value.timestamp()))

    def put_string_map(self, name: str, value: Mapping[str, str] | None) -> None:
        """Push sends such a map as JSON; MassPush as ``<name>.<key>`` (as the SDK does)."""
        if value is None:
            return
        if self.mass:
            for key, item in value.items():
                self.values[f"{self.prefix}{name}.{key}"] = wire_value(item)
        else:
            self.put(name, value)


# --- iOS -----------------------------------------------------------------------------------

IOS_RELEVANCE_SCORE_RANGE = (0.0, 1.0)
LIVE_ACTIVITY_DISMISSAL_MAX = timedelta(hours=4)  # the seed: "The maximum duration is 4 hours"


@dataclass(frozen=True)
class LiveActivity:
    event: LiveActivityEvent  # iOSLiveActivityEvent
    activity_id: str | None = None  # iOSLiveActivityId
    attributes_type: str | None = None  # iOSLiveActivityAttributesType, needed to start
    attributes: JsonMap | None = None  # iOSLiveActivityAttributes, needed to start
    content_state: JsonMap | None = None  # iOSLiveActivityContentState
    dismissal_date: datetime | None = None  # iOSLiveActivityDismissalDate (UNIX seconds)
    stale_date: datetime | None = None  # iOSLiveActivityStaleDate (UNIX seconds)

    def check(self, rules: Rules) -> None:
        rules.one_of("iOSLiveActivityEvent", self.event, LiveActivityEvent)
        if self.event == LiveActivityEvent.START:
            needed = _("Needed to start a Live Activity.")
            rules.require(bool(self.attributes_type), "iOSLiveActivityAttributesType", needed)
            rules.require(self.attributes is not None, "iOSLiveActivityAttributes", needed)
        rules.json_map("iOSLiveActivityAttributes", self.attributes)
        rules.json_map("iOSLiveActivityContentState", self.content_state)
        if rules.aware("iOSLiveActivityDismissalDate", self.dismissal_date):
            assert self.dismissal_date is not None
            # The seed bounds how long an ended activity stays; we measure from now,
            # the latest moment the end can be sent (an approximation on the safe side).
            rules.require(
                self.dismissal_date <= rules.now + LIVE_ACTIVITY_DISMISSAL_MAX,
                "iOSLiveActivityDismissalDate",
                _("An ended Live Activity can stay at most %(hours)d hours on the lock screen.")
                % {"hours": LIVE_ACTIVITY_DISMISSAL_MAX // timedelta(hours=1)},
            )
        rules.aware("iOSLiveActivityStaleDate", self.stale_date)

    def write(self, params: WireParams) -> None:
        params.put("iOSLiveActivityEvent", self.event)
        params.put("iOSLiveActivityId", self.activity_id)
        params.put("iOSLiveActivityAttributesType", self.attributes_type)
        params.put("iOSLiveActivityAttributes", self.attributes)
        params.put("iOSLiveActivityContentState", self.content_state)
        params.put_unix("iOSLiveActivityDismissalDate", self.dismissal_date)
        params.put_unix("iOSLiveActivityStaleDate", self.stale_date)


@dataclass(frozen=True)
class IosOptions:
    apns_env: ApnsEnv | None = None  # iOSApnsEnv
    remind: bool | None = None  # iOSRemind: an offline message goes once through APNs
    remind_body: str | None = None  # iOSRemindBody
    subtitle: str | None = None  # iOSSubtitle
    music: str | None = None  # iOSMusic; "" is a silent notification
    badge: int | None = None  # iOSBadge
    badge_auto_increment: bool | None = None  # iOSBadgeAutoIncrement
    silent_notification: bool | None = None  # iOSSilentNotification
    mutable_content: bool | None = None  # iOSMutableContent
    notification_category: str | None = None  # iOSNotificationCategory
    notification_collapse_id: str | None = None  # iOSNotificationCollapseId
    notification_thread_id: str | None = None  # iOSNotificationThreadId
    interruption_level: InterruptionLevel | None = None  # iOSInterruptionLevel
    relevance_score: float | None = None  # iOSRelevanceScore
    ext_parameters: JsonMap | None = None  # iOSExtParameters
    live_activity: LiveActivity | None = None

    def check(self, rules: Rules) -> None:
        rules.one_of("iOSApnsEnv", self.apns_env, ApnsEnv)
        rules.one_of("iOSInterruptionLevel", self.interruption_level, InterruptionLevel)
        if self.badge is not None and self.badge_auto_increment:
            rules.fail(
                "iOSBadge",
                _("Leave the badge number empty when the badge counts up by itself."),
            )
        if self.badge is not None:
            rules.require(self.badge >= 0, "iOSBadge", _("The badge cannot be negative."))
        rules.within("iOSRelevanceScore", self.relevance_score, *IOS_RELEVANCE_SCORE_RANGE)
        rules.json_map("iOSExtParameters", self.ext_parameters)
        if self.live_activity is not None:
            self.live_activity.check(rules)

    def write(self, params: WireParams) -> None:
        params.put("iOSApnsEnv", self.apns_env)
        params.put("iOSRemind", self.remind)
        params.put("iOSRemindBody", self.remind_body)
        params.put("iOSSubtitle", self.subtitle)
        params.put("iOSMusic", self.music)
        params.put("iOSBadge", self.badge)
        params.put("iOSBadgeAutoIncrement", self.badge_auto_increment)
        params.put("iOSSilentNotification", self.silent_notification)
        params.put("iOSMutableContent", self.mutable_content)
        params.put("iOSNotificationCategory", self.notification_category)
        params.put("iOSNotificationCollapseId", self.notification_collapse_id)
        params.put("iOSNotificationThreadId", self.notification_thread_id)
        params.put("iOSInterruptionLevel", self.interruption_level)
        params.put("iOSRelevanceScore", self.relevance_score)
        params.put("iOSExtParameters", self.ext_parameters)
        if self.live_activity is not None:
            self.live_activity.write(params)


# --- HarmonyOS -----------------------------------------------------------------------------

HARMONY_INBOX_MAX_LINES = 3


@dataclass(frozen=True)
class HarmonyOptions:
    remind: bool | None = None  # HarmonyRemind
    remind_title: str | None = None  # HarmonyRemindTitle
    remind_body: str | None = None  # HarmonyRemindBody
    category: HarmonyCategory | None = None  # HarmonyCategory
    notification_slot_type: HarmonySlotType | None = None  # HarmonyNotificationSlotType
    notify_id: int | None = None  # HarmonyNotifyId
    action_type: HarmonyActionType | None = None  # HarmonyActionType
    action: str | None = None  # HarmonyAction
    uri: str | None = None  # HarmonyUri
    render_style: HarmonyRenderStyle | None = None  # HarmonyRenderStyle
    image_url: str | None = None  # HarmonyImageUrl, HTTPS only
    inbox_content: JsonList | None = None  # HarmonyInboxContent, for MULTI_LINE
    ext_parameters: JsonMap | None = None  # HarmonyExtParameters
    test_message: bool | None = None  # HarmonyTestMessage
    receipt_id: str | None = None  # HarmonyReceiptId
    extension_push: bool | None = None  # HarmonyExtensionPush
    extension_extra_data: str | None = None  # HarmonyExtensionExtraData
    # HarmonyOS documents its own badge ranges; the seed states none, so none is checked.
    badge_add_num: int | None = None  # HarmonyBadgeAddNum
    badge_set_num: int | None = None  # HarmonyBadgeSetNum
    live_view_payload: JsonMap | None = None  # HarmonyLiveViewPayload, passed through

    def check(self, rules: Rules) -> None:
        rules.one_of("HarmonyCategory", self.category, HarmonyCategory)
        rules.one_of("HarmonyNotificationSlotType", self.notification_slot_type, HarmonySlotType)
        rules.one_of("HarmonyActionType", self.action_type, HarmonyActionType)
        if self.action_type == HarmonyActionType.APP_CUSTOM_PAGE:
            rules.require(
                bool(self.action or self.uri),
                "HarmonyAction",
                _("Give the page to open: its action, its URI, or both."),
            )
        rules.one_of("HarmonyRenderStyle", self.render_style, HarmonyRenderStyle)
        if self.render_style == HarmonyRenderStyle.MULTI_LINE:
            rules.require(
                bool(self.inbox_content),
                "HarmonyInboxContent",
                _("Give the lines of the multi-line notification."),
            )
        rules.json_list("HarmonyInboxContent", self.inbox_content, HARMONY_INBOX_MAX_LINES)
        if self.image_url is not None:
            rules.require(
                self.image_url.startswith("https://"),
                "HarmonyImageUrl",
                _("The image must be an https:// address."),
            )
        rules.json_map("HarmonyExtParameters", self.ext_parameters)

    def write(self, params: WireParams) -> None:
        params.put("HarmonyRemind", self.remind)
        params.put("HarmonyRemindTitle", self.remind_title)
        params.put("HarmonyRemindBody", self.remind_body)
        params.put("HarmonyCategory", self.category)
        params.put("HarmonyNotificationSlotType", self.notification_slot_type)
        params.put("HarmonyNotifyId", self.notify_id)
        params.put("HarmonyActionType", self.action_type)
        params.put("HarmonyAction", self.action)
        params.put("HarmonyUri", self.uri)
        params.put("HarmonyRenderStyle", self.render_style)
        params.put("HarmonyImageUrl", self.image_url)
        params.put("HarmonyInboxContent", self.inbox_content)
        params.put("HarmonyExtParameters", self.ext_parameters)
        params.put("HarmonyTestMessage", self.test_message)
        params.put("HarmonyReceiptId", self.receipt_id)
        params.put("HarmonyExtensionPush", self.extension_push)
        params.put("HarmonyExtensionExtraData", self.extension_extra_data)
        params.put("HarmonyBadgeAddNum", self.badge_add_num)
        params.put("HarmonyBadgeSetNum", self.badge_set_num)
        params.put("HarmonyLiveViewPayload", self.live_view_payload)


# --- SMS fallback --------------------------------------------------------------------------

SMS_DELAY_MIN = timedelta(seconds=15)
SMS_DELAY_MAX = timedelta(days=3)


@dataclass(frozen=True)
class SmsFallback:
    """An SMS sent when the push is not received (or not opened) after ``delay``."""

    template_name: str  # SmsTemplateName: the system-assigned template name
    sign_name: str  # SmsSignName
    send_policy: SmsSendPolicy  # SmsSendPolicy
    delay: timedelta | None = None  # SmsDelaySecs; the seed: "must be set"
    params: Mapping[str, str] | None = None  # SmsParams, written key1=value1&key2=value2

    def check(self, rules: Rules) -> None:
        needed = _("Needed for the SMS fallback.")
        rules.require(bool(self.template_name), "SmsTemplateName", needed)
        rules.require(bool(self.sign_name), "SmsSignName", needed)
        rules.require(self.send_policy is not None, "SmsSendPolicy", needed)
        rules.one_of("SmsSendPolicy", self.send_policy, SmsSendPolicy)
        if self.delay is None:
            rules.fail("SmsDelaySecs", needed)
        elif not SMS_DELAY_MIN <= self.delay <= SMS_DELAY_MAX:
            rules.fail(
                "SmsDelaySecs",
                _("Wait from %(min)d seconds to %(max)d days before the SMS.")
                % {"min": SMS_DELAY_MIN.total_seconds(), "max": SMS_DELAY_MAX.days},
            )
        for key, value in (self.params or {}).items():
            if not key or any(mark in key + value for mark in "&="):
                rules.fail("SmsParams", _("Template variables cannot contain & or =."))
                break

    def write(self, params: WireParams) -> None:
        params.put("SmsTemplateName", self.template_name)
        params.put("SmsSignName", self.sign_name)
        params.put("SmsSendPolicy", self.send_policy)
        if self.delay is not None:
            params.put("SmsDelaySecs", int(self.delay.total_seconds()))
        if self.params is not None:
            params.put("SmsParams", "&".join(f"{k}={v}" for k, v in self.params.items()))
