"""For the same logical input, MpaasClient sends what the official mPaaS SDK sends: the same
action, version, parameter names and values. Expectations come from the SDK's request,
captured in the same run."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.providers.base import SignatureVersion
from campaigns.providers.mpaas import MpaasClient, TemplateDraft
from campaigns.providers.mpaas_options import (
    CircleType,
    MpaasApp,
    SmsFallback,
    SmsStrategy,
    Strategy,
    StrategyType,
    VendorOptions,
    VivoClassification,
)
from campaigns.providers.mpaas_push import (
    AndroidChannel,
    DeliveryType,
    NotifyType,
    Period,
    PushAction,
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
from tests.campaigns.providers.conftest import (
    CapturedRequest,
    CaptureServer,
    our_account,
    sdk_config,
)

pytestmark = pytest.mark.conformance

APP = MpaasApp(app_id="ONEX570DA89211721", workspace_id="test", tenant_id="tenant-42")
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
VENDOR = VendorOptions(
    classification=VivoClassification.OPERATIONAL,
    third_channel_category={"hms": "9", "vivo": "1"},
    notify_level={"oppo": "2"},
    mi_channel_id="123321",
)
SMS = SmsFallback(
    strategy=SmsStrategy.CONCURRENT,
    sign_name="mPaaS 测试",
    template_code="SMS_216070269",
    template_params={"code": 123456},
)
SCHEDULED = Strategy(type=StrategyType.SCHEDULED, fixed_time=TOMORROW)
RECURRING = Strategy(
    type=StrategyType.RECURRING,
    start=TOMORROW,
    end=TOMORROW + timedelta(days=30),
    circle_type=CircleType.WEEKLY,
    circle_values=(1, 3),
    time="09:45:00",
)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


SCHEDULED_CONTENT = compact({"fixedTime": ms(TOMORROW)})
RECURRING_CONTENT = compact(
    {
        "startTime": ms(TOMORROW),
        "endTime": ms(TOMORROW + timedelta(days=30)),
        "circleType": 2,
        "circleValue": [1, 3],
        "time": "09:45:00",
    }
)
SDK_VENDOR: dict[str, Any] = {
    "classification": "0",
    "third_channel_category": {"hms": "9", "vivo": "1"},
    "notify_level": {"oppo": "2"},
    "mi_channel_id": "123321",
}
SDK_APP = {"app_id": APP.app_id, "workspace_id": APP.workspace_id, "tenant_id": APP.tenant_id}


def sdk_models() -> Any:
    """The official SDK's request models (imported by name: the SDK ships no type hints)."""
    return importlib.import_module("alibabacloud_mpaas20201028.models")


def sdk_client(server: CaptureServer, version: SignatureVersion = SignatureVersion.V3) -> Any:
    client_module: Any = importlib.import_module("alibabacloud_mpaas20201028.client")
    return client_module.Client(sdk_config(server, version))


def ours(server: CaptureServer, version: SignatureVersion = SignatureVersion.V3) -> MpaasClient:
    return MpaasClient(our_account(server, version))


def both(
    server: CaptureServer,
    sdk_call: Callable[[Any], object],
    our_call: Callable[[MpaasClient], object],
    version: SignatureVersion = SignatureVersion.V3,
) -> tuple[CapturedRequest, CapturedRequest]:
    sdk_call(sdk_client(server, version))
    theirs = server.last()
    our_call(ours(server, version))
    return theirs, server.last()


def assert_same_call(theirs: CapturedRequest, mine: CapturedRequest) -> None:
    assert mine.headers["x-acs-action"] == theirs.headers["x-acs-action"]
    assert mine.headers["x-acs-version"] == theirs.headers["x-acs-version"]
    assert mine.params == theirs.params


