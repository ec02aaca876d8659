"""The sandbox's mPaaS schedules, revocations, statistics and template store."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control, mpaas_stats
from campaigns.sandbox.delivery import fate_of
from tests.campaigns.sandbox.test_mpaas_rules import (
    APP,
    DAY_MS,
    broadcast,
    multiple,
    now_ms,
    ok,
    send,
    simple,
)

WINDOW = {"StartTime": 0, "EndTime": 4_102_444_800_000}  # up to 2100


def detail(task_id: str) -> dict[str, Any]:
    body = send("QueryPushAnalysisTaskDetail", {**APP, "TaskId": task_id})
    assert body["ResultCode"] == "OK", body
    data: dict[str, Any] = body["ResultContent"]["Data"]
    return data


def core(**filters: Any) -> dict[str, Any]:
    body = send("QueryPushAnalysisCoreIndex", {**APP, **WINDOW, **filters})
    assert body["ResultCode"] == "OK", body
    data: dict[str, Any] = body["ResultContent"]["Data"]
    return data


@pytest.mark.django_db
def test_a_100_target_funnel_grows_with_simulated_time_and_never_exceeds_what_was_sent() -> None:
    task_id = ok(send("PushMultiple", multiple(count=100)))
    previous = (0, 0, 0)
    for step in (0, 1, 5, 60, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600):
        control.advance_clock(step)
        numbers = detail(task_id)
        index = core(TaskId=task_id)
        assert numbers["PushNum"] == 100
        assert numbers["PushSuccessNum"] == 100
        assert index["PushTotalNum"] == 100
        assert index["ArrivalNum"] == numbers["PushArrivalNum"]
        current = (index["ArrivalNum"], index["OpenNum"], index["IgnoreNum"])
        assert all(now >= before for now, before in zip(current, previous, strict=True))
        assert index["OpenNum"] + index["IgnoreNum"] <= index["ArrivalNum"] <= 100
        previous = current
    assert 0 < previous[0] <= 100  # arrived
    assert previous[1] > 0  # opened
    assert index["ArrivalRate"] == round(index["ArrivalNum"] / 100, 4)


@pytest.mark.django_db
def test_a_broadcast_funnel_is_derived_from_the_rates() -> None:
    task_id = ok(send("PushBroadcast", broadcast(DeliveryType=1)))
    first = core(TaskId=task_id)
    assert first["PushTotalNum"] == round(5_000 * 0.65)
    control.advance_clock(8 * 3600)
    later = core(TaskId=task_id)
    assert first["ArrivalNum"] <= later["ArrivalNum"] <= later["PushTotalNum"]
    assert later["OpenNum"] > 0
    assert core(TaskId=task_id, Platform="ios")["PushTotalNum"] == 0


@pytest.mark.django_db
def test_task_list_and_unknown_task() -> None:
    task_id = ok(send("PushSimple", simple(TaskName="spring sale")))
    body = send("QueryPushAnalysisTaskList", {**APP, "TaskName": "spring"})
    rows = body["ResultContent"]["Data"]
    assert [(r["TaskId"], r["TaskName"], r["Type"]) for r in rows] == [(task_id, "spring sale", 0)]
    missing = send("QueryPushAnalysisTaskDetail", {**APP, "TaskId": "nope"})
    assert missing["ResultCode"] == "TASK_NOT_EXIST"
    assert "ResultContent" not in missing


@pytest.mark.django_db
def test_scheduler_list_cancel_and_firing() -> None:
    hour = 3_600_000
    ids = []
    for n in range(3):
        params = simple(StrategyType=1, StrategyContent=json.dumps({"fixedTime": now_ms() + hour}))
        params["TargetMsgkey"] = json.dumps({"user1": f"sch{n}"})
        ids.append(ok(send("PushSimple", params)))
    listing = send("QueryPushSchedulerList", {**APP, **WINDOW, "PageSize": 2})
    data = listing["ResultContent"]["Data"]
    assert data["TotalCount"] == 3
    assert len(data["List"]) == 2
    assert data["List"][0]["ExecutedStatus"] == "0"
    assert data["List"][0]["StrategyType"] == 1
    page2 = send("QueryPushSchedulerList", {**APP, **WINDOW, "PageSize": 2, "PageNumber": 2})
    assert len(page2["ResultContent"]["Data"]["List"]) == 1
    # Nothing is sent before it fires.
    assert detail(ids[0])["PushNum"] == 0

    cancelled = send("CancelPushScheduler", {**APP, "UniqueIds": f"{ids[0]},{ids[1]}"})
    assert cancelled["ResultCode"] == "OK"
    assert SandboxPush.objects.get(task_id=ids[0]).status == SandboxPush.Status.CANCELLED
    again = send("CancelPushScheduler", {**APP, "UniqueIds": ids[0]})
    assert again["ResultCode"] == "TASK_STATUS_ILLEGAL"
    unknown = send("CancelPushScheduler", {**APP, "UniqueIds": "nope"})
    assert unknown["ResultCode"] == "TASK_NOT_EXIST"
    listing = send("QueryPushSchedulerList", {**APP, **WINDOW, "UniqueId": ids[2]})
    assert listing["ResultContent"]["Data"]["TotalCount"] == 1

    control.advance_clock(2 * 3600)
    assert detail(ids[2])["PushNum"] == 1
    assert SandboxPush.objects.get(task_id=ids[2]).status == SandboxPush.Status.SENT
    assert detail(ids[0])["PushNum"] == 0  # cancelled: never sent
    missing = send("QueryPushSchedulerList", {**APP, "StartTime": 0})
    assert missing["ResultCode"] == "PARAM_ILLEGAL"


def daily_at_noon(days: int) -> str:
    """A daily recurring StrategyContent from today for ``days`` more days, at 12:00."""
    return json.dumps(
        {
            "startTime": now_ms(),
            "endTime": now_ms() + days * DAY_MS,
            "circleType": 1,
            "time": "12:00:00",
        }
    )


def noons(after: datetime, days: int) -> list[datetime]:
    """The gateway's 12:00s (Asia/Shanghai) after ``after``, up to ``days`` days later."""
    zone = ZoneInfo("Asia/Shanghai")
    first = after.astimezone(zone).date()
    times = (datetime.combine(first + timedelta(days=n), time(12), zone) for n in range(days + 1))
    return [moment for moment in times if moment > after]


