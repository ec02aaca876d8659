"""Every rule of the mPaaS push seeds: a valid push changed to break exactly one rule is
refused with a message on that parameter's wire name, before anything is sent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest

from campaigns.providers.base import Account, Credentials
from campaigns.providers.errors import RequestInvalid
from campaigns.providers.mpaas import MpaasClient
from campaigns.providers.mpaas_options import (
    STRATEGY_MAX_DAYS_AHEAD,
    ActivityEvent,
    CircleType,
    LiveActivity,
    MpaasApp,
    SmsFallback,
    SmsStrategy,
    Strategy,
    StrategyType,
    VendorOptions,
)
from campaigns.providers.mpaas_push import (
    PUSH_MULTIPLE_MAX_TARGETS,
    PUSH_SIMPLE_MAX_TARGETS,
    PUSH_TEMPLATE_MAX_TARGETS,
    DeliveryType,
    Period,
    PushBroadcast,
    PushMultiple,
    PushSimple,
    PushStatus,
    PushStyle,
    PushTemplate,
    Target,
    TargetMessage,
    TimeMode,
)
from tests.campaigns.providers.conftest import MPAAS_OK

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = datetime(2026, 3, 1, tzinfo=UTC)
NAIVE = NOW.replace(tzinfo=None) + timedelta(days=1)
APP = MpaasApp(app_id="ONEX570DA89211721", workspace_id="test")
SMS = SmsFallback(SmsStrategy.RESEND, "mPaaS", "SMS_216070269", {"code": "1234"})
RECURRING = Strategy(
    type=StrategyType.RECURRING,
    start=TODAY,
    end=TODAY + timedelta(days=30),
    circle_type=CircleType.WEEKLY,
    circle_values=(1, 5),
    time="09:45:00",
)
MONTHLY = replace(RECURRING, circle_type=CircleType.MONTHLY, circle_values=(1, 31))
SCHEDULED = Strategy(type=StrategyType.SCHEDULED, fixed_time=NOW + timedelta(hours=1))
VENDOR = VendorOptions(
    third_channel_category={"hms": "9", "vivo": "1"}, notify_level={"oppo": "3"}, mi_channel_id="1"
)


def targets(count: int) -> tuple[Target, ...]:
    return tuple(Target(f"user{index}", f"key{index}") for index in range(count))


def messages(count: int) -> tuple[TargetMessage, ...]:
    return tuple(
        TargetMessage(f"user{index}", f"key{index}", {"name": f"N{index}"})
        for index in range(count)
    )


BASELINES: dict[str, Any] = {
    "simple": PushSimple(
        task_name="Spring sale",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        targets=targets(PUSH_SIMPLE_MAX_TARGETS),
        title="Spring sale",
        content="50% off",
        strategy=SCHEDULED,
        vendor=VENDOR,
        sms=SMS,
        live_activity=LiveActivity(ActivityEvent.END, {"score": 1}, NOW + timedelta(hours=4)),
    ),
    "template": PushTemplate(
        task_name="Template",
        delivery_type=DeliveryType.ANDROID,
        expired_seconds=300,
        targets=targets(PUSH_TEMPLATE_MAX_TARGETS),
        template_name="welcome",
        template_values={"name": "Zhang"},
        placeholders=("#name#",),
        strategy=RECURRING,
        sms=SMS,
    ),
    "multiple": PushMultiple(
        task_name="Multiple",
        delivery_type=DeliveryType.IOS,
        expired_seconds=300,
        target_msgs=messages(PUSH_MULTIPLE_MAX_TARGETS),
        template_name="welcome",
        placeholders=("name",),
        strategy=MONTHLY,
        vendor=VENDOR,
    ),
    "broadcast": PushBroadcast(
        task_name="Broadcast",
        delivery_type=DeliveryType.HARMONYOS,
        expired_seconds=300,
        msg_key="b1",
        template_name="news",
        template_values={"content": "Hello"},
        placeholders=("content",),
        bind_period=Period.WITHIN_7_DAYS,
        strategy=SCHEDULED,
    ),
}
METHODS = {
    "simple": "push_simple",
    "template": "push_template",
    "multiple": "push_multiple",
    "broadcast": "push_broadcast",
}
BAD: Any = cast(Any, 9)  # a value outside every enum of the API


def case(kind: str, wire_name: str, rule: str, **changes: Any) -> Any:
    return pytest.param(kind, wire_name, changes, id=f"{kind}: {rule}")


def recurring(**changes: Any) -> Strategy:
    return replace(RECURRING, **changes)


def live(event: Any, dismissal: datetime | None = None) -> LiveActivity:
    return LiveActivity(event, {}, dismissal)


RULES = [
    # targets
    case("simple", "TargetMsgkey", "at least one target", targets=()),
    case("simple", "TargetMsgkey", "at most 10 targets", targets=targets(11)),
    case(
        "simple",
        "TargetMsgkey",
        "message keys unique",
        targets=(Target("a", "k"), Target("b", "k")),
    ),
    case(
        "simple", "TargetMsgkey", "targets unique", targets=(Target("a", "k1"), Target("a", "k2"))
    ),
    case("simple", "TargetMsgkey", "every target has a message key", targets=(Target("a", " "),)),
    case("template", "TargetMsgkey", "at least one target", targets=()),
    case("template", "TargetMsgkey", "at most 10 targets", targets=targets(11)),
    case(
        "template",
        "TargetMsgkey",
        "message keys unique",
        targets=(Target("a", "k"), Target("b", "k")),
    ),
    case("multiple", "TargetMsg", "at least one target message", target_msgs=()),
    case("multiple", "TargetMsg", "at most 100 target messages", target_msgs=messages(101)),
    case(
        "multiple",
        "TargetMsg.2.MsgKey",
        "each message key present",
        target_msgs=(TargetMessage("a", "k", {"name": "x"}), TargetMessage("b", "", {"name": "y"})),
    ),
    case(
        "multiple",
        "TargetMsg",
        "message keys unique",
        target_msgs=(
            TargetMessage("a", "k", {"name": "x"}),
            TargetMessage("b", "k", {"name": "y"}),
        ),
    ),
    case(
        "multiple",
        "TargetMsg",
        "targets unique",
        target_msgs=(
            TargetMessage("a", "k1", {"name": "x"}),
            TargetMessage("a", "k2", {"name": "y"}),
        ),
    ),
    # delivery types per action
    case("simple", "DeliveryType", "Simple takes 1,2,3,5,6", delivery_type=DeliveryType.HARMONYOS),
    case("template", "DeliveryType", "Template takes 1,2,3,5,6", delivery_type=BAD),
    case(
        "multiple",
        "DeliveryType",
        "Multiple takes 1,2,3",
        delivery_type=DeliveryType.LIVE_ACTIVITY_TOKEN,
    ),
    case("broadcast", "DeliveryType", "Broadcast takes 1,2,7", delivery_type=DeliveryType.USER),
    # templates
    case("template", "TemplateName", "template name required", template_name=" "),
    case("template", "TemplateName", "template name without commas", template_name="a,b"),
    case("multiple", "TemplateName", "template name without commas", template_name="a,b"),
    case("broadcast", "TemplateName", "template name required", template_name=""),
    case(
        "template",
        "TemplateKeyValue",
        "every placeholder has a value",
        placeholders=("name", "money"),
    ),
    case("broadcast", "TemplateKeyValue", "every placeholder has a value", template_values={}),
    case(
        "multiple",
        "TargetMsg.1.TemplateKeyValue",
        "every target fills every placeholder",
        placeholders=("name", "money"),
    ),
    # common fields
    case("simple", "TaskName", "task name required", task_name=""),
    case("broadcast", "TaskName", "task name required", task_name="  "),
    case("simple", "ExpiredSeconds", "validity positive", expired_seconds=0),
    case("multiple", "ExpiredSeconds", "validity an integer", expired_seconds=cast(Any, 1.5)),
    case("simple", "Title", "title required", title=""),
    case("simple", "Content", "content required", content=""),
    case("simple", "NotifyType", "notifyType transparent or notify", notify_type=cast(Any, "sms")),
    case("simple", "PushStyle", "pushStyle 0/1/2", push_style=BAD),
    case(
        "simple", "ImageUrls", "big picture style needs an image", push_style=PushStyle.BIG_PICTURE
    ),
    case("simple", "PushAction", "pushAction 0/1", push_action=BAD),
    case("template", "Silent", "silent 0/1", silent=cast(Any, 2)),
    case("broadcast", "Msgkey", "broadcast message key required", msg_key=""),
    # strategies
    case("simple", "StrategyType", "strategyType 0/1/2", strategy=Strategy(type=BAD)),
    case(
        "simple",
        "StrategyContent",
        "fixedTime required when scheduled",
        strategy=Strategy(type=StrategyType.SCHEDULED),
    ),
    case(
        "simple",
        "StrategyContent",
        "fixedTime in the future",
        strategy=replace(SCHEDULED, fixed_time=NOW - timedelta(minutes=1)),
    ),
    case(
        "simple",
        "StrategyContent",
        "fixedTime has a time zone",
        strategy=replace(SCHEDULED, fixed_time=NAIVE),
    ),
    case(
        "template",
        "StrategyContent",
        "startTime required when recurring",
        strategy=recurring(start=None),
    ),
    case(
        "template",
        "StrategyContent",
        "endTime required when recurring",
        strategy=recurring(end=None),
    ),
    case(
        "template",
        "StrategyContent",
        "start not before today",
        strategy=recurring(start=TODAY - timedelta(seconds=1)),
    ),
    case(
        "template",
        "StrategyContent",
        "end within 180 days",
        strategy=recurring(end=TODAY + timedelta(days=STRATEGY_MAX_DAYS_AHEAD + 1)),
    ),
    case(
        "template",
        "StrategyContent",
        "end not before start",
        strategy=recurring(start=TODAY + timedelta(days=3), end=TODAY + timedelta(days=2)),
    ),
    case(
        "template", "StrategyContent", "circleType required", strategy=recurring(circle_type=None)
    ),
    case("template", "StrategyContent", "circleType 1/2/3", strategy=recurring(circle_type=BAD)),
    case(
        "template",
        "StrategyContent",
        "circleValue required unless daily",
        strategy=recurring(circle_values=()),
    ),
    case(
        "template", "StrategyContent", "weekly values 1-7", strategy=recurring(circle_values=(8,))
    ),
    case(
        "multiple",
        "StrategyContent",
        "monthly values 1-31",
        strategy=replace(MONTHLY, circle_values=(0,)),
    ),
    case(
        "template", "StrategyContent", "time required when recurring", strategy=recurring(time=None)
    ),
    case("template", "StrategyContent", "time as HH:mm:ss", strategy=recurring(time="9:45")),
    case("multiple", "StrategyType", "no schedule for a group audience", audience_is_group=True),
    case("broadcast", "StrategyType", "no schedule for a tag audience", audience_is_group=True),
    # vendor options
    case(
        "simple",
        "ThirdChannelCategory",
        "known vendors only",
        vendor=VendorOptions(third_channel_category={"nokia": "1"}),
    ),
    case(
        "simple",
        "ThirdChannelCategory",
        "string categories",
        vendor=VendorOptions(third_channel_category={"hms": cast(Any, 9)}),
    ),
    case(
        "multiple",
        "NotifyLevel",
        "OPPO levels 1-3",
        vendor=VendorOptions(notify_level={"oppo": "4"}),
    ),
    case(
        "broadcast",
        "NotifyLevel",
        "levels for OPPO only",
        vendor=VendorOptions(notify_level={"vivo": "1"}),
    ),
    case(
        "simple", "MiChannelId", "Xiaomi channel not empty", vendor=VendorOptions(mi_channel_id="")
    ),
    case(
        "template",
        "Classification",
        "vivo classification 0/1",
        vendor=VendorOptions(classification=BAD),
    ),
    # SMS fallback
    case("simple", "SmsSignName", "SMS signature required", sms=replace(SMS, sign_name=None)),
    case("simple", "SmsTemplateCode", "SMS template required", sms=replace(SMS, template_code="")),
    case(
        "template",
        "SmsTemplateParam",
        "SMS values required",
        sms=replace(SMS, template_params=None),
    ),
    case("template", "SmsStrategy", "smsStrategy 0/1/2", sms=replace(SMS, strategy=BAD)),
    # Live Activity
    case("simple", "ActivityEvent", "activityEvent update/end", live_activity=live("start")),
    case(
        "simple",
        "DismissalDate",
        "dismissalDate only for end",
        live_activity=live(ActivityEvent.UPDATE, NOW),
    ),
    # broadcast audience
    case("broadcast", "PushStatus", "pushStatus 0/1/2", push_status=BAD),
    case("broadcast", "BindPeriod", "bindPeriod required for bound users", bind_period=None),
    case("broadcast", "BindPeriod", "bindPeriod 1-4", bind_period=BAD),
    case(
        "broadcast",
        "UnBindPeriod",
        "unBindPeriod required for unbound users",
        push_status=PushStatus.UNBOUND,
    ),
    case(
        "broadcast",
        "UnBindPeriod",
        "unBindPeriod required for all users",
        push_status=PushStatus.ALL,
        unbind_period=BAD,
    ),
    case("broadcast", "TimeMode", "timeMode 0/1", time_mode=BAD),
    case(
        "broadcast",
        "BindStartTime",
        "bind range needs its start",
        time_mode=TimeMode.RANGE,
        bind_end=NOW,
    ),
    case(
        "broadcast",
        "BindEndTime",
        "bind range end not before start",
        time_mode=TimeMode.RANGE,
        bind_start=NOW,
        bind_end=NOW - timedelta(days=1),
    ),
    case(
        "broadcast",
        "UnBindEndTime",
        "unbind range needs its end",
        time_mode=TimeMode.RANGE,
        push_status=PushStatus.UNBOUND,
        unbind_start=NOW,
    ),
    case("broadcast", "AndroidChannel", "androidChannel 1/2", android_channel=BAD),
]


class RecordingTransport:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=MPAAS_OK)


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def client(transport: RecordingTransport) -> MpaasClient:
    account = Account("https://mpaas.example.invalid/", Credentials("id", "secret"))
    return MpaasClient(account, http=httpx.Client(transport=httpx.MockTransport(transport)))


@pytest.mark.parametrize(("kind", "wire_name", "changes"), RULES)
def test_a_push_breaking_one_rule_is_refused_on_that_parameter_before_sending(
    client: MpaasClient,
    transport: RecordingTransport,
    kind: str,
    wire_name: str,
    changes: dict[str, Any],
) -> None:
    push = replace(BASELINES[kind], **changes)
    with pytest.raises(RequestInvalid) as refused:
        getattr(client, METHODS[kind])(APP, push, now=NOW)
    assert refused.value.for_field(wire_name), refused.value.errors
    assert all(message.strip() for message in refused.value.for_field(wire_name))
    assert refused.value.permanent
    assert transport.requests == []


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_the_valid_baselines_pass_every_rule_and_reach_the_transport(
    client: MpaasClient, transport: RecordingTransport, kind: str
) -> None:
    receipt = getattr(client, METHODS[kind])(APP, BASELINES[kind], now=NOW)
    assert receipt.request_id == MPAAS_OK["RequestId"]
    assert receipt.task_id == "903bf653c1b5442b9ba07684767bf9c2"
    assert receipt.scheduled
    assert len(transport.requests) == 1
    assert transport.requests[0].headers["x-acs-action"] == "Push" + kind.capitalize()


def test_every_broken_rule_is_reported_at_once(
    client: MpaasClient, transport: RecordingTransport
) -> None:
    push = replace(BASELINES["simple"], title="", targets=targets(11), task_name="")
    with pytest.raises(RequestInvalid) as refused:
        client.push_simple(APP, push, now=NOW)
    fields = {error.field for error in refused.value.errors}
    assert {"Title", "TargetMsgkey", "TaskName"} <= fields
    assert transport.requests == []


def test_a_missing_workspace_is_refused(client: MpaasClient, transport: RecordingTransport) -> None:
    with pytest.raises(RequestInvalid) as refused:
        client.task_stats(MpaasApp("ONEX", " "), "t1")
    assert refused.value.for_field("WorkspaceId")
    assert transport.requests == []


def test_the_recurring_schedule_is_sent_in_milliseconds_without_days_when_daily(
    client: MpaasClient, transport: RecordingTransport
) -> None:
    daily = recurring(circle_type=CircleType.DAILY, circle_values=())
    client.push_template(APP, replace(BASELINES["template"], strategy=daily), now=NOW)
    form = dict(httpx.QueryParams(transport.requests[0].content.decode()))
    assert json.loads(form["StrategyContent"]) == {
        "startTime": int(TODAY.timestamp() * 1000),
        "endTime": int((TODAY + timedelta(days=30)).timestamp() * 1000),
        "circleType": 1,
        "time": "09:45:00",
    }
