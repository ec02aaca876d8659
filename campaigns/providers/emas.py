"""EMAS Mobile Push (Alibaba Cloud "Push", API version 2016-08-01), per seed 004.

``build_*`` functions turn typed inputs into a ``ProviderRequest`` after checking every
rule of the seed (all broken rules are reported together, each under its wire name);
``EmasClient`` builds, calls and parses, so a broken rule raises ``RequestInvalid`` before
anything is sent. EMAS takes its parameters in the query string, as the official SDK
sends them; MassPush's tasks travel in a form body (see ``build_mass_push``).

The option groups and their rules are in ``emas_options`` (iOS, HarmonyOS, SMS fallback)
and ``emas_android``; the rules of a push as a whole (target, title, times, keys) are here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from campaigns.providers.base import ProviderClient, ProviderRequest, register
from campaigns.providers.emas_android import (
    AndroidOptions,
)
from campaigns.providers.emas_options import (
    DeviceType,
    HarmonyOptions,
    IosOptions,
    PushType,
    Rules,
    SendChannel,
    SmsFallback,
    Target,
    WireParams,
    is_member,
    whole_seconds,
)
from campaigns.providers.errors import RuleCheck
from campaigns.providers.wire import compact_json, utf8_length

API_VERSION = "2016-08-01"

# Targets (seed 004 and the SDK's TargetValue documentation)
EMAS_MAX_TARGET_VALUES = 1000  # per push, for DEVICE, ACCOUNT and ALIAS
ACCOUNT_MAX_BYTES = 64  # product limits page: "An account must be 64 bytes or less"
ALIAS_MAX_BYTES = 128  # product limits page: "An alias must be 128 bytes or less"
TAG_MAX_CHARS = 128  # product limits page: a tag name is up to 128 characters
TAG_EXPRESSION_KEYS = frozenset({"tag", "and", "or", "not"})  # the Tag format page
LISTED_TARGETS = (Target.DEVICE, Target.ACCOUNT, Target.ALIAS)

# Content
TITLE_MAX_BYTES = 200
# The product limits bound the whole payload EMAS builds, which we cannot see. We count the
# text a marketer writes (Title + Body, plus iOS subtitle and ext parameters) in UTF-8 bytes,
# so these checks catch most oversized pushes but not all of them:
# - Android and HarmonyOS: 4000 bytes, the bound the EMAS PushTask documentation gives for a
#   message serialised as JSON (older pages said 1800 B; the service now accepts more).
# - iOS: 4096 bytes, the APNs payload limit; the aps keys EMAS adds also count there.
ANDROID_PAYLOAD_MAX_BYTES = 4000
IOS_PAYLOAD_MAX_BYTES = 4096

# Times
PUSH_TIME_MAX_AHEAD = timedelta(days=7)
EXPIRE_TIME_MAX = timedelta(hours=72)  # retention, counted from PushTime (or now)
EXPIRE_AFTER_PUSH_MIN = timedelta(seconds=3)  # ExpireTime > PushTime (or now) + 3 s

# Keys
JOB_KEY_MAX_LENGTH = 32
JOB_KEY = re.compile(r"[A-Za-z0-9_-]+")
# "a standard 36-character UUID (8-4-4-4-12) ... hexadecimal ... case-insensitive" (SDK note)
IDEMPOTENT_TOKEN = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
MESSAGE_ID = re.compile(r"[0-9]+")  # the SDK types MessageId as an integer

# MassPush: "up to 100 independent push tasks in a single call", targets by device, account
# or alias only, and no SMS fallback (the MassPush documentation).
MASS_PUSH_MAX_TASKS = 100

# QueryPushRecords (the SDK's model documentation). The service also bounds the time range
# (InvalidPeriod.ExceedDays) but no document we have says by how many days: not checked.
RECORDS_PAGE_MAX = 10_000
RECORDS_PAGE_SIZE_MAX = 100


class RecordPushType(StrEnum):
    MESSAGE = "MESSAGE"
    NOTICE = "NOTICE"
    LIVE_ACTIVITY = "LIVE_ACTIVITY"


class RecordSource(StrEnum):
    API = "API"
    CONSOLE = "CONSOLE"
    OPENAPI_EXPLORER = "OpenAPIExplorer"


class RecordTarget(StrEnum):
    DEVICE = "DEVICE"
    ACCOUNT = "ACCOUNT"
    ALIAS = "ALIAS"
    TAG = "TAG"
    ALL = "ALL"
    TBD = "TBD"  # continuous pushes, which the console may have sent


@dataclass(frozen=True)
class EmasApp:
    """One EMAS app (one platform): its AppKey."""

    app_key: int


@dataclass(frozen=True)
class EmasPush:
    """One push: to whom, what, when, and the options of each platform."""

    push_type: PushType
    device_type: DeviceType
    target: Target
    target_value: tuple[str, ...]  # sent comma-separated; () or ("ALL",) for Target.ALL
    title: str = ""
    body: str = ""
    store_offline: bool | None = None  # StoreOffline
    push_time: datetime | None = None  # PushTime (aware)
    expire_time: datetime | None = None  # ExpireTime (aware)
    job_key: str | None = None  # JobKey
    send_channels: tuple[SendChannel, ...] | None = None  # SendChannels
    trim: bool | None = None  # Trim
    idempotent_token: str | None = None  # IdempotentToken (Push only; MassPush has its own)
    ios: IosOptions | None = None
    android: AndroidOptions | None = None
    harmony: HarmonyOptions | None = None
    sms: SmsFallback | None = None


# --- rules ---------------------------------------------------------------------------------


def check_app(rules: RuleCheck, app: EmasApp) -> None:
    rules.require(app.app_key > 0, "AppKey", _("Give the app's AppKey from the EMAS console."))


def check_push(rules: Rules, push: EmasPush) -> None:
    rules.one_of("PushType", push.push_type, PushType)
    rules.one_of("DeviceType", push.device_type, DeviceType)
    rules.one_of("Target", push.target, Target)
    check_target_value(rules, push.target, push.target_value)
    check_content(rules, push)
    check_times(rules, push)
    if push.job_key is not None and not (
        len(push.job_key) <= JOB_KEY_MAX_LENGTH and JOB_KEY.fullmatch(push.job_key)
    ):
        rules.fail(
            "JobKey",
            _("Use at most %(limit)d letters, digits, _ or -.") % {"limit": JOB_KEY_MAX_LENGTH},
        )
    if push.idempotent_token is not None:
        check_idempotent_token(rules, push.idempotent_token)
    for channel in push.send_channels or ():
        rules.one_of("SendChannels", channel, SendChannel)
    for group in (push.ios, push.android, push.harmony, push.sms):
        if group is not None:
            group.check(rules)


def check_idempotent_token(rules: Rules, token: str) -> None:
    rules.require(
        IDEMPOTENT_TOKEN.fullmatch(token) is not None,
        "IdempotentToken",
        _("Use a UUID such as c8016d13-6e76-410c-9bda-769383d11787."),
    )


def check_target_value(rules: Rules, target: Target, values: tuple[str, ...]) -> None:
    name = "TargetValue"
    if target == Target.ALL:
        rules.require(values in ((), ("ALL",)), name, _('A push to everyone has the value "ALL".'))
    elif target == Target.TAG:
        if len(values) != 1:
            rules.fail(name, _("Give one tag, or one tag expression combining several."))
        elif not is_tag_expression(values[0]):
            rules.fail(
                name,
                _('Give a tag name, or an expression such as {"and": [{"tag": "a"}, ...]}.'),
            )
    elif target in LISTED_TARGETS:
        if not values:
            rules.fail(name, _("Give at least one recipient."))
        elif len(values) > EMAS_MAX_TARGET_VALUES:
            rules.fail(
                name,
                _("At most %(limit)d targets per push; this batch has %(count)d.")
                % {"limit": EMAS_MAX_TARGET_VALUES, "count": len(values)},
            )
        if any(not value or "," in value for value in values):
            rules.fail(name, _("A recipient cannot be empty or contain a comma."))
        limit = {Target.ACCOUNT: ACCOUNT_MAX_BYTES, Target.ALIAS: ALIAS_MAX_BYTES}.get(target)
        if limit is not None and any(utf8_length(value) > limit for value in values):
            rules.fail(
                name,
                _("An account or alias has at most %(limit)d bytes.") % {"limit": limit},
            )


def is_tag_expression(value: str) -> bool:
    """A tag name, or a JSON expression of {"tag": name}, {"and"|"or": [..]}, {"not": {..}}."""
    if not value.lstrip().startswith("{"):
        return 0 < len(value) <= TAG_MAX_CHARS and "," not in value
    try:
        return _is_tag_node(json.loads(value))
    except ValueError:
        return False


def _is_tag_node(node: Any) -> bool:
    if not isinstance(node, dict) or len(node) != 1 or not set(node) <= TAG_EXPRESSION_KEYS:
        return False
    ((key, value),) = node.items()
    if key == "tag":
        return isinstance(value, str) and 0 < len(value) <= TAG_MAX_CHARS
    if key == "not":
        return _is_tag_node(value)
    return isinstance(value, list) and bool(value) and all(_is_tag_node(v) for v in value)


def check_content(rules: Rules, push: EmasPush) -> None:
    if push.device_type in (DeviceType.ANDROID, DeviceType.HARMONY, DeviceType.ALL):
        rules.require(bool(push.title), "Title", _("A title is needed for Android and HarmonyOS."))
    rules.max_bytes("Title", push.title, TITLE_MAX_BYTES)
    size = utf8_length(push.title) + utf8_length(push.body)
    if push.device_type == DeviceType.IOS:
        limit = IOS_PAYLOAD_MAX_BYTES
        if push.ios is not None:
            size += utf8_length(push.ios.subtitle or "")
            ext = push.ios.ext_parameters
            if ext is not None:
                size += utf8_length(ext if isinstance(ext, str) else compact_json(dict(ext)))
    else:
        limit = ANDROID_PAYLOAD_MAX_BYTES
    if size > limit:
        rules.fail(
            "Body",
            _("The title and text take %(size)d bytes; a push carries at most %(limit)d.")
            % {"size": size, "limit": limit},
        )


def check_times(rules: Rules, push: EmasPush) -> None:
    now = whole_seconds(rules.now)
    start = now
    if rules.aware("PushTime", push.push_time):
        assert push.push_time is not None
        push_time = whole_seconds(push.push_time)
        if push_time < now:
            rules.fail("PushTime", _("The scheduled time has passed."))
        elif push_time > now + PUSH_TIME_MAX_AHEAD:
            rules.fail(
                "PushTime",
                _("Schedule at most %(days)d days ahead.") % {"days": PUSH_TIME_MAX_AHEAD.days},
            )
        start = max(push_time, now)
    if rules.aware("ExpireTime", push.expire_time):
        assert push.expire_time is not None
        expire_time = whole_seconds(push.expire_time)
        if expire_time <= start + EXPIRE_AFTER_PUSH_MIN:
            rules.fail(
                "ExpireTime",
                _("The push must stay valid more than %(seconds)d seconds after it is sent.")
                % {"seconds": EXPIRE_AFTER_PUSH_MIN.total_seconds()},
            )
        elif expire_time > start + EXPIRE_TIME_MAX:
            rules.fail(
                "ExpireTime",
                _("A push is kept at most %(hours)d hours.")
                % {"hours": EXPIRE_TIME_MAX // timedelta(hours=1)},
            )


def check_message_id(rules: RuleCheck, message_id: str | int) -> None:
    rules.require(
        MESSAGE_ID.fullmatch(str(message_id)) is not None,
        "MessageId",
        _("Give the message ID EMAS returned for the push (digits only)."),
    )


# --- builders ------------------------------------------------------------------------------


def write_push(params: WireParams, push: EmasPush) -> None:
    params.put("PushType", push.push_type)
    params.put("DeviceType", push.device_type)
    params.put("Target", push.target)
    target_value = "ALL" if push.target == Target.ALL else ",".join(push.target_value)
    params.put("TargetValue", target_value)
    params.put("Title", push.title or None)
    params.put("Body", push.body or None)
    params.put("StoreOffline", push.store_offline)
    params.put("PushTime", push.push_time)
    params.put("ExpireTime", push.expire_time)
    params.put("JobKey", push.job_key)
    if push.send_channels:
        params.put("SendChannels", ",".join(str(channel) for channel in push.send_channels))
    params.put("Trim", push.trim)
    params.put("IdempotentToken", push.idempotent_token)
    for group in (push.ios, push.android, push.harmony, push.sms):
        if group is not None:
            group.write(params)


def build_push(app: EmasApp, push: EmasPush, *, now: datetime) -> ProviderRequest:
    check = RuleCheck()
    check_app(check, app)
    check_push(Rules(check, now), push)
    check.raise_if_any()
    params = WireParams()
    params.put("AppKey", app.app_key)
    write_push(params, push)
    return ProviderRequest("Push", API_VERSION, params.values, in_query=True)


def build_mass_push(
    app: EmasApp,
    pushes: Sequence[EmasPush],
    *,
    now: datetime,
    idempotent_token: str | None = None,
) -> ProviderRequest:
    """MassPush: ``PushTask.N.<Param>`` for each push, N from 1.

    The SDK sends AppKey and IdempotentToken in the query and the tasks in a form body;
    ``ProviderRequest`` has one place for all parameters, so everything goes in the body
    (the gateway reads RPC parameters from either, and 100 tasks would overflow a URL).
    """
    check = RuleCheck()
    check_app(check, app)
    if not 1 <= len(pushes) <= MASS_PUSH_MAX_TASKS:
        check.fail(
            "PushTask",
            _("Send from 1 to %(limit)d pushes at once; this batch has %(count)d.")
            % {"limit": MASS_PUSH_MAX_TASKS, "count": len(pushes)},
        )
    if idempotent_token is not None:
        check_idempotent_token(Rules(check, now), idempotent_token)
    for number, push in enumerate(pushes, start=1):
        rules = Rules(check, now, prefix=f"PushTask.{number}.")
        check_push(rules, push)
        if is_member(Target, push.target) and push.target not in LISTED_TARGETS:
            rules.fail("Target", _("A batch push goes to devices, accounts or aliases only."))
        if push.sms is not None:
            rules.fail("SmsTemplateName", _("A batch push cannot fall back to SMS."))
        if push.idempotent_token is not None:
            rules.fail("IdempotentToken", _("Give one idempotent token for the whole batch."))
    check.raise_if_any()
    params = WireParams()
    params.put("AppKey", app.app_key)
    params.put("IdempotentToken", idempotent_token)
    values = dict(params.values)
    for number, push in enumerate(pushes, start=1):
        task = WireParams(f"PushTask.{number}.", mass=True)
        write_push(task, push)
        values.update(task.values)
    return ProviderRequest("MassPush", API_VERSION, values, in_query=False)


def _by_message(action: str, app: EmasApp, message_id: str | int) -> ProviderRequest:
    check = RuleCheck()
    check_app(check, app)
    check_message_id(check, message_id)
    check.raise_if_any()
    params = {"AppKey": str(app.app_key), "MessageId": str(message_id)}
    return ProviderRequest(action, API_VERSION, params, in_query=True)


def build_query_push_stat_by_msg(app: EmasApp, message_id: str | int) -> ProviderRequest:
    return _by_message("QueryPushStatByMsg", app, message_id)


def build_cancel_push(app: EmasApp, message_id: str | int) -> ProviderRequest:
    return _by_message("CancelPush", app, message_id)


def build_query_push_records(
    app: EmasApp,
    *,
    start: datetime,
    end: datetime,
    page: int | None = None,
    page_size: int | None = None,
    push_type: RecordPushType | None = None,
    target: RecordTarget | None = None,
    source: RecordSource | None = None,
    keyword: str | None = None,
) -> ProviderRequest:
    """QueryPushRecords: one page of the pushes sent between ``start`` and ``end``."""
    check = RuleCheck()
    check_app(check, app)
    rules = Rules(check, datetime.now(UTC))
    start_ok = rules.aware("StartTime", start)
    end_ok = rules.aware("EndTime", end)
    if start_ok and end_ok and start >= end:
        rules.fail("EndTime", _("The end of the period must come after its start."))
    rules.within("Page", page, 1, RECORDS_PAGE_MAX)
    rules.within("PageSize", page_size, 1, RECORDS_PAGE_SIZE_MAX)
    rules.one_of("PushType", push_type, RecordPushType)
    rules.one_of("Target", target, RecordTarget)
    rules.one_of("Source", source, RecordSource)
    check.raise_if_any()
    params = WireParams()
    params.put("AppKey", app.app_key)
    params.put("StartTime", start)
    params.put("EndTime", end)
    params.put("Page", page)
    params.put("PageSize", page_size)
    params.put("PushType", push_type)
    params.put("Target", target)
    params.put("Source", source)
    params.put("Keyword", keyword)
    return ProviderRequest("QueryPushRecords", API_VERSION, params.values, in_query=True)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    request_id: str
    message_id: str


@dataclass(frozen=True)
class MassPushResult:
    request_id: str
    message_ids: tuple[str, ...]  # in the order of the tasks


@dataclass(frozen=True)
class PushStat:
    """QueryPushStatByMsg's PushStats.PushStat (data arrives the day after the push)."""

    message_id: str
    accept_count: int
    sent_count: int
    received_count: int
    opened_count: int
    deleted_count: int
    sms_sent_count: int
    sms_skip_count: int
    sms_failed_count: int
    sms_receive_success_count: int
    sms_receive_failed_count: int


