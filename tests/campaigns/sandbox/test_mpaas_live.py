"""The official mPaaS SDK against a running sandbox: every action answers, and the seed
rules are refused with their ResultCode, through the real wire format and signature."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

import pytest

from campaigns.models import SandboxMessage, SandboxPush
from tests.campaigns.sandbox.conftest import RunningSandbox, sdk_config

client_module: Any = importlib.import_module("alibabacloud_mpaas20201028.client")
models: Any = importlib.import_module("alibabacloud_mpaas20201028.models")

APP = {"app_id": "ONEX570DA89211721", "workspace_id": "test"}
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(sandbox_server: RunningSandbox) -> Any:
    return client_module.Client(sdk_config(sandbox_server))


def now_ms() -> int:
    return int(time.time() * 1000)


def _simple(**changes: Any) -> Any:
    fields = {
        **APP,
        "task_name": "sdk simple",
        "title": "Hello",
        "content": "World",
        "delivery_type": 3,
        "target_msgkey": json.dumps({"user1": "sdk-s1"}),
        "expired_seconds": 300,
        "notify_level": {"oppo": "2"},
        "third_channel_category": {"hms": "9", "vivo": "1"},
        **changes,
    }
    return models.PushSimpleRequest(**fields)


def _multiple(count: int = 2, **changes: Any) -> Any:
    targets = [
        models.PushMultipleRequestTargetMsg(
            target=f"user{n}",
            msg_key=f"sdk-m{n}",
            template_key_value=json.dumps({"name": f"N{n}", "money": "200"}),
        )
        for n in range(1, count + 1)
    ]
    fields = {
        **APP,
        "task_name": "sdk multiple",
        "template_name": "Test template",
        "delivery_type": 3,
        "expired_seconds": 600,
        "target_msg": targets,
        **changes,
    }
    return models.PushMultipleRequest(**fields)


def test_every_push_action_through_the_sdk(client: Any) -> None:
    simple = client.push_simple(_simple()).body
    assert (simple.result_code, simple.push_result.success) == ("OK", True)
    template = client.push_template(
        models.PushTemplateRequest(
            **APP,
            task_name="sdk template",
            template_name="Test template",
            template_key_value=json.dumps({"name": "Zhang San", "money": "200"}),
            delivery_type=3,
            target_msgkey=json.dumps({"user2": "sdk-t1"}),
            expired_seconds=300,
        )
    ).body
    assert template.result_code == "OK"
    multiple = client.push_multiple(_multiple()).body
    assert multiple.result_code == "OK"
    rendered = SandboxMessage.objects.get(msg_key="sdk-m2")
    assert rendered.body == "Congratulations N2 on winning 200 yuan"
    broadcast = client.push_broadcast(
        models.PushBroadcastRequest(
            **APP,
            task_name="sdk broadcast",
            template_name="broadcastTemplate",
            template_key_value=json.dumps({"content": "This is an announcement"}),
            delivery_type=1,
            msgkey=str(now_ms()),
            expired_seconds=600,
            push_status=0,
            bind_period=4,
        )
    ).body
    assert broadcast.result_code == "OK"
    task_ids = {r.push_result.data for r in (simple, template, multiple, broadcast)}
    assert set(SandboxPush.objects.values_list("task_id", flat=True)) == task_ids


def test_schedules_stats_revoke_and_templates_through_the_sdk(client: Any) -> None:
    fixed = (now_ms() // 1000 + 3600) * 1000  # accurate to the second, as the seeds ask
    content = json.dumps({"fixedTime": fixed})
    scheduled = client.push_multiple(_multiple(strategy_type=1, strategy_content=content)).body
    unique_id = scheduled.push_result.data
    listing = client.query_push_scheduler_list(
        models.QueryPushSchedulerListRequest(
            **APP, start_time=0, end_time=fixed + 1000, page_number=1, page_size=10
        )
    ).body
    rows = listing.result_content.data.list
    assert listing.result_content.data.total_count == 1
    assert (rows[0].unique_id, rows[0].type, rows[0].push_time) == (unique_id, 2, fixed)
    cancel = client.cancel_push_scheduler(
        models.CancelPushSchedulerRequest(**APP, unique_ids=unique_id, type=0)
    ).body
    assert cancel.result_code == "OK"

    task_id = client.push_simple(_simple()).body.push_result.data
    stats = client.query_push_analysis_task_detail(
        models.QueryPushAnalysisTaskDetailRequest(**APP, task_id=task_id)
    ).body
    assert stats.result_content.data.push_num == 1
    index = client.query_push_analysis_core_index(
        models.QueryPushAnalysisCoreIndexRequest(
            **APP, start_time=0, end_time=now_ms() + 60_000, task_id=task_id
        )
    ).body
    assert index.result_content.data.push_total_num == 1
    listed = client.query_push_analysis_task_list(
        models.QueryPushAnalysisTaskListRequest(**APP, page_number=1, page_size=10)
    ).body
    assert task_id in [row.task_id for row in listed.result_content.data]
    revoke = client.revoke_push_message(
        models.RevokePushMessageRequest(**APP, message_id="sdk-s1", target_id="user1")
    ).body
    assert revoke.result_code == "OK"
    revoke_task = client.revoke_push_task(models.RevokePushTaskRequest(**APP, task_id=task_id)).body
    assert revoke_task.result_code == "OK"

    created = client.create_template(
        models.CreateTemplateRequest(
            **APP, template_name="sdk", title="Hi #name#", content="Hello #name#"
        )
    ).body
    assert created.success is True
    got = client.get_template(models.GetTemplateRequest(**APP, template_name="sdk")).body
    assert got.data.variables == "name"
    page = client.list_template_page(
        models.ListTemplatePageRequest(**APP, current_page=1, page_size=50)
    ).body
    assert "sdk" in [row.name for row in page.data]
    deleted = client.delete_template(models.DeleteTemplateRequest(**APP, template_id=created.data))
    assert deleted.body.success is True


SDK_RULES: list[tuple[str, dict[str, Any], str]] = [
    ("simple", {"workspace_id": "prod"}, "APP_NOT_EXIST"),
    ("simple", {"delivery_type": 9}, "PARAM_ILLEGAL"),
    ("simple", {"expired_seconds": None}, "PARAM_ILLEGAL"),
    ("simple", {"notify_level": {"oppo": "7"}}, "PARAM_ILLEGAL"),
    ("simple", {"sms_strategy": 1}, "PARAM_ILLEGAL"),
    ("simple", {"strategy_type": 1, "strategy_content": '{"fixedTime": 1630303126000}'},
     "PARAM_ILLEGAL"),
    ("simple", {"target_msgkey": json.dumps({f"u{n}": str(n) for n in range(11)})},
     "TARGET_OVER_LIMIT"),
    ("simple", {"target_msgkey": json.dumps({"a": "k", "b": "k"})}, "MSGKEY_DUPLICATE"),
    ("multiple", {"template_name": "missing"}, "TEMPLATE_NOT_EXIST"),
    ("multiple", {"delivery_type": 7}, "PARAM_ILLEGAL"),
    ("multiple101", {}, "TARGET_OVER_LIMIT"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "changes", "code"), SDK_RULES)
def test_seed_rules_through_the_sdk(
    client: Any, kind: str, changes: dict[str, Any], code: str
) -> None:
    if kind == "simple":
        body = client.push_simple(_simple(**changes)).body
    elif kind == "multiple":
        body = client.push_multiple(_multiple(**changes)).body
    else:
        body = client.push_multiple(_multiple(count=101)).body
    assert body.result_code == code
    assert body.push_result.success is False
    assert body.result_message.startswith("param is invalid") or code.endswith("NOT_EXIST")
