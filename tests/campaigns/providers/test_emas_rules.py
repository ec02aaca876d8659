"""Every rule of seed 004: a valid input broken in exactly one way is refused before
anything is sent, with a message under the wire name of the field at fault."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest

from campaigns.providers.base import Account, Credentials
from campaigns.providers.emas import (
    EMAS_MAX_TARGET_VALUES,
    MASS_PUSH_MAX_TASKS,
    EmasApp,
    EmasClient,
    EmasPush,
    RecordPushType,
    RecordSource,
)
from campaigns.providers.emas_android import (
    AndroidOpenType,
    AndroidOptions,
    AndroidPopup,
    AndroidRenderStyle,
    AndroidStyle,
    AndroidVendors,
    Audience,
    Importance,
    OppoNotifyLevel,
    VendorCategory,
)
from campaigns.providers.emas_options import (
    ApnsEnv,
    DeviceType,
    HarmonyActionType,
    HarmonyOptions,
    HarmonyRenderStyle,
    IosOptions,
    LiveActivity,
    LiveActivityEvent,
    PushType,
    SendChannel,
    SmsFallback,
    SmsSendPolicy,
    Target,
)
from campaigns.providers.errors import RequestInvalid

APP = EmasApp(23267207)
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TOKEN = "c8016d13-6e76-410c-9bda-769383d11787"

ANDROID = EmasPush(
    PushType.NOTICE, DeviceType.ANDROID, Target.DEVICE, ("d1",), title="Hi", body="Hello"
)
IOS = EmasPush(
    PushType.NOTICE,
    DeviceType.IOS,
    Target.DEVICE,
    ("d1",),
    body="Hello",
    ios=IosOptions(apns_env=ApnsEnv.PRODUCT),
)
HARMONY = replace(ANDROID, device_type=DeviceType.HARMONY)
SMS = SmsFallback("SMS_1", "Pushdeck", SmsSendPolicy.NOT_RECEIVED, delay=timedelta(minutes=5))
START = LiveActivity(
    LiveActivityEvent.START, attributes_type="OrderAttributes", attributes={"orderId": "1"}
)


def bad(value: object) -> Any:
    """A value outside the type a field declares, as a form could still hand one over."""
    return cast(Any, value)


def android(**options: Any) -> EmasPush:
    return replace(ANDROID, android=AndroidOptions(**options))


def vendors(**options: Any) -> EmasPush:
    return android(vendors=AndroidVendors(**options))


def ios(**options: Any) -> EmasPush:
    return replace(IOS, ios=IosOptions(apns_env=ApnsEnv.PRODUCT, **options))


def harmony(**options: Any) -> EmasPush:
    return replace(HARMONY, harmony=HarmonyOptions(**options))


def sms(**fields: Any) -> EmasPush:
    return replace(ANDROID, sms=replace(SMS, **fields))


Call = Callable[[EmasClient], object]


def push(value: EmasPush) -> Call:
    return lambda client: client.push(APP, value, now=NOW)


def mass(values: list[EmasPush], token: str | None = None) -> Call:
    return lambda client: client.mass_push(APP, values, idempotent_token=token, now=NOW)


def records(**changes: Any) -> Call:
    arguments: dict[str, Any] = {"start": NOW - timedelta(days=1), "end": NOW, **changes}
    return lambda client: client.query_push_records(APP, **arguments)


def case(call: Call, field: str, rule: str) -> Any:
    return pytest.param(call, field, id=rule)


RULES = [
    # the push as a whole
    case(lambda c: c.push(EmasApp(0), ANDROID, now=NOW), "AppKey", "an app key is needed"),
    case(push(replace(ANDROID, push_type=bad("BROADCAST"))), "PushType", "push type is known"),
    case(push(replace(ANDROID, device_type=bad("WINDOWS"))), "DeviceType", "device type known"),
    case(push(replace(ANDROID, target=bad("EVERYONE"))), "Target", "target is known"),
    case(
        push(replace(ANDROID, target_value=tuple(f"d{i}" for i in range(1001)))),
        "TargetValue",
        "at most 1000 targets",
    ),
    case(push(replace(ANDROID, target_value=("a,b",))), "TargetValue", "no comma in a target"),
    case(push(replace(ANDROID, target_value=("d1", ""))), "TargetValue", "no empty target"),
    case(push(replace(ANDROID, target_value=())), "TargetValue", "a listed target is needed"),
    case(
        push(replace(ANDROID, target=Target.ALL, target_value=("d1",))),
        "TargetValue",
        "target all has the value ALL",
    ),
    case(
        push(replace(ANDROID, target=Target.TAG, target_value=('{"xor":[]}',))),
        "TargetValue",
        "a tag expression is well formed",
    ),
    case(
        push(replace(ANDROID, target=Target.TAG, target_value=("a", "b"))),
        "TargetValue",
        "one tag expression",
    ),
    case(
        push(replace(ANDROID, target=Target.ACCOUNT, target_value=("a" * 65,))),
        "TargetValue",
        "an account has at most 64 bytes",
    ),
    case(push(replace(ANDROID, title="")), "Title", "android needs a title"),
    case(push(replace(HARMONY, title="")), "Title", "harmonyos needs a title"),
    case(push(replace(ANDROID, title="春" * 67)), "Title", "title at most 200 bytes"),
    case(push(replace(ANDROID, body="x" * 3999)), "Body", "android payload at most 4000 bytes"),
    case(push(replace(IOS, body="x" * 4097)), "Body", "ios payload at most 4096 bytes"),
    case(
        push(replace(ANDROID, push_time=NOW - timedelta(minutes=1))),
        "PushTime",
        "push time not in the past",
    ),
    case(
        push(replace(ANDROID, push_time=NOW + timedelta(days=7, seconds=1))),
        "PushTime",
        "push time at most 7 days ahead",
    ),
    case(
        push(replace(ANDROID, push_time=datetime(2025, 3, 2))),  # noqa: DTZ001
        "PushTime",
        "push time has a time zone",
    ),
    case(
        push(replace(ANDROID, expire_time=NOW + timedelta(seconds=3))),
        "ExpireTime",
        "expire time more than 3 s after now",
    ),
    case(
        push(
            replace(
                ANDROID,
                push_time=NOW + timedelta(days=1),
                expire_time=NOW + timedelta(days=1, seconds=2),
            )
        ),
        "ExpireTime",
        "expire time more than 3 s after push time",
    ),
    case(
        push(replace(ANDROID, expire_time=NOW + timedelta(hours=72, seconds=1))),
        "ExpireTime",
        "expire time at most 72 hours",
    ),
    case(push(replace(ANDROID, job_key="a" * 33)), "JobKey", "job key at most 32 characters"),
    case(push(replace(ANDROID, job_key="spring sale!")), "JobKey", "job key characters"),
    case(
        push(replace(ANDROID, idempotent_token="not-a-uuid")),
        "IdempotentToken",
        "idempotent token is a uuid",
    ),
    case(
        push(replace(ANDROID, send_channels=(SendChannel.ACCS, bad("sms")))),
        "SendChannels",
        "send channels are known",
    ),
    # SMS fallback
    case(push(sms(template_name="")), "SmsTemplateName", "sms needs a template"),
    case(push(sms(sign_name="")), "SmsSignName", "sms needs a signature"),
    case(push(sms(send_policy=bad(2))), "SmsSendPolicy", "sms send policy is known"),
    case(push(sms(delay=None)), "SmsDelaySecs", "sms needs a delay"),
    case(push(sms(delay=timedelta(seconds=14))), "SmsDelaySecs", "sms delay at least 15 s"),
    case(push(sms(delay=timedelta(days=3, seconds=1))), "SmsDelaySecs", "sms delay 3 days"),
    case(push(sms(params={"a&b": "1"})), "SmsParams", "sms variables have no & or ="),
    # iOS
    case(push(ios(badge=2, badge_auto_increment=True)), "iOSBadge", "badge or auto-increment"),
    case(push(ios(badge=-1)), "iOSBadge", "badge not negative"),
    case(push(replace(IOS, ios=IosOptions(apns_env=bad("TEST")))), "iOSApnsEnv", "apns env"),
    case(
        push(ios(interruption_level=bad("loud"))),
        "iOSInterruptionLevel",
        "interruption level is known",
    ),
    case(push(ios(relevance_score=1.5)), "iOSRelevanceScore", "relevance score from 0 to 1"),
    case(push(ios(ext_parameters='["a"]')), "iOSExtParameters", "ios ext parameters a map"),
    case(
        push(ios(live_activity=replace(START, event=bad("pause")))),
        "iOSLiveActivityEvent",
        "live activity event is known",
    ),
    case(
        push(ios(live_activity=replace(START, attributes_type=None))),
        "iOSLiveActivityAttributesType",
        "starting a live activity needs its type",
    ),
    case(
        push(ios(live_activity=replace(START, attributes=None))),
        "iOSLiveActivityAttributes",
        "starting a live activity needs its attributes",
    ),
    case(
        push(ios(live_activity=replace(START, attributes="[1]"))),
        "iOSLiveActivityAttributes",
        "live activity attributes a map",
    ),
    case(
        push(
            ios(
                live_activity=LiveActivity(
                    LiveActivityEvent.END, dismissal_date=NOW + timedelta(hours=4, seconds=1)
                )
            )
        ),
        "iOSLiveActivityDismissalDate",
        "dismissal at most 4 hours ahead",
    ),
    # Android
    case(push(android(notify_type=bad("BLINK"))), "AndroidNotifyType", "notify type known"),
    case(push(android(open_type=bad("APP"))), "AndroidOpenType", "open type is known"),
    case(
        push(android(open_type=AndroidOpenType.ACTIVITY)),
        "AndroidActivity",
        "open type activity needs an activity",
    ),
    case(push(android(open_type=AndroidOpenType.URL)), "AndroidOpenUrl", "open type url a url"),
    case(
        push(android(popup=AndroidPopup("com.example.Popup", body="Body"))),
        "AndroidPopupTitle",
        "popup activity needs a title",
    ),
    case(
        push(android(popup=AndroidPopup("com.example.Popup", title="Title"))),
        "AndroidPopupBody",
        "popup activity needs a body",
    ),
    case(
        push(android(popup=AndroidPopup(title="春" * 51))),
        "AndroidPopupTitle",
        "popup title at most 50 characters",
    ),
    case(
        push(android(popup=AndroidPopup(body="x" * 201))),
        "AndroidPopupBody",
        "popup body at most 200 characters",
    ),
    case(
        push(android(style=AndroidStyle(render_style=bad(4)))),
        "AndroidRenderStyle",
        "render style 0 to 3",
    ),
    case(
        push(android(style=AndroidStyle(AndroidRenderStyle.BIG_TEXT, big_title="春" * 67))),
        "AndroidBigTitle",
        "big title at most 200 bytes",
    ),
    case(
        push(android(style=AndroidStyle(AndroidRenderStyle.BIG_TEXT, big_body="春" * 334))),
        "AndroidBigBody",
        "big body at most 1000 bytes",
    ),
    case(
        push(android(style=AndroidStyle(AndroidRenderStyle.INBOX, inbox_body=("l",) * 6))),
        "AndroidInboxBody",
        "inbox body at most 5 lines",
    ),
    case(
        push(android(style=AndroidStyle(AndroidRenderStyle.INBOX, inbox_body='{"a": 1}'))),
        "AndroidInboxBody",
        "inbox body a json array",
    ),
    case(
        push(android(notification_bar_type=101)),
        "AndroidNotificationBarType",
        "bar type 1 to 100",
    ),
    case(
        push(android(notification_bar_priority=3)),
        "AndroidNotificationBarPriority",
        "bar priority -2 to 2",
    ),
    case(push(android(ext_parameters="[1]")), "AndroidExtParameters", "android ext params map"),
    case(push(android(badge_add_num=0)), "AndroidBadgeAddNum", "badge add 1 to 99"),
    case(push(android(badge_add_num=100)), "AndroidBadgeAddNum", "badge add at most 99"),
    case(push(android(badge_set_num=-1)), "AndroidBadgeSetNum", "badge set 0 to 99"),
    case(push(android(badge_set_num=100)), "AndroidBadgeSetNum", "badge set at most 99"),
    case(push(android(target_user_type=bad(2))), "AndroidTargetUserType", "target user 0/1"),
    case(
        push(vendors(oppo_notify_level=OppoNotifyLevel.BAR)),
        "AndroidMessageOppoCategory",
        "oppo notify level needs a category",
    ),
    case(
        push(vendors(oppo_category=VendorCategory.NEWS, oppo_notify_level=bad(3))),
        "AndroidMessageOppoNotifyLevel",
        "oppo notify level 1 2 or 16",
    ),
    case(
        push(vendors(huawei_target_user_type=bad(2))),
        "AndroidHuaweiTargetUserType",
        "huawei target user type 0 or 1",
    ),
    case(
        push(vendors(honor_target_user_type=bad(2))),
        "AndroidHonorTargetUserType",
        "honor target user type 0 or 1",
    ),
    case(push(vendors(vivo_push_mode=bad(2))), "AndroidVivoPushMode", "vivo push mode 0 or 1"),
    case(
        push(vendors(huawei_importance=bad("HIGH"))),
        "AndroidNotificationHuaweiChannel",
        "huawei importance low or normal",
    ),
    # HarmonyOS
    case(push(harmony(action_type=bad("OPEN"))), "HarmonyActionType", "harmony action type"),
    case(
        push(harmony(action_type=HarmonyActionType.APP_CUSTOM_PAGE)),
        "HarmonyAction",
        "custom page needs an action or uri",
    ),
    case(push(harmony(render_style=bad("BIG"))), "HarmonyRenderStyle", "harmony render style"),
    case(
        push(harmony(render_style=HarmonyRenderStyle.MULTI_LINE)),
        "HarmonyInboxContent",
        "multi line needs its lines",
    ),
    case(
        push(harmony(render_style=HarmonyRenderStyle.MULTI_LINE, inbox_content=("l",) * 4)),
        "HarmonyInboxContent",
        "multi line at most 3 lines",
    ),
    case(push(harmony(ext_parameters="x")), "HarmonyExtParameters", "harmony ext params map"),
    case(push(harmony(image_url="http://e.com/a.png")), "HarmonyImageUrl", "image url https"),
    # MassPush
    case(mass([]), "PushTask", "a batch has a task"),
    case(mass([ANDROID] * (MASS_PUSH_MAX_TASKS + 1)), "PushTask", "a batch at most 100"),
    case(mass([ANDROID], token="nope"), "IdempotentToken", "batch token is a uuid"),
    case(
        mass([replace(ANDROID, target=Target.TAG, target_value=("vip",))]),
        "PushTask.1.Target",
        "a batch task targets devices accounts or aliases",
    ),
    case(mass([replace(ANDROID, sms=SMS)]), "PushTask.1.SmsTemplateName", "no sms in a batch"),
    case(
        mass([replace(ANDROID, idempotent_token=TOKEN)]),
        "PushTask.1.IdempotentToken",
        "one token per batch",
    ),
    case(
        mass([ANDROID, replace(ANDROID, title="春" * 67)]),
        "PushTask.2.Title",
        "each task keeps the push rules",
    ),
    # queries
    case(lambda c: c.query_push_stat_by_msg(APP, "50a"), "MessageId", "stat message id digits"),
    case(lambda c: c.cancel_push(APP, ""), "MessageId", "cancel message id digits"),
    case(records(end=NOW - timedelta(days=2)), "EndTime", "records end after start"),
    case(records(start=datetime(2025, 3, 1)), "StartTime", "records start has a zone"),  # noqa: DTZ001
    case(records(page=0), "Page", "records page from 1"),
    case(records(page_size=101), "PageSize", "records page size at most 100"),
    case(records(push_type=bad("SMS")), "PushType", "records push type is known"),
    case(records(source=bad("CLI")), "Source", "records source is known"),
]

VALID = [
    pytest.param(push(ANDROID), id="an android notice"),
    pytest.param(push(IOS), id="an ios notice without a title"),
    pytest.param(
        push(
            replace(
                ANDROID,
                target=Target.ALIAS,
                target_value=tuple(f"a{i}" for i in range(EMAS_MAX_TARGET_VALUES)),
                title="春" * 66,
                push_time=NOW + timedelta(days=7),
                expire_time=NOW + timedelta(days=7, hours=72),
                job_key="a_B-9" * 6 + "xy",
                idempotent_token=TOKEN.upper(),
                sms=SMS,
            )
        ),
        id="every limit reached exactly",
    ),
    pytest.param(
        push(replace(ANDROID, target=Target.ALL, target_value=())), id="a push to everyone"
    ),
    pytest.param(
        push(
            replace(
                ANDROID,
                target=Target.TAG,
                target_value=('{"or":[{"tag":"a"},{"not":{"tag":"b"}}]}',),
            )
        ),
        id="a tag expression",
    ),
    pytest.param(
        push(ios(badge=0, live_activity=START, relevance_score=1.0)), id="a live activity"
    ),
    pytest.param(
        push(
            harmony(
                action_type=HarmonyActionType.APP_CUSTOM_PAGE,
                uri="https://e.com/p",
                render_style=HarmonyRenderStyle.MULTI_LINE,
                inbox_content='["a","b","c"]',
            )
        ),
        id="a harmonyos multi-line notice",
    ),
    pytest.param(
        push(
            android(
                open_type=AndroidOpenType.URL,
                open_url="https://e.com",
                popup=AndroidPopup("com.e.Popup", "t" * 50, "b" * 200),
                target_user_type=Audience.TEST,
                vendors=AndroidVendors(
                    huawei_importance=Importance.LOW,
                    oppo_category=VendorCategory.IM,
                    oppo_notify_level=OppoNotifyLevel.BAR_LOCK_SCREEN_SOUND_BANNER,
                ),
            )
        ),
        id="android options at their limits",
    ),
    pytest.param(mass([ANDROID] * MASS_PUSH_MAX_TASKS, token=TOKEN), id="a full batch"),
    pytest.param(lambda c: c.query_push_stat_by_msg(APP, 501029), id="push statistics"),
    pytest.param(lambda c: c.cancel_push(APP, "501029"), id="a cancellation"),
    pytest.param(
        records(page=1, page_size=100, push_type=RecordPushType.NOTICE, source=RecordSource.API),
        id="push records",
    ),
]


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(sent: list[httpx.Request]) -> Iterator[EmasClient]:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"RequestId": "REQ-1", "MessageId": "501029"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    account = Account("https://cloudpush.aliyuncs.com/", Credentials("LTAI-key", "secret"))
    yield EmasClient(account, http=http)
    http.close()


@pytest.mark.parametrize(("call", "field"), RULES)
def test_a_broken_rule_is_refused_before_anything_is_sent(
    client: EmasClient, sent: list[httpx.Request], call: Call, field: str
) -> None:
    with pytest.raises(RequestInvalid) as refused:
        call(client)
    messages = refused.value.for_field(field)
    assert messages, f"no message for {field}: {refused.value.errors}"
    assert all(message.strip() for message in messages)
    assert {error.field for error in refused.value.errors} == {field}  # only the rule broken
    assert refused.value.permanent
    assert sent == []


@pytest.mark.parametrize("call", VALID)
def test_a_valid_request_reaches_the_transport(
    client: EmasClient, sent: list[httpx.Request], call: Call
) -> None:
    call(client)
    assert len(sent) == 1


def test_every_broken_rule_is_reported_at_once(client: EmasClient) -> None:
    broken = replace(ANDROID, title="", job_key="bad key", target_value=())
    with pytest.raises(RequestInvalid) as refused:
        client.push(APP, broken, now=NOW)
    assert {error.field for error in refused.value.errors} == {"Title", "JobKey", "TargetValue"}


def test_a_message_names_the_limit_and_the_count(client: EmasClient) -> None:
    too_many = replace(ANDROID, target_value=tuple(f"d{i}" for i in range(1234)))
    with pytest.raises(RequestInvalid) as refused:
        client.push(APP, too_many, now=NOW)
    (message,) = refused.value.for_field("TargetValue")
    assert "1000" in message
    assert "1234" in message