@pytest.mark.django_db
def test_a_recurring_push_is_sent_at_each_of_its_times() -> None:
    accepted = control.simulated_now()
    task_id = ok(
        send("PushMultiple", multiple(count=3, StrategyType=2, StrategyContent=daily_at_noon(3)))
    )
    assert detail(task_id)["PushNum"] == 0  # nothing before its first time

    control.advance_clock(5 * 86_400)  # past the end of the schedule
    times = noons(accepted, 3)
    listing = send("QueryPushSchedulerList", {**APP, **WINDOW})["ResultContent"]["Data"]
    occurrences = [row for row in listing["List"] if row["UniqueId"] != task_id]
    assert [row["PushTime"] for row in occurrences] == [int(n.timestamp() * 1000) for n in times]
    assert {row["ParentId"] for row in occurrences} == {task_id}
    assert {row["ExecutedStatus"] for row in occurrences} == {"1"}
    assert SandboxPush.objects.get(task_id=task_id).status == SandboxPush.Status.FINISHED

    # Every occurrence delivers each target once, under its own msgKeys.
    keys = sorted(
        SandboxMessage.objects.exclude(push__task_id=task_id).values_list("msg_key", flat=True)
    )
    days = [noon.strftime("%Y%m%d") for noon in times]
    assert keys == sorted(f"m{n}@{day}" for n in (1, 2, 3) for day in days)
    per_occurrence = [detail(row["UniqueId"])["PushNum"] for row in occurrences]
    assert per_occurrence == [3] * len(times)
    assert core(TaskId=task_id)["PushTotalNum"] == 0  # the schedule itself sends nothing
    assert detail(task_id)["PushNum"] == 3 * len(times)