@dataclass(frozen=True)
class PushStatReport:
    request_id: str
    stats: tuple[PushStat, ...]


@dataclass(frozen=True)
class PushRecord:
    message_id: str
    app_key: int
    push_type: str
    device_type: str
    target: str
    title: str
    body: str
    push_time: str
    status: str
    source: str


@dataclass(frozen=True)
class PushRecordsPage:
    request_id: str
    page: int
    page_size: int
    total: int
    records: tuple[PushRecord, ...]

    @property
    def next_page(self) -> int | None:
        """The page to ask for next, or None on the last page."""
        return self.page + 1 if self.page * self.page_size < self.total else None


def _items(body: Mapping[str, Any], outer: str, inner: str) -> list[Any]:
    """A list the gateway wraps as {"Outer": {"Inner": [...]}}."""
    wrapper = body.get(outer)
    items = wrapper.get(inner) if isinstance(wrapper, Mapping) else None
    return list(items) if isinstance(items, list) else []


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def parse_push_stat(item: Mapping[str, Any]) -> PushStat:
    return PushStat(
        message_id=str(item.get("MessageId") or ""),
        accept_count=_int(item.get("AcceptCount")),
        sent_count=_int(item.get("SentCount")),
        received_count=_int(item.get("ReceivedCount")),
        opened_count=_int(item.get("OpenedCount")),
        deleted_count=_int(item.get("DeletedCount")),
        sms_sent_count=_int(item.get("SmsSentCount")),
        sms_skip_count=_int(item.get("SmsSkipCount")),
        sms_failed_count=_int(item.get("SmsFailedCount")),
        sms_receive_success_count=_int(item.get("SmsReceiveSuccessCount")),
        sms_receive_failed_count=_int(item.get("SmsReceiveFailedCount")),
    )


