"""The sandbox's EMAS Push refuses each violation of seed 004 with the seed's error code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.models import SandboxPush
from campaigns.sandbox import control
from campaigns.sandbox.gateway import EMAS_VERSION, Call, dispatch
from campaigns.sandbox.registry import emas_device_id

APP_KEY = 23267207


@dataclass(frozen=True)
class Ahead:
    """A UTC time this far after the simulated now, filled in when the call is made."""

    delta: timedelta

    def at(self, now: datetime) -> str:
        return (now + self.delta).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_push(**changes: Any) -> dict[str, Any]:
    """A valid Push in wire names; a change to None removes the parameter."""
    params: dict[str, Any] = {
        "AppKey": APP_KEY,
        "PushType": "NOTICE",
        "DeviceType": "ANDROID",
        "Target": "DEVICE",
        "TargetValue": emas_device_id(1),
        "Title": "Spring sale",
        "Body": "Everything 20% off",
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def resolved(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        name: value.at(now) if isinstance(value, Ahead) else value for name, value in params.items()
    }


def wire(params: dict[str, Any]) -> dict[str, str]:
    """As the official SDK sends them: str() of each value ("True" for a bool), None left out."""
    now = control.simulated_now()
    return {name: str(value) for name, value in resolved(params, now).items() if value is not None}


def call(action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = dispatch(
        Call(
            action=action,
            version=EMAS_VERSION,
            params=wire(params),
            access_key_id="sandbox-key",
            request_id="R",
            received_at=control.simulated_now(),
        )
    )
    return response.status, json.loads(response.body)


DEVICES_1001 = ",".join(emas_device_id(n) for n in range(1001))

# (case, Push parameters, expected code)
RULES: list[tuple[str, dict[str, Any], str]] = [
    ("no AppKey", valid_push(AppKey=None), "InvalidAppKey.Empty"),
    ("AppKey not a number", valid_push(AppKey="demo"), "InvalidAppKey.Format"),
    ("AppKey of no app of ours", valid_push(AppKey=11111111), "PermissionDenied"),
    ("no PushType", valid_push(PushType=None), "InvalidPushType.Empty"),
    ("unknown PushType", valid_push(PushType="PING"), "InvalidPushType.Format"),
    ("DeviceType in the wrong case", valid_push(DeviceType="android"), "InvalidDeviceType.Format"),
    ("unknown Target", valid_push(Target="USER"), "InvalidTarget.Format"),
    ("empty TargetValue", valid_push(TargetValue=" , "), "InvalidTargetValue.Empty"),
    (
        "1001 devices",
        valid_push(TargetValue=DEVICES_1001),
        "InvalidTargetValue.LengthExceed",
    ),
    ("ALL with another value", valid_push(Target="ALL"), "InvalidTargetValue.Format"),
    (
        "TAG expression not JSON",
        valid_push(Target="TAG", TargetValue="{tag"),
        "InvalidTargetValue.Format",
    ),
    ("Android without Title", valid_push(Title=None), "InvalidTitle.Empty"),
    ("HarmonyOS without Title", valid_push(DeviceType="HARMONY", Title=None), "InvalidTitle.Empty"),
    ("Title of 202 bytes", valid_push(Title="é" * 101), "InvalidTitle.BytesExceed"),
    ("Android content over 4000 bytes", valid_push(Body="x" * 3990), "InvalidBody.BytesExceed"),
    (
        "iOS payload over 4096 bytes",
        valid_push(DeviceType="iOS", Title=None, Body="x" * 4080),
        "InvalidBody.BytesExceed",
    ),
    (
        "PushTime not ISO 8601 UTC",
        valid_push(PushTime="2030-01-01 10:00"),
        "InvalidPushTime.Format",
    ),
    ("PushTime 8 days ahead", valid_push(PushTime=Ahead(timedelta(days=8))), "Invalid.Parameter"),
    (
        "ExpireTime not UTC",
        valid_push(ExpireTime="2030-01-01T10:00:00+08:00"),
        "InvalidExpireTime.Format",
    ),
    (
        "ExpireTime 2 s ahead",
        valid_push(ExpireTime=Ahead(timedelta(seconds=2))),
        "Invalid.Parameter",
    ),
    (
        "ExpireTime 73 h ahead",
        valid_push(ExpireTime=Ahead(timedelta(hours=73))),
        "Invalid.Parameter",
    ),
    (
        "ExpireTime before PushTime",
        valid_push(PushTime=Ahead(timedelta(hours=2)), ExpireTime=Ahead(timedelta(hours=1))),
        "Invalid.Parameter",
    ),
    ("JobKey of 33 characters", valid_push(JobKey="j" * 33), "InvalidJobKey.LengthExceed"),
    ("JobKey with a space", valid_push(JobKey="spring sale"), "InvalidJobKey.Format"),
    ("StoreOffline not a boolean", valid_push(StoreOffline="yes"), "InvalidStoreOffline.Format"),
    (
        "iOSBadge with iOSBadgeAutoIncrement",
        valid_push(iOSBadge=3, iOSBadgeAutoIncrement=True),
        "Invalid.Parameter",
    ),
    (
        "silent notification without iOSMutableContent",
        valid_push(iOSSilentNotification=True),
        "Invalid.Parameter",
    ),
    ("iOSRelevanceScore above 1", valid_push(iOSRelevanceScore=1.5), "Invalid.Parameter"),
    (
        "iOSRelevanceScore not a number",
        valid_push(iOSRelevanceScore="high"),
        "InvalidiOSRelevanceScore.Format",
    ),
    (
        "iOSExtParameters not JSON",
        valid_push(iOSExtParameters="{bad"),
        "InvalidiOSExtParameters.Format",
    ),
    (
        "iOSInterruptionLevel unknown",
        valid_push(iOSInterruptionLevel="loud"),
        "InvalidiOSInterruptionLevel.Format",
    ),
    (
        "Live Activity start without its type",
        valid_push(iOSLiveActivityEvent="start", iOSLiveActivityAttributes="{}"),
        "InvalidiOSLiveActivityAttributesType.Empty",
    ),
    (
        "Live Activity start without its attributes",
        valid_push(iOSLiveActivityEvent="start", iOSLiveActivityAttributesType="Order"),
        "InvalidiOSLiveActivityAttributes.Empty",
    ),
    (
        "AndroidOpenType unknown",
        valid_push(AndroidOpenType="BROWSER"),
        "InvalidAndroidOpenType.Format",
    ),
    (
        "ACTIVITY without AndroidActivity",
        valid_push(AndroidOpenType="ACTIVITY"),
        "InvalidAndroidActivity.Empty",
    ),
    (
        "URL without AndroidOpenUrl",
        valid_push(AndroidOpenType="URL"),
        "InvalidAndroidOpenUrl.Empty",
    ),
    (
        "popup without its title",
        valid_push(AndroidPopupActivity="com.example.Main", AndroidPopupBody="b"),
        "InvalidAndroidPopupTitle.Empty",
    ),
    (
        "popup title of 51 characters",
        valid_push(AndroidPopupTitle="t" * 51),
        "InvalidAndroidPopupTitle.LengthExceed",
    ),
    (
        "popup body of 201 characters",
        valid_push(AndroidPopupBody="b" * 201),
        "InvalidAndroidPopupBody.LengthExceed",
    ),
    (
        "AndroidBigTitle of 201 bytes",
        valid_push(AndroidBigTitle="t" * 201),
        "InvalidAndroidBigTitle.BytesExceed",
    ),
    (
        "AndroidBigBody of 1002 bytes",
        valid_push(AndroidBigBody="长" * 334),
        "InvalidAndroidBigBody.BytesExceed",
    ),
    (
        "AndroidInboxBody not an array",
        valid_push(AndroidInboxBody='{"a": 1}'),
        "InvalidAndroidInboxBody.Format",
    ),
    (
        "AndroidInboxBody of 6 lines",
        valid_push(AndroidInboxBody=json.dumps(list("abcdef"))),
        "InvalidAndroidInboxBody.LengthExceed",
    ),
    (
        "AndroidExtParameters not a map",
        valid_push(AndroidExtParameters="[1, 2]"),
        "InvalidAndroidExtParameters.Format",
    ),
    ("AndroidBadgeAddNum 0", valid_push(AndroidBadgeAddNum=0), "Invalid.Parameter"),
    ("AndroidBadgeSetNum 100", valid_push(AndroidBadgeSetNum=100), "Invalid.Parameter"),
    (
        "AndroidNotificationBarPriority 3",
        valid_push(AndroidNotificationBarPriority=3),
        "Invalid.Parameter",
    ),
    (
        "AndroidRenderStyle not a number",
        valid_push(AndroidRenderStyle="big"),
        "InvalidAndroidRenderStyle.Format",
    ),
    (
        "OPPO notify level without category",
        valid_push(AndroidMessageOppoNotifyLevel=2),
        "InvalidAndroidMessageOppoCategory.Empty",
    ),
    ("unknown send channel", valid_push(SendChannels="accs,pigeon"), "InvalidSendChannels.Format"),
    (
        "MULTI_LINE without HarmonyInboxContent",
        valid_push(HarmonyRenderStyle="MULTI_LINE"),
        "InvalidHarmonyInboxContent.Empty",
    ),
    (
        "HarmonyInboxContent of 4 lines",
        valid_push(HarmonyRenderStyle="MULTI_LINE", HarmonyInboxContent=json.dumps(list("abcd"))),
        "InvalidHarmonyInboxContent.LengthExceed",
    ),
    (
        "APP_CUSTOM_PAGE without uri or action",
        valid_push(HarmonyActionType="APP_CUSTOM_PAGE"),
        "Invalid.Parameter",
    ),
    (
        "HarmonyImageUrl over http",
        valid_push(HarmonyImageUrl="http://x.example/a.png"),
        "InvalidHarmonyImageUrl.Format",
    ),
    (
        "HarmonyExtParameters not JSON",
        valid_push(HarmonyExtParameters="k=v"),
        "InvalidHarmonyExtParameters.Format",
    ),
    (
        "SMS template without signature",
        valid_push(SmsTemplateName="T1", SmsDelaySecs=60),
        "InvalidSmsSignName.Empty",
    ),
    (
        "SMS delay under 15 s",
        valid_push(SmsTemplateName="T1", SmsSignName="Shop", SmsDelaySecs=10),
        "Invalid.Parameter",
    ),
    (
        "SMS delay over 3 days",
        valid_push(SmsTemplateName="T1", SmsSignName="Shop", SmsDelaySecs=259_201),
        "Invalid.Parameter",
    ),
    (
        "IdempotentToken not a UUID",
        valid_push(IdempotentToken="retry-1"),
        "InvalidIdempotentToken.Format",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "code"), [pytest.param(p, c, id=case) for case, p, c in RULES])
def test_push_refuses_each_violation_with_the_seed_code(params: dict[str, Any], code: str) -> None:
    status, body = call("Push", params)
    assert (status, body["Code"]) == (400, code), body["Message"]
    assert not SandboxPush.objects.exists()


@pytest.mark.django_db
def test_messages_follow_the_seed_templates() -> None:
    cases = [
        (valid_push(Title="é" * 101), "The specified Title exceeds the 200 bytes limit."),
        (valid_push(Title=None), "The specified Title cannot be empty."),
        (valid_push(JobKey="j" * 33), "The specified JobKey length cannot be greater than 32."),
        (valid_push(PushType="PING"), "The specified PushType format is invalid."),
        (valid_push(AppKey=11111111), "The specified AppKey is not authorized."),
    ]
    for params, message in cases:
        assert call("Push", params)[1]["Message"] == message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        pytest.param(valid_push(), id="Android notice"),
        pytest.param(valid_push(DeviceType="iOS", Title=None, iOSBadge=2), id="iOS without title"),
        pytest.param(valid_push(PushType="MESSAGE", StoreOffline="true"), id="lower-case boolean"),
        pytest.param(valid_push(Target="ALL", TargetValue="ALL", DeviceType="HARMONY"), id="all"),
        pytest.param(
            valid_push(
                Target="TAG", TargetValue='{"and": [{"tag": "tag1"}, {"not": {"tag": "tag2"}}]}'
            ),
            id="tag expression",
        ),
        pytest.param(
            valid_push(
                AndroidOpenType="Activity",
                AndroidActivity="com.example.Main",
                AndroidPopupActivity="com.example.Main",
                AndroidPopupTitle="t" * 50,
                AndroidPopupBody="b" * 200,
                AndroidInboxBody=json.dumps(list("abcde")),
                AndroidBadgeAddNum=99,
                iOSRelevanceScore=0.5,
                ExpireTime=Ahead(timedelta(hours=72)),
                JobKey="spring_sale-2",
                IdempotentToken="C8016D13-6E76-410C-9BDA-769383D11787",
            ),
            id="limits reached, not passed",
        ),
        pytest.param(
            valid_push(
                SmsTemplateName="T1", SmsSignName="Shop", SmsDelaySecs=15, SmsParams="a=1&b=2"
            ),
            id="SMS fallback",
        ),
    ],
)
def test_push_accepts_valid_requests(params: dict[str, Any]) -> None:
    status, body = call("Push", params)
    assert status == 200, body
    assert body["MessageId"].isdigit()
    assert body["RequestId"] == "R"
