"""The sandbox's mPaaS push actions, called through the gateway's dispatch: every seed rule
refused with its ResultCode, and valid requests of every push action accepted."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control, mpaas
from campaigns.sandbox.delivery import fate_of
from campaigns.sandbox.gateway import MPAAS_VERSION, Call, dispatch

APP = {"AppId": "ONEX570DA89211721", "WorkspaceId": "test"}
DAY_MS = 86_400_000


def now_ms() -> int:
    return int(control.simulated_now().timestamp() * 1000)


def send(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    call = Call(
        action=action,
        version=MPAAS_VERSION,
        params={name: str(value) for name, value in params.items()},
        access_key_id="sandbox-key",
        request_id="R",
        received_at=control.simulated_now(),
    )
    response = dispatch(call)
    assert response.status == 200, response.body
    body: dict[str, Any] = json.loads(response.body)
    return body


def simple(**changes: Any) -> dict[str, Any]:
    params = {
        **APP,
        "TaskName": "simple",
        "Title": "Hello",
        "Content": "World",
        "DeliveryType": 3,
        "TargetMsgkey": json.dumps({"user1": "s1", "user2": "s2"}),
        "ExpiredSeconds": 300,
    }
    return _apply(params, changes)


def template(**changes: Any) -> dict[str, Any]:
    params = {
        **APP,
        "TaskName": "template",
        "TemplateName": "Test template",
        "TemplateKeyValue": json.dumps({"name": "Zhang San", "money": "200"}),
        "DeliveryType": 3,
        "TargetMsgkey": json.dumps({"user1": "t1"}),
        "ExpiredSeconds": 300,
    }
    return _apply(params, changes)


def multiple(count: int = 2, prefix: str = "m", **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        **APP,
        "TaskName": "multiple",
        "TemplateName": "template1024",
        "DeliveryType": 3,
        "ExpiredSeconds": 600,
    }
    for n in range(1, count + 1):
        params[f"TargetMsg.{n}.Target"] = f"user{n}"
        params[f"TargetMsg.{n}.MsgKey"] = f"{prefix}{n}"
        params[f"TargetMsg.{n}.TemplateKeyValue"] = json.dumps({"name": f"N{n}", "money": n})
    return _apply(params, changes)


def broadcast(**changes: Any) -> dict[str, Any]:
    params = {
        **APP,
        "TaskName": "broadcast",
        "TemplateName": "broadcastTemplate",
        "TemplateKeyValue": json.dumps({"content": "This is an announcement"}),
        "DeliveryType": 1,
        "Msgkey": "b1",
        "ExpiredSeconds": 600,
    }
    return _apply(params, changes)


def _apply(params: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def recurring(**changes: Any) -> str:
    today = now_ms()
    content: dict[str, Any] = {
        "startTime": today,
        "endTime": today + 10 * DAY_MS,
        "circleType": 1,
        "time": "12:00:00",
    }
    return json.dumps(_apply(content, changes))


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "PushSimple": simple,
    "PushTemplate": template,
    "PushMultiple": multiple,
    "PushBroadcast": broadcast,
}


def ok(body: Mapping[str, Any]) -> str:
    assert body["ResultCode"] == "OK", body
    assert body["PushResult"]["Success"] is True
    task_id: str = body["PushResult"]["Data"]
    return task_id


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(BUILDERS))
def test_a_valid_request_of_every_push_action_is_accepted(action: str) -> None:
    body = send(action, BUILDERS[action]())
    task_id = ok(body)
    push = SandboxPush.objects.get(task_id=task_id)
    assert push.action == action
    assert push.status == SandboxPush.Status.SENT
    assert push.request_id == "R"


RULES: list[tuple[str, dict[str, Any], str, str]] = [
    # (action, changes, ResultCode, part of the message)
    ("PushSimple", {"AppId": None}, "PARAM_ILLEGAL", "AppId is required"),
    ("PushSimple", {"WorkspaceId": "prod"}, "APP_NOT_EXIST", "does not exist"),
    ("PushSimple", {"AppId": "23267207", "WorkspaceId": ""}, "PARAM_ILLEGAL", "WorkspaceId"),
    ("PushSimple", {"TaskName": None}, "PARAM_ILLEGAL", "TaskName is required"),
    ("PushSimple", {"Title": None}, "PARAM_ILLEGAL", "Title is required"),
    ("PushSimple", {"Content": ""}, "PARAM_ILLEGAL", "Content is required"),
    ("PushSimple", {"DeliveryType": None}, "PARAM_ILLEGAL", "DeliveryType is required"),
    ("PushSimple", {"DeliveryType": 7}, "PARAM_ILLEGAL", "DeliveryType must be one of"),
    ("PushSimple", {"DeliveryType": "x"}, "PARAM_ILLEGAL", "DeliveryType must be an integer"),
    ("PushSimple", {"ExpiredSeconds": None}, "PARAM_ILLEGAL", "ExpiredSeconds is required"),
    ("PushSimple", {"ExpiredSeconds": 0}, "PARAM_ILLEGAL", "ExpiredSeconds must be at least"),
    ("PushSimple", {"TargetMsgkey": None}, "PARAM_ILLEGAL", "TargetMsgkey is required"),
    ("PushSimple", {"TargetMsgkey": "{"}, "PARAM_ILLEGAL", "TargetMsgkey is not valid JSON"),
    ("PushSimple", {"TargetMsgkey": "[]"}, "PARAM_ILLEGAL", "TargetMsgkey must be a JSON"),
    ("PushSimple", {"TargetMsgkey": "{}"}, "PARAM_ILLEGAL", "at least one target"),
    (
        "PushSimple",
        {"TargetMsgkey": json.dumps({f"user{n}": f"k{n}" for n in range(11)})},
        "TARGET_OVER_LIMIT",
        "at most 10",
    ),
    (
        "PushSimple",
        {"TargetMsgkey": json.dumps({"user1": "same", "user2": "same"})},
        "MSGKEY_DUPLICATE",
        "same",
    ),
    ("PushSimple", {"TargetMsgkey": '{"user1": ""}'}, "PARAM_ILLEGAL", "msgKey of user1"),
    ("PushSimple", {"PushStyle": 3}, "PARAM_ILLEGAL", "PushStyle"),
    ("PushSimple", {"Classification": "2"}, "PARAM_ILLEGAL", "Classification"),
    ("PushSimple", {"NotifyType": "push"}, "PARAM_ILLEGAL", "NotifyType"),
    ("PushSimple", {"NotifyLevel": '{"oppo": "4"}'}, "PARAM_ILLEGAL", "NotifyLevel.oppo"),
    ("PushSimple", {"ThirdChannelCategory": "hms=9"}, "PARAM_ILLEGAL", "ThirdChannelCategory"),
    ("PushSimple", {"ExtendedParams": "[1]"}, "PARAM_ILLEGAL", "ExtendedParams"),
    ("PushSimple", {"SmsStrategy": 3}, "PARAM_ILLEGAL", "SmsStrategy"),
    ("PushSimple", {"SmsStrategy": 1}, "PARAM_ILLEGAL", "SmsSignName is required"),
    (
        "PushSimple",
        {"SmsStrategy": 2, "SmsSignName": "s", "SmsTemplateCode": "SMS_1"},
        "PARAM_ILLEGAL",
        "SmsTemplateParam is required",
    ),
    ("PushSimple", {"ActivityEvent": "start"}, "PARAM_ILLEGAL", "ActivityEvent"),
    ("PushSimple", {"StrategyType": 3}, "PARAM_ILLEGAL", "StrategyType"),
    ("PushSimple", {"StrategyType": 1}, "PARAM_ILLEGAL", "StrategyContent is required"),
    (
        "PushSimple",
        {"StrategyType": 1, "StrategyContent": "{}"},
        "PARAM_ILLEGAL",
        "StrategyContent.fixedTime is required",
    ),
    ("PushTemplate", {"TemplateName": None}, "PARAM_ILLEGAL", "TemplateName is required"),
    ("PushTemplate", {"TemplateName": "a,b"}, "PARAM_ILLEGAL", "cannot contain commas"),
    ("PushTemplate", {"TemplateName": "nope"}, "TEMPLATE_NOT_EXIST", "nope"),
    ("PushTemplate", {"TemplateKeyValue": "x"}, "PARAM_ILLEGAL", "TemplateKeyValue"),
    ("PushTemplate", {"DeliveryType": 4}, "PARAM_ILLEGAL", "DeliveryType"),
    ("PushMultiple", {"DeliveryType": 5}, "PARAM_ILLEGAL", "DeliveryType"),
    ("PushMultiple", {"TemplateName": "nope"}, "TEMPLATE_NOT_EXIST", "nope"),
    ("PushMultiple", {"TargetMsg.1.Target": None}, "PARAM_ILLEGAL", "TargetMsg.1.Target"),
    ("PushMultiple", {"TargetMsg.2.MsgKey": ""}, "PARAM_ILLEGAL", "TargetMsg.2.MsgKey"),
    ("PushMultiple", {"TargetMsg.2.MsgKey": "m1"}, "MSGKEY_DUPLICATE", "m1"),
    (
        "PushMultiple",
        {"TargetMsg.1.TemplateKeyValue": "{'a'}"},
        "PARAM_ILLEGAL",
        "TargetMsg.1.TemplateKeyValue",
    ),
    ("PushMultiple", {"NotifyType": "x"}, "PARAM_ILLEGAL", "NotifyType"),
    ("PushBroadcast", {"Msgkey": None}, "PARAM_ILLEGAL", "Msgkey is required"),
    ("PushBroadcast", {"DeliveryType": 3}, "PARAM_ILLEGAL", "DeliveryType"),
    ("PushBroadcast", {"TemplateName": "nope"}, "TEMPLATE_NOT_EXIST", "nope"),
    ("PushBroadcast", {"PushStatus": 3}, "PARAM_ILLEGAL", "PushStatus"),
    ("PushBroadcast", {"PushStatus": 0}, "PARAM_ILLEGAL", "BindPeriod is required"),
    ("PushBroadcast", {"PushStatus": 1}, "PARAM_ILLEGAL", "UnBindPeriod is required"),
    ("PushBroadcast", {"PushStatus": 2, "BindPeriod": 1}, "PARAM_ILLEGAL", "UnBindPeriod"),
    ("PushBroadcast", {"PushStatus": 0, "BindPeriod": 5}, "PARAM_ILLEGAL", "BindPeriod"),
    (
        "PushBroadcast",
        {"PushStatus": 0, "TimeMode": 1, "BindStartTime": 1},
        "PARAM_ILLEGAL",
        "BindEndTime is required",
    ),
    (
        "PushBroadcast",
        {"PushStatus": 2, "TimeMode": 1, "UnBindStartTime": 5, "UnBindEndTime": 1},
        "PARAM_ILLEGAL",
        "UnBindEndTime cannot be earlier",
    ),
    ("PushBroadcast", {"TimeMode": 2}, "PARAM_ILLEGAL", "TimeMode"),
    ("PushBroadcast", {"AndroidChannel": 3}, "PARAM_ILLEGAL", "AndroidChannel"),
    ("PushBroadcast", {"Classification": "x"}, "PARAM_ILLEGAL", "Classification"),
    ("PushBroadcast", {"ExpiredSeconds": -5}, "PARAM_ILLEGAL", "ExpiredSeconds"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "changes", "code", "message"),
    RULES,
    ids=[f"{a}-{'-'.join(c)}-{code}" for a, c, code, _ in RULES],
)
def test_every_seed_rule_is_refused_with_its_result_code(
    action: str, changes: dict[str, Any], code: str, message: str
) -> None:
    body = send(action, BUILDERS[action](**changes))
    assert body["ResultCode"] == code, body
    assert message in body["ResultMessage"]
    assert body["PushResult"] == {"Success": False, "ResultMsg": body["ResultMessage"]}
    assert not SandboxPush.objects.exists()


def _strategy_cases() -> list[tuple[dict[str, Any], str]]:
    hour = 3_600_000
    return [
        ({"StrategyType": 1, "StrategyContent": json.dumps({"fixedTime": now_ms() - hour})},
         "StrategyContent.fixedTime must be in the future"),
        ({"StrategyType": 2, "StrategyContent": recurring(startTime=now_ms() - 2 * DAY_MS)},
         "StrategyContent.startTime cannot be earlier than 00:00 today"),
        ({"StrategyType": 2, "StrategyContent": recurring(endTime=now_ms() + 181 * DAY_MS)},
         "StrategyContent.endTime cannot be over 180 days"),
        ({"StrategyType": 2, "StrategyContent": recurring(
            startTime=now_ms() + 5 * DAY_MS, endTime=now_ms() + 2 * DAY_MS)},
         "StrategyContent.endTime cannot be earlier than startTime"),
        ({"StrategyType": 2, "StrategyContent": recurring(time=None)},
         "StrategyContent.time is required"),
        ({"StrategyType": 2, "StrategyContent": recurring(time="25:00:00")},
         "StrategyContent.time must be HH:mm:ss"),
        ({"StrategyType": 2, "StrategyContent": recurring(circleType=2)},
         "StrategyContent.circleValue is required"),
        ({"StrategyType": 2, "StrategyContent": recurring(circleType=3, circleValue=[32])},
         "StrategyContent.circleValue values must be integers 1-31"),
        ({"StrategyType": 2, "StrategyContent": recurring(circleType=4)},
         "StrategyContent.circleType must be one of"),
        ({"StrategyType": 2, "StrategyContent": recurring(startTime=None)},
         "StrategyContent.startTime is required"),
        ({"StrategyType": 2, "StrategyContent": recurring(endTime=None)},
         "StrategyContent.endTime is required"),
    ]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case", range(11))
@pytest.mark.parametrize("action", list(BUILDERS))
def test_strategy_content_rules(action: str, case: int) -> None:
    changes, message = _strategy_cases()[case]
    body = send(action, BUILDERS[action](**changes))
    assert body["ResultCode"] == "PARAM_ILLEGAL"
    assert message in body["ResultMessage"]


@pytest.mark.django_db
def test_scheduled_and_recurring_pushes_answer_the_scheduled_task_id() -> None:
    fixed = now_ms() + 3_600_000
    content = json.dumps({"fixedTime": fixed})
    task_id = ok(send("PushSimple", simple(StrategyType=1, StrategyContent=content)))
    push = SandboxPush.objects.get(task_id=task_id)
    assert push.status == SandboxPush.Status.SCHEDULED
    assert push.strategy_type == 1
    assert push.strategy_content == {"fixedTime": fixed}
    assert push.fires_at is not None
    assert int(push.fires_at.timestamp()) == fixed // 1000

    weekly = recurring(circleType=2, circleValue=[1, 2, 3, 4, 5, 6, 7], time="23:59:59")
    task_id = ok(send("PushMultiple", multiple(StrategyType=2, StrategyContent=weekly)))
    push = SandboxPush.objects.get(task_id=task_id)
    assert push.status == SandboxPush.Status.SCHEDULED
    assert push.fires_at is not None
    assert push.fires_at > control.simulated_now()


@pytest.mark.django_db
def test_templates_are_rendered_per_target() -> None:
    task_id = ok(send("PushMultiple", multiple(count=2)))
    rows = SandboxMessage.objects.filter(push__task_id=task_id).order_by("msg_key")
    assert [(m.target, m.title, m.body) for m in rows] == [
        ("user1", "Hello N1", "Congratulations N1 on winning 1 yuan"),
        ("user2", "Hello N2", "Congratulations N2 on winning 2 yuan"),
    ]
    task_id = ok(send("PushTemplate", template()))
    row = SandboxMessage.objects.get(push__task_id=task_id)
    assert (row.title, row.body) == (
        "Hello Zhang San",
        "Congratulations Zhang San on winning 200 yuan",
    )


@pytest.mark.django_db
def test_unknown_targets_are_accepted_and_never_arrive() -> None:
    task_id = ok(send("PushSimple", simple(TargetMsgkey=json.dumps({"nobody": "u1"}))))
    row = SandboxMessage.objects.get(push__task_id=task_id)
    assert fate_of(row).arrive_after_s is None
    assert not fate_of(row).reached


@pytest.mark.django_db
def test_sms_fallback_sets_the_sms_delay() -> None:
    sms = {"SmsSignName": "mPaaS", "SmsTemplateCode": "SMS_1", "SmsTemplateParam": '{"code": 1}'}
    task_id = ok(send("PushSimple", simple(SmsStrategy=2, **sms)))
    rows = SandboxMessage.objects.filter(push__task_id=task_id).select_related("push")
    assert all(fate_of(m).sms_after_s == 0.0 for m in rows)


@pytest.mark.django_db
def test_a_broadcast_has_no_rows_but_the_platforms_devices_as_targets() -> None:
    task_id = ok(send("PushBroadcast", broadcast(DeliveryType=2)))
    push = SandboxPush.objects.get(task_id=task_id)
    assert push.target_count == round(5_000 * 0.27)
    assert push.title == "Announcement"
    assert push.body == "This is an announcement"
    assert not push.messages.exists()
    # The same Msgkey again: the first task, nothing new.
    assert ok(send("PushBroadcast", broadcast(DeliveryType=2))) == task_id
    assert SandboxPush.objects.count() == 1


@pytest.mark.django_db
def test_repeated_msgkeys_are_not_delivered_again() -> None:
    first = ok(send("PushMultiple", multiple(count=3)))
    again = ok(send("PushMultiple", multiple(count=3)))
    assert again == first
    assert SandboxPush.objects.count() == 1
    rows = SandboxMessage.objects.filter(app="ONEX570DA89211721:test")
    assert sorted(rows.values_list("msg_key", "attempts")) == [("m1", 2), ("m2", 2), ("m3", 2)]

    # Partly repeated: a new task of only the new msgKeys.
    partial = ok(send("PushMultiple", multiple(count=5)))
    assert partial != first
    assert SandboxPush.objects.get(task_id=partial).target_count == 2
    assert sorted(
        SandboxMessage.objects.filter(push__task_id=partial).values_list("msg_key", flat=True)
    ) == ["m4", "m5"]
    assert SandboxMessage.objects.get(msg_key="m1").attempts == 3
    assert SandboxMessage.objects.count() == 5

    # PushSimple the same way: its msgKeys are TargetMsgkey's values.
    simple_first = ok(send("PushSimple", simple()))
    assert ok(send("PushSimple", simple())) == simple_first
    assert SandboxMessage.objects.get(msg_key="s1").attempts == 2


@pytest.mark.django_db
def test_at_most_100_pending_schedules_per_app() -> None:
    content = json.dumps({"fixedTime": now_ms() + 3_600_000})
    for n in range(mpaas.MAX_PENDING_SCHEDULES):
        params = simple(StrategyType=1, StrategyContent=content)
        params["TargetMsgkey"] = json.dumps({"user1": f"p{n}"})
        ok(send("PushSimple", params))
    refused = send("PushSimple", simple(StrategyType=1, StrategyContent=content))
    assert refused["ResultCode"] == "SCHEDULE_LIMIT"
    # Immediate pushes are not limited; repeating a scheduled call still answers its task.
    ok(send("PushSimple", simple()))
    params = simple(StrategyType=1, StrategyContent=content)
    params["TargetMsgkey"] = json.dumps({"user1": "p0"})
    ok(send("PushSimple", params))
    # Once due ones fire, there is room again.
    control.advance_clock(2 * 3600)
    later = json.dumps({"fixedTime": now_ms() + 3_600_000})
    params = simple(StrategyType=1, StrategyContent=later)
    params["TargetMsgkey"] = json.dumps({"user9": "late"})
    ok(send("PushSimple", params))


def test_the_rule_table_covers_every_push_action() -> None:
    assert {action for action, *_ in RULES} == set(BUILDERS)
