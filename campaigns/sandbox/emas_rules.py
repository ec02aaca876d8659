"""The rules of EMAS ``Push`` (seed 004), checked as the real gateway checks them.

Written from the seed and the official SDK's model docstrings (``alibabacloud_push20160801``,
whose "Valid values" lists the seed lost), never from Pushdeck's own client. Errors use the
seed's codes and message templates: the code names the bare parameter (``InvalidTitle.
BytesExceed``) and the message names it as it arrived, so inside ``MassPush`` a task's
parameter reads ``PushTask.3.Title``. Conventions where the seed gives a code family but not
the case it covers:

- a required parameter that is absent or empty: ``Invalid<P>.Empty``;
- a value that is not of the parameter's type, not one of its values, or not valid JSON:
  ``Invalid<P>.Format``;
- too many items or characters: ``Invalid<P>.LengthExceed``; too many bytes:
  ``Invalid<P>.BytesExceed``;
- a number out of range, a time out of its window, a rule between parameters:
  ``Invalid.Parameter`` with the parameter and the rule in the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.sandbox.delivery import ONLINE_DELAY_S
from campaigns.sandbox.gateway import GatewayError
from campaigns.sandbox.registry import APPS, SandboxApp

PUSH_TYPES = frozenset({"MESSAGE", "NOTICE"})
DEVICE_TYPES = frozenset({"iOS", "ANDROID", "HARMONY", "ALL"})
TARGETS = frozenset({"DEVICE", "ACCOUNT", "ALIAS", "TAG", "ALL", "TBD"})
LIST_TARGETS = frozenset({"DEVICE", "ACCOUNT", "ALIAS"})  # the only ones MassPush accepts
SEND_CHANNELS = frozenset(
    {"accs", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "gcm", "fcm", "apns", "harmony"}
)
CHOICES: dict[str, frozenset[str]] = {
    "iOSApnsEnv": frozenset({"DEV", "PRODUCT"}),
    "iOSInterruptionLevel": frozenset({"passive", "active", "time-sensitive", "critical"}),
    "iOSLiveActivityEvent": frozenset({"start", "update", "end"}),
    "AndroidNotifyType": frozenset({"VIBRATE", "SOUND", "BOTH", "NONE"}),
    "AndroidNotificationHuaweiChannel": frozenset({"LOW", "NORMAL"}),
    "AndroidNotificationHonorChannel": frozenset({"LOW", "NORMAL"}),
    "AndroidNotificationVivoChannel": frozenset({"0", "1"}),
    "AndroidMessageHuaweiUrgency": frozenset({"HIGH", "NORMAL"}),
    "AndroidMessageOppoCategory": frozenset(
        {"IM", "ACCOUNT", "DEVICE_REMINDER", "ORDER", "TODO", "SUBSCRIPTION"}
        | {"NEWS", "CONTENT", "MARKETING", "SOCIAL"}
    ),
    "AndroidMessageVivoCategory": frozenset(
        {"IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"}
        | {"NEWS", "CONTENT", "MARKETING", "SOCIAL"}
    ),
    "HarmonyCategory": frozenset(
        {"IM", "VOIP", "SUBSCRIPTION", "TRAVEL", "HEALTH", "WORK", "ACCOUNT", "EXPRESS"}
        | {"FINANCE", "DEVICE_REMINDER", "MAIL", "CUSTOMER_SERVICE", "MARKETING"}
    ),
    "HarmonyNotificationSlotType": frozenset(
        {"SOCIAL_COMMUNICATION", "SERVICE_INFORMATION", "CONTENT_INFORMATION"}
        | {"CUSTOMER_SERVICE", "OTHER_TYPES"}
    ),
    "HarmonyActionType": frozenset({"APP_HOME_PAGE", "APP_CUSTOM_PAGE"}),
    "HarmonyRenderStyle": frozenset({"NORMAL", "MULTI_LINE"}),
}
ANDROID_OPEN_TYPES = frozenset({"APPLICATION", "ACTIVITY", "URL", "NONE"})
BOOLEANS = (
    "StoreOffline",
    "Trim",
    "iOSRemind",
    "iOSBadgeAutoIncrement",
    "iOSSilentNotification",
    "iOSMutableContent",
    "AndroidRemind",
    "HarmonyRemind",
    "HarmonyTestMessage",
    "HarmonyExtensionPush",
)
# Integer parameters and their (inclusive) ranges; None: any integer.
INTEGERS: dict[str, tuple[int | None, int | None]] = {
    "iOSBadge": (0, None),
    "iOSLiveActivityStaleDate": (0, None),
    "AndroidRenderStyle": (0, 3),
    "AndroidNotificationBarType": (1, 100),
    "AndroidNotificationBarPriority": (-2, 2),
    "AndroidNotificationNotifyId": (None, None),
    "AndroidBadgeAddNum": (1, 99),
    "AndroidBadgeSetNum": (0, 99),
    "AndroidMeizuNoticeMsgType": (0, 1),
    "AndroidTargetUserType": (0, 1),
    "AndroidHuaweiTargetUserType": (0, 1),
    "AndroidHonorTargetUserType": (0, 1),
    "AndroidVivoPushMode": (0, 1),
    "AndroidOppoIntentEnv": (0, 1),
    "AndroidHuaweiBusinessType": (0, 1),
    "HarmonyNotifyId": (None, None),
    "HarmonyBadgeAddNum": (0, None),
    "HarmonyBadgeSetNum": (0, None),
    "SmsSendPolicy": (0, 1),
    "SendSpeed": (None, None),
}
OPPO_NOTIFY_LEVELS = frozenset({1, 2, 16})
# Parameters that must hold a JSON object ("JSON map format, otherwise parsing fails").
JSON_MAPS = (
    "iOSExtParameters",
    "iOSLiveActivityAttributes",
    "iOSLiveActivityContentState",
    "AndroidExtParameters",
    "AndroidHuaweiLiveNotificationPayload",
    "AndroidOppoIntelligentIntent",
    "AndroidOppoDeleteIntentData",
    "AndroidOppoPrivateTitleParameters",
    "AndroidOppoPrivateContentParameters",
    "AndroidVivoLiveMessage",
    "AndroidXiaomiFocusParam",
    "AndroidXiaomiFocusPics",
    "AndroidXiaomiTemplateParams",
    "HarmonyExtParameters",
    "HarmonyLiveViewPayload",
)

TARGET_VALUES_MAX = 1000  # DEVICE / ACCOUNT / ALIAS values per call
TITLE_MAX_BYTES = 200
# Title + Body of an Android (and HarmonyOS) push: the product limit of 4,000 bytes.
ANDROID_CONTENT_MAX_BYTES = 4000
# iOS: APNs refuses a payload over 4 KB, so the whole "aps" payload our content builds counts.
IOS_PAYLOAD_MAX_BYTES = 4096
JOB_KEY_MAX_CHARS = 32
POPUP_TITLE_MAX_CHARS = 50
POPUP_BODY_MAX_CHARS = 200
BIG_TITLE_MAX_BYTES = 200
BIG_BODY_MAX_BYTES = 1000
ANDROID_INBOX_MAX_LINES = 5
HARMONY_INBOX_MAX_LINES = 3
HOUR = timedelta(hours=1)
PUSH_TIME_MAX_AHEAD = timedelta(days=7)
EXPIRE_MAX_AFTER = timedelta(hours=72)  # also the default retention
EXPIRE_MIN_AFTER = timedelta(seconds=3)
LIVE_ACTIVITY_DISMISSAL_MAX_AHEAD = timedelta(hours=4)
SMS_DELAY_MIN_S = 15
SMS_DELAY_MAX_S = 3 * 24 * 3600
SMS_FIELDS = ("SmsTemplateName", "SmsSignName", "SmsDelaySecs")
# A MESSAGE that is neither stored offline nor turned into a notification reaches only the
# devices online now: it expires once an online device would have had it.
ONLINE_ONLY_WINDOW_S = ONLINE_DELAY_S[1]

_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_JOB_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_INTEGER = re.compile(r"^-?\d+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SMS_PARAMS = re.compile(r"^[^=&]+=[^&]*(?:&[^=&]+=[^&]*)*$")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def invalid_format(name: str, label: str) -> GatewayError:
    return GatewayError(400, f"Invalid{name}.Format", f"The specified {label} format is invalid.")


def empty(name: str, label: str) -> GatewayError:
    return GatewayError(400, f"Invalid{name}.Empty", f"The specified {label} cannot be empty.")


def length_exceed(name: str, label: str, limit: int) -> GatewayError:
    return GatewayError(
        400,
        f"Invalid{name}.LengthExceed",
        f"The specified {label} length cannot be greater than {limit}.",
    )


def bytes_exceed(name: str, label: str, limit: int) -> GatewayError:
    return GatewayError(
        400, f"Invalid{name}.BytesExceed", f"The specified {label} exceeds the {limit} bytes limit."
    )


def invalid_parameter(detail: str) -> GatewayError:
    return GatewayError(400, "Invalid.Parameter", f"The specified parameter is invalid: {detail}.")


def utf8_len(text: str) -> int:
    return len(text.encode())


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


class Reader:
    """Typed access to one push's parameters; ``prefix`` is how its names arrived
    (``PushTask.2.`` inside MassPush). An empty value counts as absent."""

    def __init__(self, params: Mapping[str, str], prefix: str = "") -> None:
        self.params = params
        self.prefix = prefix

    def label(self, name: str) -> str:
        return self.prefix + name

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None or not value.strip():
            raise empty(name, self.label(name))
        return value

    def choice(self, name: str, allowed: frozenset[str], *, required: bool = False) -> str | None:
        value = self.required(name) if required else self.text(name)
        if value is not None and value not in allowed:
            raise invalid_format(name, self.label(name))
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise invalid_format(name, self.label(name))
        return value.lower() == "true"

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not _INTEGER.match(value.strip()):
            raise invalid_format(name, self.label(name))
        number = int(value)
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise invalid_parameter(f"{self.label(name)} must be {bounds}")
        return number

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise invalid_format(name, self.label(name)) from None
        if not low <= number <= high:
            raise invalid_parameter(f"{self.label(name)} must be between {low:g} and {high:g}")
        return number

    def utc_time(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            if not _UTC_TIME.match(value):
                raise ValueError(value)
            return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise invalid_format(name, self.label(name)) from None

    def json_value(self, name: str) -> Any:
        value = self.text(name)
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise invalid_format(name, self.label(name)) from None

    def json_map(self, name: str) -> dict[str, Any] | None:
        value = self.json_value(name)
        if value is not None and not isinstance(value, dict):
            raise invalid_format(name, self.label(name))
        return value

    def json_lines(self, name: str, max_lines: int) -> list[Any] | None:
        value = self.json_value(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise invalid_format(name, self.label(name))
        if len(value) > max_lines:
            raise length_exceed(name, self.label(name), max_lines)
        return value

    def max_bytes(self, name: str, limit: int) -> None:
        value = self.text(name)
        if value is not None and utf8_len(value) > limit:
            raise bytes_exceed(name, self.label(name), limit)

    def max_chars(self, name: str, limit: int) -> None:
        value = self.text(name)
        if value is not None and len(value) > limit:
            raise length_exceed(name, self.label(name), limit)


@dataclass(frozen=True)
class PushSpec:
    """A push that passed every rule, as the handlers record it."""

    push_type: str
    device_type: str
    target: str
    targets: tuple[str, ...]  # DEVICE / ACCOUNT / ALIAS values, distinct, in order
    title: str
    body: str
    push_time: datetime | None  # a schedule in the future; None: now
    sms_delay_s: int | None


def emas_app(params: Mapping[str, str]) -> SandboxApp:
    """The EMAS app of ``AppKey``: PermissionDenied for one this account does not own."""
    reader = Reader(params)
    key = reader.required("AppKey").strip()
    if not _INTEGER.match(key):
        raise invalid_format("AppKey", "AppKey")
    app = APPS.get(key)
    if app is None or app.provider != "emas":
        raise GatewayError(400, "PermissionDenied", "The specified AppKey is not authorized.")
    return app


def idempotent_token(params: Mapping[str, str]) -> str:
    """The IdempotentToken, lower-cased (a UUID is case-insensitive), or ""."""
    token = Reader(params).text("IdempotentToken")
    if token is None:
        return ""
    if not _UUID.match(token):
        raise invalid_format("IdempotentToken", "IdempotentToken")
    return token.lower()


def check_push(
    params: Mapping[str, str], *, now: datetime, prefix: str = "", batch: bool = False
) -> PushSpec:
    """Every rule of seed 004 for one push (a Push call, or one MassPush task when
    ``batch``); raises the first violation."""
    read = Reader(params, prefix)
    push_type = read.choice("PushType", PUSH_TYPES, required=True) or ""
    device_type = read.choice("DeviceType", DEVICE_TYPES, required=True) or ""
    target = read.choice("Target", TARGETS, required=True) or ""
    if batch and target not in LIST_TARGETS:
        raise GatewayError(400, "TargetNotSupported", "Target is not supported for batch push.")
    target_value = read.required("TargetValue")
    targets = _check_targets(read, target, target_value)
    title, body = _check_content(read, device_type)
    push_time = _check_times(read, now, target)
    _check_simple_values(read)
    _check_ios(read, now)
    _check_android(read)
    _check_harmony(read)
    sms_delay_s = None if batch else _check_sms(read)
    return PushSpec(
        push_type=push_type,
        device_type=device_type,
        target=target,
        targets=targets,
        title=title,
        body=body,
        push_time=push_time if push_time is not None and push_time > now else None,
        sms_delay_s=sms_delay_s,
    )


def _check_targets(read: Reader, target: str, target_value: str) -> tuple[str, ...]:
    if target in LIST_TARGETS:
        values = [value.strip() for value in target_value.split(",") if value.strip()]
        if not values:
            raise empty("TargetValue", read.label("TargetValue"))
        if len(values) > TARGET_VALUES_MAX:
            raise length_exceed("TargetValue", read.label("TargetValue"), TARGET_VALUES_MAX)
        return tuple(dict.fromkeys(values))
    if target in ("ALL", "TBD") and target_value != target:
        raise invalid_format("TargetValue", read.label("TargetValue"))
    if target == "TAG":
        tag_expression(target_value, read.label("TargetValue"))
    return ()


def tag_expression(value: str, label: str = "TargetValue") -> dict[str, Any]:
    """A tag target as an expression tree: a single tag name, or the JSON form
    ``{"and"|"or": [expr, ...]}``, ``{"not": expr}``, ``{"tag": name}``."""
    if not value.lstrip().startswith("{"):
        return {"tag": value.strip()}
    try:
        tree = json.loads(value)
    except ValueError:
        raise invalid_format("TargetValue", label) from None
    if not _well_formed(tree):
        raise invalid_format("TargetValue", label)
    return dict(tree)


def _well_formed(node: Any) -> bool:
    if not isinstance(node, dict) or len(node) != 1:
        return False
    ((operator, operand),) = node.items()
    if operator == "tag":
        return isinstance(operand, str) and bool(operand)
    if operator in ("and", "or"):
        return isinstance(operand, list) and bool(operand) and all(map(_well_formed, operand))
    return operator == "not" and _well_formed(operand)


def _check_content(read: Reader, device_type: str) -> tuple[str, str]:
    title = read.text("Title") or ""
    body = read.text("Body") or ""
    if device_type != "iOS" and not title.strip():
        raise empty("Title", read.label("Title"))
    read.max_bytes("Title", TITLE_MAX_BYTES)
    if device_type != "iOS" and utf8_len(title) + utf8_len(body) > ANDROID_CONTENT_MAX_BYTES:
        raise bytes_exceed("Body", read.label("Body"), ANDROID_CONTENT_MAX_BYTES)
    if device_type in ("iOS", "ALL") and _apns_payload_bytes(read) > IOS_PAYLOAD_MAX_BYTES:
        raise bytes_exceed("Body", read.label("Body"), IOS_PAYLOAD_MAX_BYTES)
    return title, body


def _apns_payload_bytes(read: Reader) -> int:
    """The size of the APNs payload this push would make: alert, badge, sound and the
    extension parameters, which APNs carries beside "aps"."""
    alert = {
        "title": read.text("Title") or "",
        "subtitle": read.text("iOSSubtitle") or "",
        "body": read.text("Body") or "",
    }
    aps: dict[str, Any] = {"alert": alert, "badge": read.text("iOSBadge") or 0}
    for name, key in (
        ("iOSMusic", "sound"),
        ("iOSNotificationCategory", "category"),
        ("iOSNotificationThreadId", "thread-id"),
    ):
        if read.text(name):
            aps[key] = read.text(name)
    extension = read.json_map("iOSExtParameters") or {}
    payload = {"aps": aps, **extension}
    return utf8_len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


def _check_times(read: Reader, now: datetime, target: str) -> datetime | None:
    push_time = read.utc_time("PushTime")
    if push_time is not None:
        if target == "TBD":
            raise invalid_parameter(f"{read.label('PushTime')} is not supported for Target TBD")
        if push_time > now + PUSH_TIME_MAX_AHEAD:
            raise invalid_parameter(
                f"{read.label('PushTime')} cannot be more than "
                f"{PUSH_TIME_MAX_AHEAD.days} days ahead"
            )
    expire_time = read.utc_time("ExpireTime")
    if expire_time is not None:
        start = max(push_time or now, now)
        label = read.label("ExpireTime")
        if expire_time <= start + EXPIRE_MIN_AFTER:
            raise invalid_parameter(
                f"{label} must be more than {EXPIRE_MIN_AFTER.seconds} seconds "
                "after PushTime or now"
            )
        if expire_time > start + EXPIRE_MAX_AFTER:
            raise invalid_parameter(
                f"{label} cannot be more than {EXPIRE_MAX_AFTER // HOUR} hours "
                "after PushTime or now"
            )
    job_key = read.text("JobKey")
    if job_key is not None:
        read.max_chars("JobKey", JOB_KEY_MAX_CHARS)
        if not _JOB_KEY.match(job_key):
            raise invalid_format("JobKey", read.label("JobKey"))
    return push_time


def _check_simple_values(read: Reader) -> None:
    for name, allowed in CHOICES.items():
        read.choice(name, allowed)
    for name in BOOLEANS:
        read.boolean(name)
    for name, (low, high) in INTEGERS.items():
        read.integer(name, low, high)
    for name in JSON_MAPS:
        read.json_map(name)
    channels = read.text("SendChannels")
    if channels is not None and not set(channels.split(",")) <= SEND_CHANNELS:
        raise invalid_format("SendChannels", read.label("SendChannels"))


def _check_ios(read: Reader, now: datetime) -> None:
    if read.text("iOSBadge") is not None and read.boolean("iOSBadgeAutoIncrement"):
        raise invalid_parameter(
            f"{read.label('iOSBadge')} must be empty when iOSBadgeAutoIncrement is true"
        )
    if read.boolean("iOSSilentNotification") and not read.boolean("iOSMutableContent"):
        raise invalid_parameter(
            f"{read.label('iOSMutableContent')} must be true for a silent notification"
        )
    read.number("iOSRelevanceScore", 0.0, 1.0)
    if read.text("iOSLiveActivityEvent") == "start":
        read.required("iOSLiveActivityAttributesType")
        read.required("iOSLiveActivityAttributes")
    dismissal = read.integer("iOSLiveActivityDismissalDate", 0)
    if dismissal is not None:
        latest = now + LIVE_ACTIVITY_DISMISSAL_MAX_AHEAD
        if datetime.fromtimestamp(dismissal, UTC) > latest:
            raise invalid_parameter(
                f"{read.label('iOSLiveActivityDismissalDate')} cannot be more than "
                f"{LIVE_ACTIVITY_DISMISSAL_MAX_AHEAD // HOUR} hours ahead"
            )


def _check_android(read: Reader) -> None:
    open_type = read.text("AndroidOpenType")
    if open_type is not None:
        # The seed spells it "Activity" where the SDK says "ACTIVITY": accept either case.
        if open_type.upper() not in ANDROID_OPEN_TYPES:
            raise invalid_format("AndroidOpenType", read.label("AndroidOpenType"))
        if open_type.upper() == "ACTIVITY":
            read.required("AndroidActivity")
        if open_type.upper() == "URL":
            read.required("AndroidOpenUrl")
    if read.text("AndroidPopupActivity") is not None:
        read.required("AndroidPopupTitle")
        read.required("AndroidPopupBody")
    read.max_chars("AndroidPopupTitle", POPUP_TITLE_MAX_CHARS)
    read.max_chars("AndroidPopupBody", POPUP_BODY_MAX_CHARS)
    read.max_bytes("AndroidBigTitle", BIG_TITLE_MAX_BYTES)
    read.max_bytes("AndroidBigBody", BIG_BODY_MAX_BYTES)
    read.json_lines("AndroidInboxBody", ANDROID_INBOX_MAX_LINES)
    level = read.integer("AndroidMessageOppoNotifyLevel")
    if level is not None:
        if level not in OPPO_NOTIFY_LEVELS:
            raise invalid_format(
                "AndroidMessageOppoNotifyLevel", read.label("AndroidMessageOppoNotifyLevel")
            )
        read.required("AndroidMessageOppoCategory")


def _check_harmony(read: Reader) -> None:
    lines = read.json_lines("HarmonyInboxContent", HARMONY_INBOX_MAX_LINES)
    if read.text("HarmonyRenderStyle") == "MULTI_LINE" and not lines:
        raise empty("HarmonyInboxContent", read.label("HarmonyInboxContent"))
    if read.text("HarmonyActionType") == "APP_CUSTOM_PAGE" and not (
        read.text("HarmonyUri") or read.text("HarmonyAction")
    ):
        raise invalid_parameter(
            f"{read.label('HarmonyUri')} or {read.label('HarmonyAction')} is required "
            "when HarmonyActionType is APP_CUSTOM_PAGE"
        )
    image = read.text("HarmonyImageUrl")
    if image is not None and not image.startswith("https://"):
        raise invalid_format("HarmonyImageUrl", read.label("HarmonyImageUrl"))


def _check_sms(read: Reader) -> int | None:
    """SMS fallback: template, signature and delay go together; the delay is 15 s to 3 days."""
    given = [name for name in (*SMS_FIELDS, "SmsParams", "SmsSendPolicy") if read.text(name)]
    if not given:
        return None
    for name in SMS_FIELDS:
        read.required(name)
    sms_params = read.text("SmsParams")
    if sms_params is not None and not _SMS_PARAMS.match(sms_params):
        raise invalid_format("SmsParams", read.label("SmsParams"))
    return read.integer("SmsDelaySecs", SMS_DELAY_MIN_S, SMS_DELAY_MAX_S)


SMS_POLICY_NOT_OPENED = "1"  # SmsSendPolicy: 0 not received, 1 not opened


def sms_unless_opened(params: Mapping[str, str]) -> bool:
    """Whether the SMS fallback also goes to those who received the push but did not open it."""
    return params.get("SmsSendPolicy") == SMS_POLICY_NOT_OPENED


def expires_after_s(params: Mapping[str, str], sent_at: datetime) -> float:
    """How long after ``sent_at`` a push of these (valid) parameters can still arrive.

    With SMS fallback the seed makes SmsDelaySecs the expiry; a MESSAGE neither stored
    offline nor turned into a notification reaches only devices online now; otherwise
    ExpireTime, or the default 72 hours.
    """
    read = Reader(params)
    sms_delay = read.text("SmsDelaySecs")
    if sms_delay is not None and read.text("SmsTemplateName"):
        return float(sms_delay)
    if read.text("PushType") == "MESSAGE" and not any(
        read.boolean(name)
        for name in ("StoreOffline", "AndroidRemind", "iOSRemind", "HarmonyRemind")
    ):
        return ONLINE_ONLY_WINDOW_S
    expire_time = read.utc_time("ExpireTime")
    if expire_time is not None:
        return max((expire_time - sent_at).total_seconds(), 0.0)
    return EXPIRE_MAX_AFTER.total_seconds()
