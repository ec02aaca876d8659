"""mPaaS Message Push (API 2020-10-28): the option groups the push actions share.

The app (``MpaasApp``), the schedule (``Strategy``: strategyType + StrategyContent), the
vendor channel options, the SMS fallback and Live Activity fields: each a frozen input type,
the rules the seeds give for it (every broken rule named by its wire name) and its wire
parameters, as the official SDK sends them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum

from django.utils.translation import gettext as _

from campaigns.providers.errors import RuleCheck
from campaigns.providers.wire import compact_json, wire_value

STRATEGY_MAX_DAYS_AHEAD = 180  # a recurring push ends at most 180 days after today


WEEKDAYS = range(1, 8)  # circleValue for weekly recurrence: 1 = Monday ... 7 = Sunday


MONTH_DAYS = range(1, 32)  # circleValue for monthly recurrence


STRATEGY_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")  # HH:mm:ss


OPPO_NOTIFY_LEVELS = frozenset({"1", "2", "3"})


# Vendor keys of thirdChannelCategory: "hms" and "vivo" in the seeds, the others from the
# mPaaS "Vendor message classification" page.
THIRD_CHANNEL_VENDORS = frozenset({"hms", "honor", "harmonyos", "oppo", "vivo", "xiaomi"})


NOTIFY_LEVEL_VENDORS = frozenset({"oppo"})


class StrategyType(IntEnum):
    IMMEDIATE = 0
    SCHEDULED = 1
    RECURRING = 2


class CircleType(IntEnum):
    DAILY = 1
    WEEKLY = 2
    MONTHLY = 3


class VivoClassification(IntEnum):
    OPERATIONAL = 0
    SYSTEM = 1


class SmsStrategy(IntEnum):
    NONE = 0
    RESEND = 1  # SMS when the push was not delivered
    CONCURRENT = 2  # SMS together with the push


class ActivityEvent(StrEnum):
    UPDATE = "update"
    END = "end"


@dataclass(frozen=True)
class MpaasApp:
    app_id: str
    workspace_id: str
    tenant_id: str | None = None


@dataclass(frozen=True)
class Strategy:
    """strategyType and StrategyContent: send now, once later, or on a recurring schedule."""

    type: StrategyType = StrategyType.IMMEDIATE
    fixed_time: datetime | None = None  # SCHEDULED: when
    start: datetime | None = None  # RECURRING: first day of the period
    end: datetime | None = None  # RECURRING: last day of the period
    circle_type: CircleType | None = None
    circle_values: tuple[int, ...] = ()  # weekdays 1-7 or month days 1-31; none when daily
    time: str | None = None  # RECURRING: time of day, "HH:mm:ss"


IMMEDIATE = Strategy()


@dataclass(frozen=True)
class VendorOptions:
    """Vendor channel options: message classification, notification level, channel IDs."""

    classification: VivoClassification | None = None  # vivo, sent as Classification
    third_channel_category: Mapping[str, str] = field(default_factory=dict)  # {"hms": "9"}
    notify_level: Mapping[str, str] = field(default_factory=dict)  # {"oppo": "2"}
    mi_channel_id: str | None = None
    channel_id: str | None = None  # Android notification channel ID


NO_VENDOR_OPTIONS = VendorOptions()


@dataclass(frozen=True)
class SmsFallback:
    strategy: SmsStrategy
    sign_name: str | None = None
    template_code: str | None = None
    template_params: Mapping[str, object] | None = None


@dataclass(frozen=True)
class LiveActivity:
    event: ActivityEvent
    content_state: Mapping[str, object] = field(default_factory=dict)
    dismissal_date: datetime | None = None  # only for END; sent in seconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def epoch_ms(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def epoch_seconds(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(seconds=1)


def start_of_day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def check_app(check: RuleCheck, app: MpaasApp) -> None:
    check.require(bool(app.app_id.strip()), "AppId", _("The mPaaS app ID is missing."))
    check.require(bool(app.workspace_id.strip()), "WorkspaceId", _("The workspace is missing."))


def check_one_of(
    check: RuleCheck, wire_name: str, value: object, allowed: Iterable[object]
) -> None:
    allowed = list(allowed)
    if value not in allowed:
        check.fail(
            wire_name,
            _("%(value)s is not allowed here; choose one of %(allowed)s.")
            % {"value": value, "allowed": ", ".join(str(wire(item)) for item in allowed)},
        )


def wire(value: object) -> str:
    """A scalar as it travels: enums by value, booleans as 1/0 where the API wants numbers."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, IntEnum):
        return str(int(value))
    if isinstance(value, StrEnum):
        return str(value.value)
    return wire_value(value)