def test_push_simple_with_vendor_maps_sms_and_a_schedule_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    push = PushSimple(
        task_name="Spring sale 春季促销",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        targets=(Target("user1024", "1578807462788"), Target("user2048", "1578807462789")),
        title="50% off & free shipping",
        content="Hello, ~tilde *star* +plus",
        push_style=PushStyle.BIG_PICTURE,
        image_urls={"defaultUrl": "https://example.com/a.png"},
        icon_urls={"defaultUrl": "https://example.com/i.png"},
        uri="https://example.com/sale?a=1&b=2",
        push_action=PushAction.OPEN_URL,
        silent=False,
        notify_type=NotifyType.NOTIFY,
        extended_params={"key1": "value1"},
        strategy=SCHEDULED,
        vendor=VENDOR,
        sms=SMS,
    )
    request = models.PushSimpleRequest(
        **SDK_APP,
        **SDK_VENDOR,
        task_name=push.task_name,
        delivery_type=3,
        expired_seconds=300,
        target_msgkey=compact({"user1024": "1578807462788", "user2048": "1578807462789"}),
        title=push.title,
        content=push.content,
        push_style=2,
        image_urls=compact({"defaultUrl": "https://example.com/a.png"}),
        icon_urls=compact({"defaultUrl": "https://example.com/i.png"}),
        uri=push.uri,
        push_action=0,
        silent=0,
        notify_type="notify",
        extended_params=compact({"key1": "value1"}),
        strategy_type=1,
        strategy_content=SCHEDULED_CONTENT,
        sms_strategy=2,
        sms_sign_name="mPaaS 测试",
        sms_template_code="SMS_216070269",
        sms_template_param=compact({"code": 123456}),
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_simple(request),
        lambda client: client.push_simple(APP, push),
    )
    assert_same_call(theirs, mine)
    assert mine.params["ThirdChannelCategory"] == '{"hms":"9","vivo":"1"}'


def test_push_template_with_vendor_maps_sms_and_a_recurring_schedule_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    push = PushTemplate(
        task_name="Template test",
        delivery_type=DeliveryType.ANDROID,
        expired_seconds=600,
        targets=(Target("device-1", "k1"),),
        template_name="Test template",
        template_values={"name": "张三", "money": "200"},
        placeholders=("name", "#money#"),
        strategy=RECURRING,
        vendor=VENDOR,
        sms=SMS,
    )
    request = models.PushTemplateRequest(
        **SDK_APP,
        **SDK_VENDOR,
        task_name="Template test",
        delivery_type=1,
        expired_seconds=600,
        target_msgkey=compact({"device-1": "k1"}),
        template_name="Test template",
        template_key_value=compact({"name": "张三", "money": "200"}),
        strategy_type=2,
        strategy_content=RECURRING_CONTENT,
        sms_strategy=2,
        sms_sign_name="mPaaS 测试",
        sms_template_code="SMS_216070269",
        sms_template_param=compact({"code": 123456}),
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_template(request),
        lambda client: client.push_template(APP, push),
    )
    assert_same_call(theirs, mine)


def test_push_multiple_with_vendor_maps_and_a_schedule_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    push = PushMultiple(
        task_name="Multiple test",
        delivery_type=DeliveryType.USER,
        expired_seconds=600,
        template_name="Test template",
        placeholders=("name",),
        target_msgs=(
            TargetMessage("userid1024", "m1", {"name": "张三", "money": "200"}, {"k": "v"}),
            TargetMessage("userid2048", "m2", {"name": "Li"}),
        ),
        extended_params={"campaign": "spring"},
        strategy=SCHEDULED,
        vendor=VENDOR,
    )
    request = models.PushMultipleRequest(
        **SDK_APP,
        **SDK_VENDOR,
        task_name="Multiple test",
        delivery_type=3,
        expired_seconds=600,
        template_name="Test template",
        target_msg=[
            models.PushMultipleRequestTargetMsg(
                target="userid1024",
                msg_key="m1",
                template_key_value=compact({"name": "张三", "money": "200"}),
                extended_params=compact({"k": "v"}),
            ),
            models.PushMultipleRequestTargetMsg(
                target="userid2048", msg_key="m2", template_key_value=compact({"name": "Li"})
            ),
        ],
        extended_params=compact({"campaign": "spring"}),
        strategy_type=1,
        strategy_content=SCHEDULED_CONTENT,
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_multiple(request),
        lambda client: client.push_multiple(APP, push),
    )
    assert_same_call(theirs, mine)
    assert mine.params["TargetMsg.2.Target"] == "userid2048"


