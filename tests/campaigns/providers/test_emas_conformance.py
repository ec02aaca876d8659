"""For the same logical input, EmasClient sends what the official EMAS SDK sends: the same
action, version, parameter names and values. Every expectation is the SDK's own request,
captured in the same run on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.providers import signing
from campaigns.providers.base import SignatureVersion
from campaigns.providers.emas import (
    EmasApp,
    EmasClient,
    EmasPush,
    RecordPushType,
    RecordSource,
    RecordTarget,
    build_push,
)
from campaigns.providers.emas_android import (
    AndroidNotifyType,
    AndroidOpenType,
    AndroidOptions,
    AndroidPopup,
    AndroidRenderStyle,
    AndroidStyle,
    AndroidVendors,
    Audience,
    HuaweiBusinessType,
    HuaweiUrgency,
    Importance,
    MeizuNoticeMsgType,
    OppoNotifyLevel,
    VendorCategory,
    VivoClassification,
)
from campaigns.providers.emas_options import (
    ApnsEnv,
    DeviceType,
    HarmonyActionType,
    HarmonyCategory,
    HarmonyOptions,
    HarmonyRenderStyle,
    HarmonySlotType,
    InterruptionLevel,
    IosOptions,
    LiveActivity,
    LiveActivityEvent,
    PushType,
    SendChannel,
    SmsFallback,
    SmsSendPolicy,
    Target,
)
from tests.campaigns.providers.conftest import (
    EMAS_OK,
    CapturedRequest,
    CaptureServer,
    our_account,
    sdk_config,
)

pytestmark = pytest.mark.conformance

APP = EmasApp(23267207)
NOW = datetime.now(UTC).replace(microsecond=0)
TOKEN = "c8016d13-6e76-410c-9bda-769383d11787"


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def sdk(server: CaptureServer, version: SignatureVersion = SignatureVersion.V3) -> Any:
    from alibabacloud_push20160801.client import Client

    return Client(sdk_config(server, version))


def ours(server: CaptureServer, version: SignatureVersion = SignatureVersion.V3) -> EmasClient:
    return EmasClient(our_account(server, version))


def both_send(
    server: CaptureServer, sdk_call: Callable[[], object], our_call: Callable[[], object]
) -> tuple[CapturedRequest, CapturedRequest]:
    sdk_call()
    theirs = server.last()
    our_call()
    return theirs, server.last()


def assert_same_call(theirs: CapturedRequest, mine: CapturedRequest) -> None:
    for header in ("x-acs-action", "x-acs-version"):
        assert mine.headers[header] == theirs.headers[header]
    assert mine.params == theirs.params


def test_an_ios_push_with_apns_badge_and_live_activity_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import PushRequest

    capture_server.reply = dict(EMAS_OK)
    dismissal, stale = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    push = EmasPush(
        PushType.NOTICE,
        DeviceType.IOS,
        Target.DEVICE,
        ("device-1", "device-2"),
        title="Spring sale 春季促销",
        body="50% off & free shipping ~ today",
        ios=IosOptions(
            apns_env=ApnsEnv.PRODUCT,
            remind=True,
            remind_body="You have a new offer",
            subtitle="Only today",
            music="",
            badge=3,
            silent_notification=False,
            mutable_content=True,
            notification_category="offers",
            notification_collapse_id="ZD2011",
            notification_thread_id="sale",
            interruption_level=InterruptionLevel.TIME_SENSITIVE,
            relevance_score=0.5,
            ext_parameters={"attachment": "https://example.com/pic.png"},
            live_activity=LiveActivity(
                LiveActivityEvent.START,
                activity_id="66B94673-B32E-4CA7-863C-3E523054FD46",
                attributes_type="OrderActivityAttributes",
                attributes={"orderId": "12345", "product": "Shoes"},
                content_state={"status": "shipped"},
                dismissal_date=dismissal,
                stale_date=stale,
            ),
        ),
    )
    request = PushRequest(
        app_key=APP.app_key,
        push_type="NOTICE",
        device_type="iOS",
        target="DEVICE",
        target_value="device-1,device-2",
        title="Spring sale 春季促销",
        body="50% off & free shipping ~ today",
        i_osapns_env="PRODUCT",
        i_osremind=True,
        i_osremind_body="You have a new offer",
        i_ossubtitle="Only today",
        i_osmusic="",
        i_osbadge=3,
        i_ossilent_notification=False,
        i_osmutable_content=True,
        i_osnotification_category="offers",
        i_osnotification_collapse_id="ZD2011",
        i_osnotification_thread_id="sale",
        i_osinterruption_level="time-sensitive",
        i_osrelevance_score=0.5,
        i_osext_parameters='{"attachment":"https://example.com/pic.png"}',
        i_oslive_activity_event="start",
        i_oslive_activity_id="66B94673-B32E-4CA7-863C-3E523054FD46",
        i_oslive_activity_attributes_type="OrderActivityAttributes",
        i_oslive_activity_attributes='{"orderId":"12345","product":"Shoes"}',
        i_oslive_activity_content_state='{"status":"shipped"}',
        i_oslive_activity_dismissal_date=int(dismissal.timestamp()),
        i_oslive_activity_stale_date=int(stale.timestamp()),
    )
    client = ours(capture_server)
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).push(request),
        lambda: client.push(APP, push, now=NOW),
    )
    assert_same_call(theirs, mine)
    assert mine.query == theirs.query  # EMAS parameters travel in the query string
    assert mine.params["iOSMutableContent"] == "True"


def test_an_android_push_with_vendor_channels_popup_big_text_and_sms_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import PushRequest

    capture_server.reply = dict(EMAS_OK)
    push = EmasPush(
        PushType.NOTICE,
        DeviceType.ANDROID,
        Target.ACCOUNT,
        ("alice", "bob"),
        title="新品上市",
        body="Hello #name#, +plus *star*",
        store_offline=True,
        android=AndroidOptions(
            notify_type=AndroidNotifyType.BOTH,
            open_type=AndroidOpenType.ACTIVITY,
            activity="com.example.MainActivity",
            remind=False,
            popup=AndroidPopup("com.example.PopupActivity", "Popup title", "Popup body"),
            style=AndroidStyle(
                render_style=AndroidRenderStyle.BIG_TEXT,
                big_title="长标题",
                big_body="A long text " * 10,
                image_url="https://example.com/icon.png",
            ),
            notification_channel="marketing",
            notification_bar_type=2,
            notification_bar_priority=-1,
            notify_id=100001,
            notification_thread_id="thread-1",
            ext_parameters={"key1": "value1"},
            music="alicloud_notification_sound",
            badge_add_num=1,
            badge_class="com.example.MainActivity",
            target_user_type=Audience.FORMAL,
            vendors=AndroidVendors(
                huawei_importance=Importance.NORMAL,
                huawei_urgency=HuaweiUrgency.HIGH,
                huawei_category="MARKETING",
                huawei_target_user_type=Audience.TEST,
                huawei_business_type=HuaweiBusinessType.STANDARD,
                huawei_receipt_id="RCP4C123456",
                honor_importance=Importance.LOW,
                honor_target_user_type=Audience.FORMAL,
                xiaomi_channel="michannel",
                vivo_classification=VivoClassification.SYSTEM,
                vivo_category=VendorCategory.ORDER,
                vivo_push_mode=Audience.TEST,
                vivo_receipt_id="123",
                oppo_category=VendorCategory.MARKETING,
                oppo_notify_level=OppoNotifyLevel.BAR_LOCK_SCREEN_SOUND,
                oppo_private_msg_template_id="687557242b1634hzefs3d5013",
                oppo_private_title_parameters={"name": "Li"},
                oppo_private_content_parameters={"item": "鞋"},
                meizu_notice_msg_type=MeizuNoticeMsgType.PRIVATE,
            ),
        ),
        sms=SmsFallback(
            "SMS_123",
            "Pushdeck",
            SmsSendPolicy.NOT_OPENED,
            delay=timedelta(minutes=15),
            params={"code": "1234", "name": "Li"},
        ),
    )
    request = PushRequest(
        app_key=APP.app_key,
        push_type="NOTICE",
        device_type="ANDROID",
        target="ACCOUNT",
        target_value="alice,bob",
        title="新品上市",
        body="Hello #name#, +plus *star*",
        store_offline=True,
        android_notify_type="BOTH",
        android_open_type="ACTIVITY",
        android_activity="com.example.MainActivity",
        android_remind=False,
        android_popup_activity="com.example.PopupActivity",
        android_popup_title="Popup title",
        android_popup_body="Popup body",
        android_render_style=1,
        android_big_title="长标题",
        android_big_body="A long text " * 10,
        android_image_url="https://example.com/icon.png",
        android_notification_channel="marketing",
        android_notification_bar_type=2,
        android_notification_bar_priority=-1,
        android_notification_notify_id=100001,
        android_notification_thread_id="thread-1",
        android_ext_parameters='{"key1":"value1"}',
        android_music="alicloud_notification_sound",
        android_badge_add_num=1,
        android_badge_class="com.example.MainActivity",
        android_target_user_type=0,
        android_notification_huawei_channel="NORMAL",
        android_message_huawei_urgency="HIGH",
        android_message_huawei_category="MARKETING",
        android_huawei_target_user_type=1,
        android_huawei_business_type=0,
        android_huawei_receipt_id="RCP4C123456",
        android_notification_honor_channel="LOW",
        android_honor_target_user_type=0,
        android_notification_xiaomi_channel="michannel",
        android_notification_vivo_channel="1",
        android_message_vivo_category="ORDER",
        android_vivo_push_mode=1,
        android_vivo_receipt_id="123",
        android_message_oppo_category="MARKETING",
        android_message_oppo_notify_level=2,
        android_oppo_private_msg_template_id="687557242b1634hzefs3d5013",
        android_oppo_private_title_parameters={"name": "Li"},
        android_oppo_private_content_parameters={"item": "鞋"},
        android_meizu_notice_msg_type=1,
        sms_template_name="SMS_123",
        sms_sign_name="Pushdeck",
        sms_send_policy=1,
        sms_delay_secs=900,
        sms_params="code=1234&name=Li",
    )
    client = ours(capture_server)
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).push(request),
        lambda: client.push(APP, push, now=NOW),
    )
    assert_same_call(theirs, mine)
    assert mine.params["StoreOffline"] == "True"


def test_a_harmonyos_push_matches_the_sdk(capture_server: CaptureServer) -> None:
    from alibabacloud_push20160801.models import PushRequest

    capture_server.reply = dict(EMAS_OK)
    push = EmasPush(
        PushType.NOTICE,
        DeviceType.HARMONY,
        Target.TAG,
        ('{"and":[{"tag":"vip"},{"not":{"tag":"muted"}}]}',),
        title="Order shipped",
        body="Your order is on its way",
        harmony=HarmonyOptions(
            remind=True,
            remind_title="新消息",
            remind_body="您有一条新消息",
            category=HarmonyCategory.EXPRESS,
            notification_slot_type=HarmonySlotType.SERVICE_INFORMATION,
            notify_id=7,
            action_type=HarmonyActionType.APP_CUSTOM_PAGE,
            action="com.example.action",
            uri="https://www.example.com:8080/push/example",
            render_style=HarmonyRenderStyle.MULTI_LINE,
            image_url="https://example.com/x.png",
            inbox_content=("1.content1", "2.content2"),
            ext_parameters={"key1": "value1"},
            test_message=True,
            receipt_id="RCPB1DFD5",
            extension_push=False,
            extension_extra_data="extra",
            badge_add_num=1,
            badge_set_num=2,
            live_view_payload={"activityId": 1, "operation": 0},
        ),
    )
    request = PushRequest(
        app_key=APP.app_key,
        push_type="NOTICE",
        device_type="HARMONY",
        target="TAG",
        target_value='{"and":[{"tag":"vip"},{"not":{"tag":"muted"}}]}',
        title="Order shipped",
        body="Your order is on its way",
        harmony_remind=True,
        harmony_remind_title="新消息",
        harmony_remind_body="您有一条新消息",
        harmony_category="EXPRESS",
        harmony_notification_slot_type="SERVICE_INFORMATION",
        harmony_notify_id=7,
        harmony_action_type="APP_CUSTOM_PAGE",
        harmony_action="com.example.action",
        harmony_uri="https://www.example.com:8080/push/example",
        harmony_render_style="MULTI_LINE",
        harmony_image_url="https://example.com/x.png",
        harmony_inbox_content='["1.content1","2.content2"]',
        harmony_ext_parameters='{"key1":"value1"}',
        harmony_test_message=True,
        harmony_receipt_id="RCPB1DFD5",
        harmony_extension_push=False,
        harmony_extension_extra_data="extra",
        harmony_badge_add_num=1,
        harmony_badge_set_num=2,
        harmony_live_view_payload='{"activityId":1,"operation":0}',
    )
    client = ours(capture_server)
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).push(request),
        lambda: client.push(APP, push, now=NOW),
    )
    assert_same_call(theirs, mine)


def test_a_scheduled_push_with_expiry_job_key_and_idempotent_token_matches_the_sdk(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import PushRequest

    capture_server.reply = dict(EMAS_OK)
    push_time, expire_time = NOW + timedelta(days=2), NOW + timedelta(days=3)
    push = EmasPush(
        PushType.MESSAGE,
        DeviceType.ALL,
        Target.ALIAS,
        ("alias-1",),
        title="Reminder",
        body="See you tomorrow",
        store_offline=True,
        push_time=push_time,
        expire_time=expire_time,
        job_key="spring_sale-2025",
        send_channels=(SendChannel.ACCS, SendChannel.HUAWEI, SendChannel.APNS),
        trim=False,
        idempotent_token=TOKEN,
    )
    request = PushRequest(
        app_key=APP.app_key,
        push_type="MESSAGE",
        device_type="ALL",
        target="ALIAS",
        target_value="alias-1",
        title="Reminder",
        body="See you tomorrow",
        store_offline=True,
        push_time=iso(push_time),
        expire_time=iso(expire_time),
        job_key="spring_sale-2025",
        send_channels="accs,huawei,apns",
        trim=False,
        idempotent_token=TOKEN,
    )
    client = ours(capture_server)
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).push(request),
        lambda: client.push(APP, push, now=NOW),
    )
    assert_same_call(theirs, mine)
    assert mine.params["Trim"] == "False"


def test_a_mass_push_of_two_tasks_matches_the_sdk(capture_server: CaptureServer) -> None:
    from alibabacloud_push20160801.models import MassPushRequest, MassPushRequestPushTask

    capture_server.reply = {
        "RequestId": "159E4422-6624-4750-8943-DFD98D34858C",
        "MessageIds": {"MessageId": ["501030", "501031"]},
    }
    pushes = [
        EmasPush(
            PushType.NOTICE,
            DeviceType.ANDROID,
            Target.DEVICE,
            ("d1", "d2"),
            title="Hi Li",
            body="Your coupon",
            android=AndroidOptions(
                open_type=AndroidOpenType.URL,
                open_url="https://example.com/c?x=1&y=2",
                vendors=AndroidVendors(
                    oppo_private_msg_template_id="tpl",
                    oppo_private_title_parameters={"name": "Li"},
                ),
            ),
        ),
        EmasPush(
            PushType.MESSAGE,
            DeviceType.IOS,
            Target.ACCOUNT,
            ("bob",),
            title="Hi Bob",
            body="Your coupon",
            expire_time=NOW + timedelta(hours=1),
            ios=IosOptions(apns_env=ApnsEnv.DEV, badge_auto_increment=True),
        ),
    ]
    request = MassPushRequest(
        app_key=APP.app_key,
        idempotent_token=TOKEN,
        push_task=[
            MassPushRequestPushTask(
                push_type="NOTICE",
                device_type="ANDROID",
                target="DEVICE",
                target_value="d1,d2",
                title="Hi Li",
                body="Your coupon",
                android_open_type="URL",
                android_open_url="https://example.com/c?x=1&y=2",
                android_oppo_private_msg_template_id="tpl",
                android_oppo_private_title_parameters={"name": "Li"},
            ),
            MassPushRequestPushTask(
                push_type="MESSAGE",
                device_type="iOS",
                target="ACCOUNT",
                target_value="bob",
                title="Hi Bob",
                body="Your coupon",
                expire_time=iso(NOW + timedelta(hours=1)),
                i_osapns_env="DEV",
                i_osbadge_auto_increment=True,
            ),
        ],
    )
    client = ours(capture_server)
    result = []
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).mass_push(request),
        lambda: result.append(client.mass_push(APP, pushes, idempotent_token=TOKEN, now=NOW)),
    )
    assert_same_call(theirs, mine)
    assert result[0].message_ids == ("501030", "501031")


def test_query_push_stat_by_msg_matches_the_sdk_and_parses_as_it_does(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import QueryPushStatByMsgRequest

    capture_server.reply = {
        "RequestId": "9998B3CC-ED9E-4CB3-A8FB-DCC61296BFBC",
        "PushStats": {
            "PushStat": [
                {
                    "MessageId": "501029",
                    "AcceptCount": 100,
                    "SentCount": 99,
                    "ReceivedCount": 98,
                    "OpenedCount": 40,
                    "DeletedCount": 3,
                    "SmsSentCount": 5,
                    "SmsSkipCount": 1,
                    "SmsFailedCount": 2,
                    "SmsReceiveSuccessCount": 4,
                    "SmsReceiveFailedCount": 1,
                }
            ]
        },
    }
    client = ours(capture_server)
    responses: list[Any] = []
    theirs, mine = both_send(
        capture_server,
        lambda: responses.append(
            sdk(capture_server).query_push_stat_by_msg(
                QueryPushStatByMsgRequest(app_key=APP.app_key, message_id=501029)
            )
        ),
        lambda: responses.append(client.query_push_stat_by_msg(APP, "501029")),
    )
    assert_same_call(theirs, mine)
    expected = responses[0].body.push_stats.push_stat[0]
    (stat,) = responses[1].stats
    assert stat.message_id == expected.message_id
    assert (stat.accept_count, stat.sent_count, stat.received_count) == (
        expected.accept_count,
        expected.sent_count,
        expected.received_count,
    )
    assert (stat.opened_count, stat.deleted_count) == (
        expected.opened_count,
        expected.deleted_count,
    )
    assert (stat.sms_sent_count, stat.sms_skip_count, stat.sms_failed_count) == (
        expected.sms_sent_count,
        expected.sms_skip_count,
        expected.sms_failed_count,
    )
    assert (stat.sms_receive_success_count, stat.sms_receive_failed_count) == (
        expected.sms_receive_success_count,
        expected.sms_receive_failed_count,
    )


def test_query_push_records_matches_the_sdk_and_parses_as_it_does(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import QueryPushRecordsRequest

    capture_server.reply = {
        "RequestId": "159E4422-6624-4750-8943-DFD98D34858C",
        "Page": 2,
        "PageSize": 10,
        "Total": 35,
        "PushInfos": {
            "PushInfo": [
                {
                    "MessageId": "501029",
                    "AppKey": APP.app_key,
                    "PushType": "NOTICE",
                    "DeviceType": "ANDROID",
                    "Target": "DEVICE",
                    "Title": "Hi",
                    "Body": "Hello",
                    "PushTime": "2025-03-01T08:00:00Z",
                    "Status": "SENT",
                    "Source": "API",
                }
            ]
        },
    }
    start, end = NOW - timedelta(days=3), NOW
    client = ours(capture_server)
    responses: list[Any] = []
    theirs, mine = both_send(
        capture_server,
        lambda: responses.append(
            sdk(capture_server).query_push_records(
                QueryPushRecordsRequest(
                    app_key=APP.app_key,
                    start_time=iso(start),
                    end_time=iso(end),
                    page=2,
                    page_size=10,
                    push_type="NOTICE",
                    target="DEVICE",
                    source="API",
                    keyword="春季 sale",
                )
            )
        ),
        lambda: responses.append(
            client.query_push_records(
                APP,
                start=start,
                end=end,
                page=2,
                page_size=10,
                push_type=RecordPushType.NOTICE,
                target=RecordTarget.DEVICE,
                source=RecordSource.API,
                keyword="春季 sale",
            )
        ),
    )
    assert_same_call(theirs, mine)
    expected, page = responses[0].body, responses[1]
    assert (page.page, page.page_size, page.total) == (
        expected.page,
        expected.page_size,
        expected.total,
    )
    assert page.next_page == 3
    (record,) = page.records
    sdk_record = expected.push_infos.push_info[0]
    assert (record.message_id, record.status, record.push_time, record.title) == (
        sdk_record.message_id,
        sdk_record.status,
        sdk_record.push_time,
        sdk_record.title,
    )


def test_cancel_push_matches_the_sdk(capture_server: CaptureServer) -> None:
    from alibabacloud_push20160801.models import CancelPushRequest

    capture_server.reply = {"RequestId": "9998B3CC-ED9E-4CB3-A8FB-DCC61296BFBC"}
    client = ours(capture_server)
    theirs, mine = both_send(
        capture_server,
        lambda: sdk(capture_server).cancel_push(
            CancelPushRequest(app_key=APP.app_key, message_id=501029)
        ),
        lambda: client.cancel_push(APP, 501029),
    )
    assert_same_call(theirs, mine)


def test_a_v1_signed_push_has_the_sdks_query_string_signature_included(
    capture_server: CaptureServer,
) -> None:
    from alibabacloud_push20160801.models import PushRequest

    capture_server.reply = dict(EMAS_OK)
    sdk(capture_server, SignatureVersion.V1).push(
        PushRequest(
            app_key=APP.app_key,
            push_type="NOTICE",
            device_type="ANDROID",
            target="DEVICE",
            target_value="d1",
            title="50% off & free shipping",
            body="春季 ~tilde *star* +plus",
            store_offline=False,
            android_open_type="APPLICATION",
        )
    )
    theirs = capture_server.last()
    assert theirs.query["SignatureMethod"] == "HMAC-SHA1"
    push = EmasPush(
        PushType.NOTICE,
        DeviceType.ANDROID,
        Target.DEVICE,
        ("d1",),
        title="50% off & free shipping",
        body="春季 ~tilde *star* +plus",
        store_offline=False,
        android=AndroidOptions(open_type=AndroidOpenType.APPLICATION),
    )
    client = ours(capture_server, SignatureVersion.V1)
    signed = client.signed(
        build_push(APP, push, now=NOW),
        now=datetime.strptime(theirs.query["Timestamp"], signing.TIMESTAMP_FORMAT).replace(
            tzinfo=UTC
        ),
        nonce=theirs.query["SignatureNonce"],
    )
    assert dict(signed.url.params) == theirs.query
    assert signed.content == theirs.body

    client.push(APP, push, now=NOW)  # and unpinned, through the server
    mine = capture_server.last()
    unpinned = {"Timestamp", "SignatureNonce", "Signature"}
    assert {k: v for k, v in mine.params.items() if k not in unpinned} == {
        k: v for k, v in theirs.params.items() if k not in unpinned
    }