def check_aware(check: RuleCheck, wire_name: str, value: datetime) -> bool:
    if is_aware(value):
        return True
    check.fail(wire_name, _("The date and time need a time zone."))
    return False


def check_strategy(
    check: RuleCheck, strategy: Strategy, *, audience_is_group: bool, now: datetime
) -> None:
    check_one_of(check, "StrategyType", strategy.type, StrategyType)
    if strategy.type is StrategyType.IMMEDIATE:
        return
    if audience_is_group:
        check.fail(
            "StrategyType",
            _(
                "Scheduled and recurring pushes cannot target an analytics group or a tag "
                "audience; send it now instead."
            ),
        )
    if strategy.type is StrategyType.SCHEDULED:
        if strategy.fixed_time is None:
            check.fail("StrategyContent", _("A scheduled push needs its send time."))
        elif check_aware(check, "StrategyContent", strategy.fixed_time):
            check.require(
                strategy.fixed_time > now,
                "StrategyContent",
                _("The send time has passed; choose a time in the future."),
            )
        return
    if strategy.type is StrategyType.RECURRING:
        _check_recurring(check, strategy, now=now)


def _check_recurring(check: RuleCheck, strategy: Strategy, *, now: datetime) -> None:
    today = start_of_day(now)
    start, end = strategy.start, strategy.end
    if start is None or end is None:
        check.fail("StrategyContent", _("A recurring push needs a first and a last day."))
    elif check_aware(check, "StrategyContent", start) and check_aware(
        check, "StrategyContent", end
    ):
        check.require(
            start >= today,
            "StrategyContent",
            _("The first day of a recurring push cannot be before today."),
        )
        check.require(
            end >= start,
            "StrategyContent",
            _("The last day of a recurring push cannot be before its first day."),
        )
        limit = today + timedelta(days=STRATEGY_MAX_DAYS_AHEAD + 1)
        check.require(
            end < limit,
            "StrategyContent",
            _("A recurring push must end within %(days)d days from today.")
            % {"days": STRATEGY_MAX_DAYS_AHEAD},
        )
    if strategy.circle_type is None:
        check.fail(
            "StrategyContent", _("Choose whether the push repeats daily, weekly or monthly.")
        )
    elif strategy.circle_type not in list(CircleType):
        check_one_of(check, "StrategyContent", strategy.circle_type, CircleType)
    elif strategy.circle_type is not CircleType.DAILY:
        days = WEEKDAYS if strategy.circle_type is CircleType.WEEKLY else MONTH_DAYS
        if not strategy.circle_values:
            check.fail("StrategyContent", _("Choose the days on which the push repeats."))
        elif any(value not in days for value in strategy.circle_values):
            check.fail(
                "StrategyContent",
                _("Repeat days must be between %(first)d and %(last)d.")
                % {"first": days[0], "last": days[-1]},
            )
    if not strategy.time:
        check.fail("StrategyContent", _("A recurring push needs its time of day."))
    elif not STRATEGY_TIME.match(strategy.time):
        check.fail(
            "StrategyContent",
            _("The time of day %(time)s is not in the HH:mm:ss form, e.g. 09:45:00.")
            % {"time": strategy.time},
        )


def strategy_content(strategy: Strategy) -> dict[str, object]:
    """StrategyContent, keys in the order of the seeds' field table."""
    content: dict[str, object] = {}
    if strategy.type is StrategyType.SCHEDULED and strategy.fixed_time is not None:
        content["fixedTime"] = epoch_ms(strategy.fixed_time)
    if strategy.type is StrategyType.RECURRING:
        if strategy.start is not None:
            content["startTime"] = epoch_ms(strategy.start)
        if strategy.end is not None:
            content["endTime"] = epoch_ms(strategy.end)
        if strategy.circle_type is not None:
            content["circleType"] = int(strategy.circle_type)
        if strategy.circle_type is not CircleType.DAILY:
            content["circleValue"] = list(strategy.circle_values)
        content["time"] = strategy.time
    return content