def test_push_broadcast_with_vendor_maps_and_a_recurring_schedule_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    push = PushBroadcast(
        task_name="Broadcast test task",
        delivery_type=DeliveryType.HARMONYOS,
        expired_seconds=300,
        msg_key="1578807462788",
        template_name="Broadcast template",
        template_values={"content": "Announcement"},
        push_status=PushStatus.UNBOUND,
        time_mode=TimeMode.DAYS,
        unbind_period=Period.WITHIN_15_DAYS,
        android_channel=AndroidChannel.DEFAULT,
        strategy=RECURRING,
        vendor=VENDOR,
    )
    request = models.PushBroadcastRequest(
        **SDK_APP,
        **SDK_VENDOR,
        task_name="Broadcast test task",
        delivery_type=7,
        expired_seconds=300,
        msgkey="1578807462788",
        template_name="Broadcast template",
        template_key_value=compact({"content": "Announcement"}),
        push_status=2,
        time_mode=0,
        un_bind_period=2,
        android_channel=2,
        strategy_type=2,
        strategy_content=RECURRING_CONTENT,
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_broadcast(request),
        lambda client: client.push_broadcast(APP, push),
    )
    assert_same_call(theirs, mine)


def test_push_broadcast_with_a_bind_time_range_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    start = datetime(2025, 5, 9, tzinfo=UTC)
    end = start + timedelta(days=1) - timedelta(milliseconds=1)
    push = PushBroadcast(
        task_name="Range",
        delivery_type=DeliveryType.ANDROID,
        expired_seconds=300,
        msg_key="b1",
        template_name="Broadcast template",
        time_mode=TimeMode.RANGE,
        bind_start=start,
        bind_end=end,
    )
    request = models.PushBroadcastRequest(
        **SDK_APP,
        task_name="Range",
        delivery_type=1,
        expired_seconds=300,
        msgkey="b1",
        template_name="Broadcast template",
        push_status=0,
        time_mode=1,
        bind_start_time=ms(start),
        bind_end_time=ms(end),
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_broadcast(request),
        lambda client: client.push_broadcast(APP, push),
    )
    assert_same_call(theirs, mine)


def test_query_push_analysis_task_detail_matches_the_sdk(capture_server: CaptureServer) -> None:
    models = sdk_models()

    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.query_push_analysis_task_detail(
            models.QueryPushAnalysisTaskDetailRequest(**SDK_APP, task_id="903bf653")
        ),
        lambda client: client.task_stats(APP, "903bf653"),
    )
    assert_same_call(theirs, mine)


def test_query_push_analysis_task_list_and_core_index_match_the_sdk(
    capture_server: CaptureServer,
) -> None:
    models = sdk_models()

    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 31, tzinfo=UTC)
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.query_push_analysis_task_list(
            models.QueryPushAnalysisTaskListRequest(
                **SDK_APP, start_time=ms(start), task_name="Spring", page_number=2, page_size=50
            )
        ),
        lambda client: client.task_list(
            APP, start=start, task_name="Spring", page_number=2, page_size=50
        ),
    )
    assert_same_call(theirs, mine)
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.query_push_analysis_core_index(
            models.QueryPushAnalysisCoreIndexRequest(
                **SDK_APP,
                start_time=ms(start),
                end_time=ms(end),
                task_id="t1",
                platform="ANDROID",
                channel="ALL",
                type="TASK",
            )
        ),
        lambda client: client.core_index(
            APP,
            start=start,
            end=end,
            task_id="t1",
            platform="ANDROID",
            channel="ALL",
            index_type="TASK",
        ),
    )
    assert_same_call(theirs, mine)


