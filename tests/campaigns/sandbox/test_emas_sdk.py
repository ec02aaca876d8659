"""The official EMAS SDK (alibabacloud_push20160801) against the running sandbox: every action
succeeds on a valid request, and each seed rule comes back as the SDK's ClientException."""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta
from typing import Any

import pytest

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox import control
from campaigns.sandbox.registry import emas_device_id
from tests.campaigns.sandbox.conftest import RunningSandbox, sdk_config
from tests.campaigns.sandbox.test_emas_rules import APP_KEY, RULES, Ahead, resolved, valid_push

pytestmark = pytest.mark.django_db(transaction=True)

models: Any = importlib.import_module("alibabacloud_push20160801.models")
exceptions: Any = importlib.import_module("alibabacloud_tea_openapi.exceptions")


@pytest.fixture
def sdk(sandbox_server: RunningSandbox) -> Any:
    client_module: Any = importlib.import_module("alibabacloud_push20160801.client")
    return client_module.Client(sdk_config(sandbox_server))


def push_request(params: dict[str, Any]) -> Any:
    """A PushRequest from wire names, values as the SDK's typed fields take them."""
    return models.PushRequest().from_map(resolved(params, control.simulated_now()))


def test_push_returns_a_message_id(sdk: Any) -> None:
    body = sdk.push(push_request(valid_push(StoreOffline=True, AndroidBadgeAddNum=2))).body
    assert body.message_id.isdigit()
    assert body.request_id
    stored = SandboxPush.objects.get(task_id=body.message_id)
    assert stored.params["StoreOffline"] == "True"


def test_push_rule_violations_raise_client_exception_with_the_seed_code(sdk: Any) -> None:
    # One running sandbox for the whole table: the dict comparison names each case that fails.
    def raised(params: dict[str, Any]) -> tuple[int, str] | None:
        try:
            sdk.push(push_request(params))
        except exceptions.ClientException as error:
            return error.status_code, error.code
        return None

    answers = {case: raised(params) for case, params, _ in RULES}
    assert answers == {case: (400, code) for case, _, code in RULES}
    assert not SandboxPush.objects.exists()


def test_a_retried_token_returns_the_first_message_once(sdk: Any) -> None:
    token = str(uuid.uuid4())
    request = push_request(
        valid_push(TargetValue=",".join(map(emas_device_id, range(4))), IdempotentToken=token)
    )
    first = sdk.push(request).body.message_id
    assert sdk.push(request).body.message_id == first
    assert SandboxMessage.objects.count() == 4


def test_mass_push_returns_the_message_ids_in_the_sdk_shape(sdk: Any) -> None:
    tasks = [
        models.MassPushRequestPushTask().from_map(
            valid_push(AppKey=None, TargetValue=emas_device_id(n), Title=f"Task {n}")
        )
        for n in range(3)
    ]
    body = sdk.mass_push(models.MassPushRequest(app_key=APP_KEY, push_task=tasks)).body
    assert len(body.message_ids.message_id) == 3
    assert [p.title for p in SandboxPush.objects.order_by("pk")] == ["Task 0", "Task 1", "Task 2"]

    tasks[1].title = None
    with pytest.raises(exceptions.ClientException) as raised:
        sdk.mass_push(models.MassPushRequest(app_key=APP_KEY, push_task=tasks))
    assert raised.value.code == "InvalidTitle.Empty"
    assert "PushTask.2.Title" in raised.value.message


def test_stats_records_and_cancel_of_a_scheduled_push(sdk: Any) -> None:
    request = push_request(valid_push(PushTime=Ahead(timedelta(hours=1))))
    message_id = sdk.push(request).body.message_id

    stat_request = models.QueryPushStatByMsgRequest(app_key=APP_KEY, message_id=int(message_id))
    (stat,) = sdk.query_push_stat_by_msg(stat_request).body.push_stats.push_stat
    assert (stat.message_id, stat.accept_count, stat.sent_count) == (message_id, 1, 0)

    now = control.simulated_now()
    records = sdk.query_push_records(
        models.QueryPushRecordsRequest(
            app_key=APP_KEY,
            start_time=Ahead(timedelta(hours=-1)).at(now),
            end_time=Ahead(timedelta(hours=2)).at(now),
            page_size=10,
        )
    ).body
    assert records.total == 1
    assert records.push_infos.push_info[0].message_id == message_id
    assert records.push_infos.push_info[0].status == "SCHEDULED"

    cancel = models.CancelPushRequest(app_key=APP_KEY, message_id=int(message_id))
    assert sdk.cancel_push(cancel).body.request_id
    assert SandboxPush.objects.get(task_id=message_id).status == SandboxPush.Status.CANCELLED


def test_cancelling_a_sent_push_raises_invalid_parameter(sdk: Any) -> None:
    message_id = sdk.push(push_request(valid_push())).body.message_id
    with pytest.raises(exceptions.ClientException) as raised:
        sdk.cancel_push(models.CancelPushRequest(app_key=APP_KEY, message_id=int(message_id)))
    assert raised.value.code == "Invalid.Parameter"
