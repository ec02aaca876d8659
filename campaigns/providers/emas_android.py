"""EMAS Mobile Push (API 2016-08-01) Android options of seed 004: alert and open
behaviour, the auxiliary pop-up, render styles, badges and the vendor channels (Huawei,
Honor, Xiaomi, vivo, OPPO, Meizu). Value sets come from the official SDK's model
documentation, the seed having lost its "Valid values:" lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from django.utils.translation import gettext as _

from campaigns.providers.emas_options import JsonList, JsonMap, Rules, WireParams


class AndroidNotifyType(StrEnum):
    VIBRATE = "VIBRATE"
    SOUND = "SOUND"
    BOTH = "BOTH"
    NONE = "NONE"


class AndroidOpenType(StrEnum):
    APPLICATION = "APPLICATION"
    ACTIVITY = "ACTIVITY"
    URL = "URL"
    NONE = "NONE"


class AndroidRenderStyle(IntEnum):
    STANDARD = 0
    BIG_TEXT = 1
    BIG_PICTURE = 2
    INBOX = 3


class Importance(StrEnum):
    """AndroidNotificationHuaweiChannel and AndroidNotificationHonorChannel."""

    LOW = "LOW"  # news and marketing
    NORMAL = "NORMAL"  # service and communication


class HuaweiUrgency(StrEnum):
    HIGH = "HIGH"
    NORMAL = "NORMAL"


class VendorCategory(StrEnum):
    """AndroidMessageOppoCategory and AndroidMessageVivoCategory share these values."""

    IM = "IM"
    ACCOUNT = "ACCOUNT"
    DEVICE_REMINDER = "DEVICE_REMINDER"
    ORDER = "ORDER"
    TODO = "TODO"
    SUBSCRIPTION = "SUBSCRIPTION"
    NEWS = "NEWS"
    CONTENT = "CONTENT"
    MARKETING = "MARKETING"
    SOCIAL = "SOCIAL"


class OppoNotifyLevel(IntEnum):
    BAR = 1
    BAR_LOCK_SCREEN_SOUND = 2
    BAR_LOCK_SCREEN_SOUND_BANNER = 16  # needs OPPO's permission


class VivoClassification(StrEnum):
    """AndroidNotificationVivoChannel (a string on the wire)."""

    OPERATIONAL = "0"
    SYSTEM = "1"


class Audience(IntEnum):
    """The *TargetUserType, AndroidVivoPushMode and AndroidOppoIntentEnv flags."""

    FORMAL = 0
    TEST = 1


class HuaweiBusinessType(IntEnum):
    STANDARD = 0
    QUICK_NOTIFICATION = 1


class MeizuNoticeMsgType(IntEnum):
    PUBLIC = 0
    PRIVATE = 1


# --- Android -------------------------------------------------------------------------------

POPUP_TITLE_MAX_CHARS = 50
POPUP_BODY_MAX_CHARS = 200
BIG_TITLE_MAX_BYTES = 200
BIG_BODY_MAX_BYTES = 1000
INBOX_BODY_MAX_LINES = 5
NOTIFICATION_BAR_TYPE_RANGE = (1, 100)
NOTIFICATION_BAR_PRIORITY_RANGE = (-2, 2)
ANDROID_BADGE_ADD_RANGE = (1, 99)
ANDROID_BADGE_SET_RANGE = (0, 99)


@dataclass(frozen=True)
class AndroidPopup:
    """The auxiliary pop-up: what a vendor channel shows when the device is offline."""

    activity: str | None = None  # AndroidPopupActivity
    title: str | None = None  # AndroidPopupTitle, needed with an activity
    body: str | None = None  # AndroidPopupBody, needed with an activity

    def check(self, rules: Rules) -> None:
        if self.activity:
            needed = _("Needed when the pop-up opens an activity.")
            rules.require(bool(self.title), "AndroidPopupTitle", needed)
            rules.require(bool(self.body), "AndroidPopupBody", needed)
        rules.max_chars("AndroidPopupTitle", self.title, POPUP_TITLE_MAX_CHARS)
        rules.max_chars("AndroidPopupBody", self.body, POPUP_BODY_MAX_CHARS)

    def write(self, params: WireParams) -> None:
        params.put("AndroidPopupActivity", self.activity)
        params.put("AndroidPopupTitle", self.title)
        params.put("AndroidPopupBody", self.body)


@dataclass(frozen=True)
class AndroidStyle:
    render_style: AndroidRenderStyle | None = None  # AndroidRenderStyle
    big_title: str | None = None  # AndroidBigTitle (long text)
    big_body: str | None = None  # AndroidBigBody (long text)
    big_picture_url: str | None = None  # AndroidBigPictureUrl
    image_url: str | None = None  # AndroidImageUrl (right-side icon)
    inbox_body: JsonList | None = None  # AndroidInboxBody (inbox mode)

    def check(self, rules: Rules) -> None:
        rules.one_of("AndroidRenderStyle", self.render_style, AndroidRenderStyle)
        rules.max_bytes("AndroidBigTitle", self.big_title, BIG_TITLE_MAX_BYTES)
        rules.max_bytes("AndroidBigBody", self.big_body, BIG_BODY_MAX_BYTES)
        rules.json_list("AndroidInboxBody", self.inbox_body, INBOX_BODY_MAX_LINES)

    def write(self, params: WireParams) -> None:
        params.put("AndroidRenderStyle", self.render_style)
        params.put("AndroidBigTitle", self.big_title)
        params.put("AndroidBigBody", self.big_body)
        params.put("AndroidBigPictureUrl", self.big_picture_url)
        params.put("AndroidImageUrl", self.image_url)
        params.put("AndroidInboxBody", self.inbox_body)


@dataclass(frozen=True)
class AndroidVendors:
    """Vendor channel settings. The JSON payloads (live notifications, Fluid Cloud, atomic
    and super islands) are passed through: their structures belong to each vendor."""

    huawei_importance: Importance | None = None  # AndroidNotificationHuaweiChannel
    huawei_urgency: HuaweiUrgency | None = None  # AndroidMessageHuaweiUrgency
    huawei_category: str | None = None  # AndroidMessageHuaweiCategory (Huawei's own list)
    huawei_target_user_type: Audience | None = None  # AndroidHuaweiTargetUserType
    huawei_business_type: HuaweiBusinessType | None = None  # AndroidHuaweiBusinessType
    huawei_receipt_id: str | None = None  # AndroidHuaweiReceiptId
    huawei_live_notification_payload: JsonMap | None = None
    honor_importance: Importance | None = None  # AndroidNotificationHonorChannel
    honor_target_user_type: Audience | None = None  # AndroidHonorTargetUserType
    xiaomi_channel: str | None = None  # AndroidNotificationXiaomiChannel (a channelId)
    xiaomi_focus_param: JsonMap | None = None  # AndroidXiaomiFocusParam
    xiaomi_focus_pics: JsonMap | None = None  # AndroidXiaomiFocusPics
    xiaomi_template_id: str | None = None  # AndroidXiaomiTemplateId (SDK, not in the seed)
    xiaomi_template_params: JsonMap | None = None  # AndroidXiaomiTemplateParams (SDK)
    vivo_classification: VivoClassification | None = None  # AndroidNotificationVivoChannel
    vivo_category: VendorCategory | None = None  # AndroidMessageVivoCategory
    vivo_push_mode: Audience | None = None  # AndroidVivoPushMode
    vivo_receipt_id: str | None = None  # AndroidVivoReceiptId
    vivo_live_message: JsonMap | None = None  # AndroidVivoLiveMessage
    oppo_category: VendorCategory | None = None  # AndroidMessageOppoCategory
    oppo_notify_level: OppoNotifyLevel | None = None  # AndroidMessageOppoNotifyLevel
    oppo_intent_env: Audience | None = None  # AndroidOppoIntentEnv
    oppo_intelligent_intent: JsonMap | None = None  # AndroidOppoIntelligentIntent
    oppo_delete_intent_data: JsonMap | None = None  # AndroidOppoDeleteIntentData
    oppo_private_msg_template_id: str | None = None  # AndroidOppoPrivateMsgTemplateId
    oppo_private_title_parameters: Mapping[str, str] | None = None
    oppo_private_content_parameters: Mapping[str, str] | None = None
    meizu_notice_msg_type: MeizuNoticeMsgType | None = None  # AndroidMeizuNoticeMsgType

    def check(self, rules: Rules) -> None:
        rules.one_of("AndroidNotificationHuaweiChannel", self.huawei_importance, Importance)
        rules.one_of("AndroidMessageHuaweiUrgency", self.huawei_urgency, HuaweiUrgency)
        rules.one_of("AndroidHuaweiTargetUserType", self.huawei_target_user_type, Audience)
        rules.one_of("AndroidHuaweiBusinessType", self.huawei_business_type, HuaweiBusinessType)
        rules.one_of("AndroidNotificationHonorChannel", self.honor_importance, Importance)
        rules.one_of("AndroidHonorTargetUserType", self.honor_target_user_type, Audience)
        rules.one_of("AndroidNotificationVivoChannel", self.vivo_classification, VivoClassification)
        rules.one_of("AndroidMessageVivoCategory", self.vivo_category, VendorCategory)
        rules.one_of("AndroidVivoPushMode", self.vivo_push_mode, Audience)
        rules.one_of("AndroidMessageOppoCategory", self.oppo_category, VendorCategory)
        rules.one_of("AndroidMessageOppoNotifyLevel", self.oppo_notify_level, OppoNotifyLevel)
        rules.one_of("AndroidOppoIntentEnv", self.oppo_intent_env, Audience)
        rules.one_of("AndroidMeizuNoticeMsgType", self.meizu_notice_msg_type, MeizuNoticeMsgType)
        if self.oppo_notify_level is not None and self.oppo_category is None:
            rules.fail(
                "AndroidMessageOppoCategory",
                _("Choose the OPPO message category when you set the OPPO alert level."),
            )

    def write(self, params: WireParams) -> None:
        params.put("AndroidNotificationHuaweiChannel", self.huawei_importance)
        params.put("AndroidMessageHuaweiUrgency", self.huawei_urgency)
        params.put("AndroidMessageHuaweiCategory", self.huawei_category)
        params.put("AndroidHuaweiTargetUserType", self.huawei_target_user_type)
        params.put("AndroidHuaweiBusinessType", self.huawei_business_type)
        params.put("AndroidHuaweiReceiptId", self.huawei_receipt_id)
        params.put("AndroidHuaweiLiveNotificationPayload", self.huawei_live_notification_payload)
        params.put("AndroidNotificationHonorChannel", self.honor_importance)
        params.put("AndroidHonorTargetUserType", self.honor_target_user_type)
        params.put("AndroidNotificationXiaomiChannel", self.xiaomi_channel)
        params.put("AndroidXiaomiFocusParam", self.xiaomi_focus_param)
        params.put("AndroidXiaomiFocusPics", self.xiaomi_focus_pics)
        params.put("AndroidXiaomiTemplateId", self.xiaomi_template_id)
        params.put("AndroidXiaomiTemplateParams", self.xiaomi_template_params)
        params.put("AndroidNotificationVivoChannel", self.vivo_classification)
        params.put("AndroidMessageVivoCategory", self.vivo_category)
        params.put("AndroidVivoPushMode", self.vivo_push_mode)
        params.put("AndroidVivoReceiptId", self.vivo_receipt_id)
        params.put("AndroidVivoLiveMessage", self.vivo_live_message)
        params.put("AndroidMessageOppoCategory", self.oppo_category)
        params.put("AndroidMessageOppoNotifyLevel", self.oppo_notify_level)
        params.put("AndroidOppoIntentEnv", self.oppo_intent_env)
        params.put("AndroidOppoIntelligentIntent", self.oppo_intelligent_intent)
        params.put("AndroidOppoDeleteIntentData", self.oppo_delete_intent_data)
        params.put("AndroidOppoPrivateMsgTemplateId", self.oppo_private_msg_template_id)
        params.put_string_map(
            "AndroidOppoPrivateTitleParameters", self.oppo_private_title_parameters
        )
        params.put_string_map(
            "AndroidOppoPrivateContentParameters", self.oppo_private_content_parameters
        )
        params.put("AndroidMeizuNoticeMsgType", self.meizu_notice_msg_type)


@dataclass(frozen=True)
class AndroidOptions:
    notify_type: AndroidNotifyType | None = None  # AndroidNotifyType
    open_type: AndroidOpenType | None = None  # AndroidOpenType
    activity: str | None = None  # AndroidActivity, needed for ACTIVITY
    open_url: str | None = None  # AndroidOpenUrl, needed for URL
    remind: bool | None = None  # AndroidRemind: an offline message becomes a pop-up
    popup: AndroidPopup | None = None
    style: AndroidStyle | None = None
    notification_channel: str | None = None  # AndroidNotificationChannel
    notification_bar_type: int | None = None  # AndroidNotificationBarType
    notification_bar_priority: int | None = None  # AndroidNotificationBarPriority
    notify_id: int | None = None  # AndroidNotificationNotifyId
    notification_group: str | None = None  # AndroidNotificationGroup
    notification_thread_id: str | None = None  # AndroidNotificationThreadId
    ext_parameters: JsonMap | None = None  # AndroidExtParameters
    music: str | None = None  # AndroidMusic (Huawei channel sound)
    badge_add_num: int | None = None  # AndroidBadgeAddNum
    badge_set_num: int | None = None  # AndroidBadgeSetNum
    badge_class: str | None = None  # AndroidBadgeClass
    target_user_type: Audience | None = None  # AndroidTargetUserType
    vendors: AndroidVendors | None = None

    def check(self, rules: Rules) -> None:
        rules.one_of("AndroidNotifyType", self.notify_type, AndroidNotifyType)
        rules.one_of("AndroidOpenType", self.open_type, AndroidOpenType)
        if self.open_type == AndroidOpenType.ACTIVITY:
            rules.require(
                bool(self.activity),
                "AndroidActivity",
                _("Name the activity the notification opens."),
            )
        if self.open_type == AndroidOpenType.URL:
            rules.require(
                bool(self.open_url), "AndroidOpenUrl", _("Give the URL the notification opens.")
            )
        rules.within(
            "AndroidNotificationBarType", self.notification_bar_type, *NOTIFICATION_BAR_TYPE_RANGE
        )
        rules.within(
            "AndroidNotificationBarPriority",
            self.notification_bar_priority,
            *NOTIFICATION_BAR_PRIORITY_RANGE,
        )
        rules.json_map("AndroidExtParameters", self.ext_parameters)
        rules.within("AndroidBadgeAddNum", self.badge_add_num, *ANDROID_BADGE_ADD_RANGE)
        rules.within("AndroidBadgeSetNum", self.badge_set_num, *ANDROID_BADGE_SET_RANGE)
        rules.one_of("AndroidTargetUserType", self.target_user_type, Audience)
        for group in (self.popup, self.style, self.vendors):
            if group is not None:
                group.check(rules)

    def write(self, params: WireParams) -> None:
        params.put("AndroidNotifyType", self.notify_type)
        params.put("AndroidOpenType", self.open_type)
        params.put("AndroidActivity", self.activity)
        params.put("AndroidOpenUrl", self.open_url)
        params.put("AndroidRemind", self.remind)
        params.put("AndroidNotificationChannel", self.notification_channel)
        params.put("AndroidNotificationBarType", self.notification_bar_type)
        params.put("AndroidNotificationBarPriority", self.notification_bar_priority)
        params.put("AndroidNotificationNotifyId", self.notify_id)
        params.put("AndroidNotificationGroup", self.notification_group)
        params.put("AndroidNotificationThreadId", self.notification_thread_id)
        params.put("AndroidExtParameters", self.ext_parameters)
        params.put("AndroidMusic", self.music)
        params.put("AndroidBadgeAddNum", self.badge_add_num)
        params.put("AndroidBadgeSetNum", self.badge_set_num)
        params.put("AndroidBadgeClass", self.badge_class)
        params.put("AndroidTargetUserType", self.target_user_type)
        for group in (self.popup, self.style, self.vendors):
            if group is not None:
                group.write(params)