def check_vendor(check: RuleCheck, vendor: VendorOptions) -> None:
    if vendor.classification is not None:
        check_one_of(check, "Classification", vendor.classification, VivoClassification)
    for key, value in vendor.third_channel_category.items():
        if key not in THIRD_CHANNEL_VENDORS:
            check.fail(
                "ThirdChannelCategory",
                _("%(vendor)s is not a vendor with message categories; use one of %(known)s.")
                % {"vendor": key, "known": ", ".join(sorted(THIRD_CHANNEL_VENDORS))},
            )
        elif not isinstance(value, str) or not value.strip():
            check.fail(
                "ThirdChannelCategory",
                _('The message category for %(vendor)s must be a text value such as "9".')
                % {"vendor": key},
            )
    for key, value in vendor.notify_level.items():
        if key not in NOTIFY_LEVEL_VENDORS:
            check.fail(
                "NotifyLevel",
                _("%(vendor)s has no notification levels; only OPPO has.") % {"vendor": key},
            )
        elif value not in OPPO_NOTIFY_LEVELS:
            check.fail(
                "NotifyLevel",
                _('The OPPO notification level must be "1", "2" or "3", not %(value)r.')
                % {"value": value},
            )
    if vendor.mi_channel_id is not None:
        check.require(
            isinstance(vendor.mi_channel_id, str) and bool(vendor.mi_channel_id.strip()),
            "MiChannelId",
            _("The Xiaomi channel ID cannot be empty."),
        )
    if vendor.channel_id is not None:
        check.require(
            bool(vendor.channel_id.strip()),
            "ChannelId",
            _("The Android notification channel ID cannot be empty."),
        )


def check_sms(check: RuleCheck, sms: SmsFallback) -> None:
    check_one_of(check, "SmsStrategy", sms.strategy, SmsStrategy)
    if sms.strategy == SmsStrategy.NONE:
        return
    check.require(
        bool(sms.sign_name and sms.sign_name.strip()),
        "SmsSignName",
        _("An SMS fallback needs the SMS signature."),
    )
    check.require(
        bool(sms.template_code and sms.template_code.strip()),
        "SmsTemplateCode",
        _("An SMS fallback needs the SMS template code."),
    )
    check.require(
        sms.template_params is not None,
        "SmsTemplateParam",
        _("An SMS fallback needs the values of the SMS template's variables."),
    )


def check_live_activity(check: RuleCheck, live: LiveActivity) -> None:
    check_one_of(check, "ActivityEvent", live.event, ActivityEvent)
    if live.dismissal_date is not None:
        check.require(
            live.event == ActivityEvent.END,
            "DismissalDate",
            _("A dismissal date only applies to a Live Activity end event."),
        )
        check_aware(check, "DismissalDate", live.dismissal_date)


def app_params(app: MpaasApp) -> dict[str, str]:
    params = {"AppId": app.app_id, "WorkspaceId": app.workspace_id}
    if app.tenant_id:
        params["TenantId"] = app.tenant_id
    return params


def put_param(params: dict[str, str], name: str, value: object) -> None:
    if value is not None:
        params[name] = wire(value)


def put_json(params: dict[str, str], name: str, value: Mapping[str, object] | None) -> None:
    if value:
        params[name] = compact_json(dict(value))


def sms_params(params: dict[str, str], sms: SmsFallback | None) -> None:
    if sms is None:
        return
    params["SmsStrategy"] = wire(sms.strategy)
    put_param(params, "SmsSignName", sms.sign_name)
    put_param(params, "SmsTemplateCode", sms.template_code)
    if sms.template_params is not None:
        params["SmsTemplateParam"] = compact_json(dict(sms.template_params))


def live_activity_params(params: dict[str, str], live: LiveActivity | None) -> None:
    if live is None:
        return
    params["ActivityEvent"] = wire(live.event)
    # A JSON object on the wire as a compact JSON string (the SDK types it Any and would
    # flatten a dict into ActivityContentState.<key> form fields).
    put_json(params, "ActivityContentState", live.content_state)
    if live.dismissal_date is not None:
        params["DismissalDate"] = wire(epoch_seconds(live.dismissal_date))