@pytest.mark.django_db
def test_cancelling_a_recurring_push_stops_the_times_still_to_come() -> None:
    accepted = control.simulated_now()
    task_id = ok(send("PushSimple", simple(StrategyType=2, StrategyContent=daily_at_noon(5))))
    first = noons(accepted, 5)[0]
    control.advance_clock((first - accepted).total_seconds() + 60)
    assert detail(task_id)["PushNum"] == 2  # two targets, once
    assert send("CancelPushScheduler", {**APP, "UniqueIds": task_id})["ResultCode"] == "OK"
    control.advance_clock(7 * 86_400)
    assert detail(task_id)["PushNum"] == 2
    assert SandboxPush.objects.filter(parent__task_id=task_id).count() == 1


@pytest.mark.django_db
def test_revoking_a_task_freezes_its_funnel() -> None:
    task_id = ok(send("PushMultiple", multiple(count=100, ExpiredSeconds=86_400)))
    control.advance_clock(10)
    at_revoke = core(TaskId=task_id)
    body = send("RevokePushTask", {**APP, "TaskId": task_id})
    assert body["ResultCode"] == "OK"
    assert body["PushResult"]["Data"] == task_id
    assert SandboxPush.objects.get(task_id=task_id).status == SandboxPush.Status.REVOKED
    control.advance_clock(12 * 3600)
    assert core(TaskId=task_id)["ArrivalNum"] == at_revoke["ArrivalNum"]
    assert send("RevokePushTask", {**APP, "TaskId": task_id})["ResultCode"] == "OK"
    assert send("RevokePushTask", {**APP, "TaskId": "nope"})["ResultCode"] == "TASK_NOT_EXIST"


@pytest.mark.django_db
def test_revoking_a_message_and_the_window() -> None:
    ok(send("PushMultiple", multiple(count=2, ExpiredSeconds=86_400)))
    body = send("RevokePushMessage", {**APP, "MessageId": "m1", "TargetId": "user1"})
    assert body["ResultCode"] == "OK"
    arrive_after_s = fate_of(SandboxMessage.objects.get(msg_key="m1")).arrive_after_s
    assert arrive_after_s is None or arrive_after_s <= 1
    wrong = send("RevokePushMessage", {**APP, "MessageId": "m1", "TargetId": "user2"})
    assert wrong["ResultCode"] == "MESSAGE_NOT_EXIST"
    control.advance_clock(mpaas_stats.REVOKE_WINDOW_S + 60)
    late = send("RevokePushMessage", {**APP, "MessageId": "m2", "TargetId": "user2"})
    assert late["ResultCode"] == "REVOKE_EXPIRED"


@pytest.mark.django_db
def test_a_scheduled_task_cannot_be_revoked() -> None:
    content = json.dumps({"fixedTime": now_ms() + 3_600_000})
    task_id = ok(send("PushSimple", simple(StrategyType=1, StrategyContent=content)))
    body = send("RevokePushTask", {**APP, "TaskId": task_id})
    assert body["ResultCode"] == "TASK_STATUS_ILLEGAL"


@pytest.mark.django_db
def test_template_store() -> None:
    created = send(
        "CreateTemplate",
        {**APP, "TemplateName": "welcome", "Title": "Hi #name#", "Content": "Welcome, #name#"},
    )
    assert created["Success"] is True
    template_id = created["Data"]
    got = send("GetTemplate", {**APP, "TemplateId": template_id})
    assert got["Data"]["Name"] == "welcome"
    assert got["Data"]["Variables"] == "name"
    dup = send("CreateTemplate", {**APP, "TemplateName": "welcome", "Title": "x", "Content": "y"})
    assert (dup["Success"], dup["Code"]) == (False, "TEMPLATE_EXIST")
    comma = send("CreateTemplate", {**APP, "TemplateName": "a,b", "Title": "x", "Content": "y"})
    assert comma["Code"] == "PARAM_ILLEGAL"
    page = send("ListTemplatePage", {**APP, "PageSize": 3})
    assert page["TotalSize"] == 7
    assert len(page["Data"]) == 3
    assert send("DeleteTemplate", {**APP, "TemplateName": "welcome"})["Success"] is True
    assert send("GetTemplate", {**APP, "TemplateName": "welcome"})["Code"] == "TEMPLATE_NOT_EXIST"