def parse_push_record(item: Mapping[str, Any]) -> PushRecord:
    def text(name: str) -> str:
        return str(item.get(name) or "")

    return PushRecord(
        message_id=text("MessageId"),
        app_key=_int(item.get("AppKey")),
        push_type=text("PushType"),
        device_type=text("DeviceType"),
        target=text("Target"),
        title=text("Title"),
        body=text("Body"),
        push_time=text("PushTime"),
        status=text("Status"),
        source=text("Source"),
    )


# --- the client ----------------------------------------------------------------------------


@register("emas")
class EmasClient(ProviderClient):
    """EMAS Mobile Push for one account; each method checks, then makes one call."""

    def push(self, app: EmasApp, push: EmasPush, *, now: datetime | None = None) -> PushResult:
        response = self.call(build_push(app, push, now=now or datetime.now(UTC)))
        return PushResult(response.request_id, str(response.body.get("MessageId") or ""))

    def mass_push(
        self,
        app: EmasApp,
        pushes: Sequence[EmasPush],
        *,
        idempotent_token: str | None = None,
        now: datetime | None = None,
    ) -> MassPushResult:
        request = build_mass_push(
            app, pushes, now=now or datetime.now(UTC), idempotent_token=idempotent_token
        )
        response = self.call(request)
        ids = tuple(str(item) for item in _items(response.body, "MessageIds", "MessageId"))
        return MassPushResult(response.request_id, ids)

    def query_push_stat_by_msg(self, app: EmasApp, message_id: str | int) -> PushStatReport:
        response = self.call(build_query_push_stat_by_msg(app, message_id))
        stats = _items(response.body, "PushStats", "PushStat")
        return PushStatReport(
            response.request_id,
            tuple(parse_push_stat(item) for item in stats if isinstance(item, Mapping)),
        )

    def query_push_records(
        self,
        app: EmasApp,
        *,
        start: datetime,
        end: datetime,
        page: int | None = None,
        page_size: int | None = None,
        push_type: RecordPushType | None = None,
        target: RecordTarget | None = None,
        source: RecordSource | None = None,
        keyword: str | None = None,
    ) -> PushRecordsPage:
        request = build_query_push_records(
            app,
            start=start,
            end=end,
            page=page,
            page_size=page_size,
            push_type=push_type,
            target=target,
            source=source,
            keyword=keyword,
        )
        body = self.call(request)
        records = _items(body.body, "PushInfos", "PushInfo")
        return PushRecordsPage(
            request_id=body.request_id,
            page=_int(body.body.get("Page")) or page or 1,
            page_size=_int(body.body.get("PageSize")) or page_size or 20,
            total=_int(body.body.get("Total")),
            records=tuple(parse_push_record(item) for item in records if isinstance(item, Mapping)),
        )

    def cancel_push(self, app: EmasApp, message_id: str | int) -> str:
        """Cancels a scheduled push; returns the RequestId."""
        return self.call(build_cancel_push(app, message_id)).request_id
