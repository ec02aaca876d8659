"""What the sandbox's EMAS gateway does with accepted pushes: idempotent retries, the
delivery funnel over simulated time, MassPush, schedules and their cancellation, records."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control
from campaigns.sandbox.delivery import fate_of
from campaigns.sandbox.emas import IDEMPOTENCY_WINDOW
from campaigns.sandbox.registry import emas_device_id
from tests.campaigns.sandbox.test_emas_rules import APP_KEY, Ahead, call, valid_push

pytestmark = pytest.mark.django_db

FUNNEL_KEYS = ("AcceptCount", "SentCount", "ReceivedCount", "OpenedCount", "DeletedCount")


def devices(count: int, first: int = 0) -> str:
    return ",".join(emas_device_id(n) for n in range(first, first + count))


def push(**changes: Any) -> str:
    status, body = call("Push", valid_push(**changes))
    assert status == 200, body
    message_id: str = body["MessageId"]
    return message_id


def stats(message_id: str) -> dict[str, Any]:
    status, body = call("QueryPushStatByMsg", {"AppKey": APP_KEY, "MessageId": message_id})
    assert status == 200, body
    (stat,) = body["PushStats"]["PushStat"]
    return dict(stat)


def test_message_ids_are_increasing_numbers() -> None:
    first, second = push(), push()
    assert first.isdigit()
    assert int(second) > int(first)


def test_a_repeated_idempotent_token_returns_the_first_message_and_sends_nothing() -> None:
    token = str(uuid.uuid4())
    first = push(TargetValue=devices(3), IdempotentToken=token)
    again = push(TargetValue=devices(3), IdempotentToken=token.upper(), Title="Retry")

    assert again == first
    assert SandboxPush.objects.count() == 1
    assert SandboxMessage.objects.count() == 3
    assert SandboxPush.objects.get().idempotency_key == token


def test_an_idempotent_token_starts_a_new_push_after_fifteen_minutes() -> None:
    token = str(uuid.uuid4())
    first = push(IdempotentToken=token)
    control.advance_clock(IDEMPOTENCY_WINDOW.total_seconds() - 60)
    assert push(IdempotentToken=token) == first
    control.advance_clock(120)
    assert push(IdempotentToken=token) != first
    assert SandboxPush.objects.count() == 2


def test_the_funnel_unfolds_over_simulated_time_and_stays_ordered() -> None:
    unknown = ",".join(f"ghost{n}" for n in range(5))
    message_id = push(TargetValue=f"{devices(195)},{unknown}", StoreOffline=True)
    seen = []
    for step in (0, 1, 5, 60, 600, 3600, 6 * 3600, 72 * 3600):
        control.advance_clock(step)
        stat = stats(message_id)
        assert stat["MessageId"] == message_id
        assert stat["OpenedCount"] <= stat["ReceivedCount"] <= stat["SentCount"]
        assert stat["SentCount"] <= stat["AcceptCount"]
        seen.append(stat)

    assert {(stat["AcceptCount"], stat["SentCount"]) for stat in seen} == {(200, 195)}
    received = [stat["ReceivedCount"] for stat in seen]
    opened = [stat["OpenedCount"] for stat in seen]
    assert received == sorted(received)
    assert opened == sorted(opened)
    assert received[0] < received[-1]
    assert 0 < opened[-1] < received[-1]


def test_a_message_not_stored_offline_reaches_only_online_devices() -> None:
    stored = push(PushType="MESSAGE", TargetValue=devices(200), StoreOffline=True)
    online_only = push(PushType="MESSAGE", TargetValue=devices(200))
    control.advance_clock(72 * 3600)
    assert stats(online_only)["ReceivedCount"] < stats(stored)["ReceivedCount"]


def test_sms_fallback_goes_to_the_unreached_after_its_delay() -> None:
    message_id = push(
        TargetValue=f"{devices(50)},ghost1",
        SmsTemplateName="T1",
        SmsSignName="Shop",
        SmsDelaySecs=60,
    )
    assert stats(message_id)["SmsSentCount"] == 0
    control.advance_clock(61)
    stat = stats(message_id)
    assert stat["SmsFailedCount"] == 1  # the unknown target has no phone
    assert stat["SmsSentCount"] + stat["SmsSkipCount"] + stat["SmsFailedCount"] == 51


def test_the_not_opened_policy_also_texts_those_who_received_but_did_not_open() -> None:
    sms = {"SmsTemplateName": "T1", "SmsSignName": "Shop", "SmsDelaySecs": 3600}
    unreceived = push(TargetValue=devices(200), SmsSendPolicy=0, **sms)
    unopened = push(TargetValue=devices(200), SmsSendPolicy=1, **sms)
    control.advance_clock(3601)
    texted_unreceived = stats(unreceived)["SmsSentCount"]
    texted_unopened = stats(unopened)["SmsSentCount"]
    opened = stats(unopened)["OpenedCount"]
    # Everyone who had not opened it by the delay gets the SMS: far more than the unreached.
    assert texted_unopened >= 200 - opened
    assert texted_unopened > 1.5 * texted_unreceived > 0


def test_a_push_to_all_devices_of_a_type_counts_them_without_a_row_each() -> None:
    message_id = push(Target="ALL", TargetValue="ALL", DeviceType="iOS", Title=None)
    control.advance_clock(24 * 3600)
    stat = stats(message_id)

    assert not SandboxMessage.objects.exists()
    assert 1000 < stat["AcceptCount"] < 1800  # about 27% of 5,000 devices are iPhones
    assert stat["SentCount"] == stat["AcceptCount"]
    assert 0 < stat["OpenedCount"] < stat["ReceivedCount"] <= stat["SentCount"]


def test_changing_the_seed_later_does_not_rewrite_a_push_s_results() -> None:
    message_id = push(Target="TAG", TargetValue="tag3", DeviceType="ALL")
    control.advance_clock(24 * 3600)
    before = stats(message_id)
    control.update(seed=12345)
    assert stats(message_id) == before


def test_a_tag_push_reaches_about_a_fifth_of_the_devices() -> None:
    message_id = push(Target="TAG", TargetValue="tag3", DeviceType="ALL")
    assert 800 < stats(message_id)["AcceptCount"] < 1200
    assert (
        stats(push(Target="TAG", TargetValue="no-such-tag", DeviceType="ALL"))["AcceptCount"] == 0
    )


def test_mass_push_sends_each_task_as_its_own_message() -> None:
    status, body = call(
        "MassPush",
        {
            "AppKey": APP_KEY,
            **{
                f"PushTask.{n}.{name}": value
                for n in (1, 2, 3)
                for name, value in valid_push(
                    AppKey=None, TargetValue=devices(2, first=10 * n), Title=f"Hello {n}"
                ).items()
            },
        },
    )
    assert status == 200, body
    ids = body["MessageIds"]["MessageId"]
    assert len(ids) == 3
    assert ids == sorted(ids, key=int)
    pushes = SandboxPush.objects.order_by("pk")
    assert [p.title for p in pushes] == ["Hello 1", "Hello 2", "Hello 3"]
    assert {p.action for p in pushes} == {"MassPush"}
    assert set(SandboxMessage.objects.values_list("msg_key", flat=True)) == {
        f"{message_id}:{emas_device_id(10 * n + k)}"
        for n, message_id in zip((1, 2, 3), ids, strict=True)
        for k in (0, 1)
    }


def mass(tasks: list[dict[str, Any]], **top: Any) -> tuple[int, dict[str, Any]]:
    params = {"AppKey": APP_KEY, **top}
    for n, task in enumerate(tasks, start=1):
        params.update({f"PushTask.{n}.{name}": value for name, value in task.items()})
    return call("MassPush", params)


def test_mass_push_names_the_task_of_a_violation_and_sends_none() -> None:
    status, body = mass([valid_push(AppKey=None), valid_push(AppKey=None, Title=None)])
    assert (status, body["Code"]) == (400, "InvalidTitle.Empty")
    assert body["Message"] == "The specified PushTask.2.Title cannot be empty."
    assert not SandboxPush.objects.exists()


@pytest.mark.parametrize("target", ["TAG", "ALL"])
def test_mass_push_refuses_tag_and_all_targets(target: str) -> None:
    status, body = mass([valid_push(AppKey=None, Target=target, TargetValue="ALL")])
    assert (status, body["Code"]) == (400, "TargetNotSupported")
    assert body["Message"] == "Target is not supported for batch push."


def test_mass_push_takes_at_most_a_hundred_tasks() -> None:
    status, body = mass([valid_push(AppKey=None)] * 101)
    assert (status, body["Code"]) == (400, "InvalidPushTask.LengthExceed")
    assert mass([])[1]["Code"] == "InvalidPushTask.Empty"


def test_mass_push_repeated_token_returns_the_first_message_ids() -> None:
    token = str(uuid.uuid4())
    tasks = [valid_push(AppKey=None, TargetValue=devices(1, n)) for n in range(3)]
    first = mass(tasks, IdempotentToken=token)[1]["MessageIds"]
    assert mass(tasks, IdempotentToken=token)[1]["MessageIds"] == first
    assert SandboxMessage.objects.count() == 3


def test_a_scheduled_push_waits_for_its_time_and_can_be_cancelled() -> None:
    message_id = push(TargetValue=devices(20), PushTime=Ahead(timedelta(hours=1)))
    scheduled = SandboxPush.objects.get(task_id=message_id)
    assert scheduled.status == SandboxPush.Status.SCHEDULED
    assert stats(message_id)["AcceptCount"] == 20
    assert stats(message_id)["SentCount"] == 0

    status, body = call("CancelPush", {"AppKey": APP_KEY, "MessageId": message_id})
    assert status == 200, body
    assert set(body) == {"RequestId"}
    control.advance_clock(2 * 3600)
    assert SandboxPush.objects.get(task_id=message_id).status == SandboxPush.Status.CANCELLED
    assert stats(message_id)["ReceivedCount"] == 0


def test_a_scheduled_push_fires_when_its_time_has_passed() -> None:
    message_id = push(TargetValue=devices(20), PushTime=Ahead(timedelta(minutes=30)))
    control.advance_clock(3600)
    stat = stats(message_id)
    assert stat["SentCount"] == 20
    assert stat["ReceivedCount"] > 0
    assert SandboxPush.objects.get(task_id=message_id).status == SandboxPush.Status.SENT

    status, body = call("CancelPush", {"AppKey": APP_KEY, "MessageId": message_id})
    assert (status, body["Code"]) == (400, "Invalid.Parameter")


def test_cancel_push_refuses_unknown_and_immediate_messages() -> None:
    assert (
        call("CancelPush", {"AppKey": APP_KEY, "MessageId": "42"})[1]["Code"] == "Invalid.Parameter"
    )
    assert (
        call("CancelPush", {"AppKey": APP_KEY, "MessageId": push()})[1]["Code"]
        == "Invalid.Parameter"
    )
    assert (
        call("CancelPush", {"AppKey": APP_KEY, "MessageId": "x"})[1]["Code"]
        == "InvalidMessageId.Format"
    )


def test_stats_of_an_unknown_message_are_empty() -> None:
    status, body = call("QueryPushStatByMsg", {"AppKey": APP_KEY, "MessageId": "42"})
    assert status == 200
    assert body["PushStats"] == {"PushStat": []}


def records(**params: Any) -> tuple[int, dict[str, Any]]:
    window = {
        "StartTime": Ahead(timedelta(hours=-1)),
        "EndTime": Ahead(timedelta(hours=2)),
    }
    return call("QueryPushRecords", {"AppKey": APP_KEY, **window, **params})


def test_push_records_list_pushes_newest_first_with_paging_and_filters() -> None:
    older = push(Title="Spring sale")
    newer = push(Title="Summer sale", PushType="MESSAGE")
    later = push(Title="Autumn sale", PushTime=Ahead(timedelta(hours=1)))

    status, body = records()
    assert status == 200, body
    assert body["Total"] == 3
    assert (body["Page"], body["PageSize"]) == (1, 20)
    listed = body["PushInfos"]["PushInfo"]
    assert [info["MessageId"] for info in listed] == [later, newer, older]
    assert listed[0]["Status"] == "SCHEDULED"
    assert listed[2] == {
        "AppKey": APP_KEY,
        "MessageId": older,
        "PushTime": listed[2]["PushTime"],
        "PushType": "NOTICE",
        "DeviceType": "ANDROID",
        "Target": "DEVICE",
        "Title": "Spring sale",
        "Body": "Everything 20% off",
        "Source": "API",
        "Status": "SENT",
    }
    page_two = records(Page=2, PageSize=1)[1]["PushInfos"]["PushInfo"]
    assert [info["MessageId"] for info in page_two] == [newer]
    assert records(PushType="MESSAGE")[1]["Total"] == 1
    assert records(Keyword="summer")[1]["Total"] == 1
    assert records(Keyword=older)[1]["Total"] == 1
    assert records(Source="CONSOLE")[1]["Total"] == 0


def test_push_records_refuse_a_period_over_seven_days() -> None:
    status, body = records(StartTime=Ahead(timedelta(days=-8)))
    assert (status, body["Code"]) == (400, "InvalidPeriod.ExceedDays")
    assert body["Message"] == "The period between specified EndTime and StartTime exceeds 7 days."
    assert records(EndTime=None)[1]["Code"] == "InvalidEndTime.Empty"
    assert records(PageSize=101)[1]["Code"] == "Invalid.Parameter"


def test_only_devices_of_the_push_s_device_type_receive_it() -> None:
    from campaigns.sandbox.registry import device

    message_id = push(TargetValue=devices(200), DeviceType="iOS", StoreOffline="True")
    control.advance_clock(72 * 3600)
    iphones = sum(device(0, n).platform == "ios" for n in range(200))
    received = stats(message_id)["ReceivedCount"]
    assert 0 < received <= iphones < 200
    on_android = [
        m
        for m in SandboxMessage.objects.select_related("push")
        if device(0, int(m.target, 16)).platform != "ios"
    ]
    assert on_android
    assert all(fate_of(m).arrive_after_s is None for m in on_android)