def test_query_and_cancel_push_schedulers_match_the_sdk(capture_server: CaptureServer) -> None:
    models = sdk_models()

    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 3, 1, tzinfo=UTC)
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.query_push_scheduler_list(
            models.QueryPushSchedulerListRequest(
                **SDK_APP,
                start_time=ms(start),
                end_time=ms(end),
                type=1,
                unique_id="u1",
                page_number=1,
                page_size=20,
            )
        ),
        lambda client: client.schedules(
            APP, start=start, end=end, strategy_type=StrategyType.SCHEDULED, unique_id="u1"
        ),
    )
    assert_same_call(theirs, mine)
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.cancel_push_scheduler(
            models.CancelPushSchedulerRequest(**SDK_APP, unique_ids="u1,u2", type=2)
        ),
        lambda client: client.cancel_schedules(
            APP, ["u1", "u2"], strategy_type=StrategyType.RECURRING
        ),
    )
    assert_same_call(theirs, mine)


def test_revoke_push_message_and_task_match_the_sdk(capture_server: CaptureServer) -> None:
    models = sdk_models()

    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.revoke_push_message(
            models.RevokePushMessageRequest(**SDK_APP, message_id="m1", target_id="user1024")
        ),
        lambda client: client.revoke_message(APP, "m1", "user1024"),
    )
    assert_same_call(theirs, mine)
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.revoke_push_task(models.RevokePushTaskRequest(**SDK_APP, task_id="t9")),
        lambda client: client.revoke_task(APP, "t9"),
    )
    assert_same_call(theirs, mine)


def test_template_store_calls_match_the_sdk(capture_server: CaptureServer) -> None:
    models = sdk_models()

    draft = TemplateDraft(
        name="Welcome",
        title="Hi #name#",
        content="Welcome, #name#! You won #money#.",
        description="onboarding",
        push_style=PushStyle.BIG_TEXT,
        jump_action=0,
        uri="https://example.com",
        variables=("name", "money"),
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.create_template(
            models.CreateTemplateRequest(
                **SDK_APP,
                template_name="Welcome",
                title="Hi #name#",
                content="Welcome, #name#! You won #money#.",
                desc_info="onboarding",
                push_style=1,
                jump_action=0,
                uri="https://example.com",
                variables="name,money",
            )
        ),
        lambda client: client.create_template(APP, draft),
    )
    assert_same_call(theirs, mine)
    for sdk_call, our_call in (
        (
            lambda sdk: sdk.get_template(models.GetTemplateRequest(**SDK_APP, template_name="W")),
            lambda client: client.get_template(APP, name="W"),
        ),
        (
            lambda sdk: sdk.list_template_page(
                models.ListTemplatePageRequest(**SDK_APP, current_page=3, page_size=10)
            ),
            lambda client: client.list_templates(APP, current_page=3, page_size=10),
        ),
        (
            lambda sdk: sdk.delete_template(
                models.DeleteTemplateRequest(**SDK_APP, template_id="42")
            ),
            lambda client: client.delete_template(APP, template_id="42"),
        ),
    ):
        theirs, mine = both(capture_server, sdk_call, our_call)
        assert_same_call(theirs, mine)


def test_a_v1_signed_push_carries_the_sdks_parameters(capture_server: CaptureServer) -> None:
    models = sdk_models()

    push = PushSimple(
        task_name="V1 任务",
        delivery_type=DeliveryType.USER,
        expired_seconds=300,
        targets=(Target("user1024", "k1"),),
        title="Title & more",
        content="Content ~ *",
        strategy=SCHEDULED,
        vendor=VENDOR,
    )
    request = models.PushSimpleRequest(
        **SDK_APP,
        **SDK_VENDOR,
        task_name="V1 任务",
        delivery_type=3,
        expired_seconds=300,
        target_msgkey=compact({"user1024": "k1"}),
        title="Title & more",
        content="Content ~ *",
        push_style=0,
        strategy_type=1,
        strategy_content=SCHEDULED_CONTENT,
    )
    theirs, mine = both(
        capture_server,
        lambda sdk: sdk.push_simple(request),
        lambda client: client.push_simple(APP, push),
        SignatureVersion.V1,
    )
    assert theirs.query["SignatureMethod"] == mine.query["SignatureMethod"] == "HMAC-SHA1"
    varying = {"Timestamp", "SignatureNonce", "Signature"}

    def stable(sent: CapturedRequest) -> dict[str, str]:
        return {name: value for name, value in sent.params.items() if name not in varying}

    assert stable(mine) == stable(theirs)
    assert mine.form == theirs.form
