"""The composer's provider options: one row per request parameter a marketer may set.

Each ``Option`` says, in words a marketer understands, what one parameter of the seeds does;
which campaign kinds offer it; which section of the composer shows it; what kind of input
it takes; and where its value goes in the provider's input type (``path``, the attribute
path inside ``PushSimple`` … or ``EmasPush``) and on the wire (``wire``). The campaign keeps
the values by ``key``; ``campaign_requests`` puts them on the provider input and the
provider's request builder checks them: no rule is repeated here.

Parameters the campaign sets itself (name, audience, content, template, schedule, message
keys) are not options; they are fields of the composer and of ``Campaign``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from campaigns.providers import emas_android as android
from campaigns.providers import emas_options as emas
from campaigns.providers import mpaas_options as mpaas_opts
from campaigns.providers import mpaas_push as mpaas

Kind = Campaign.Kind


class Input(enum.Enum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    URL = "url"
    INTEGER = "integer"
    NUMBER = "number"
    YES_NO = "yes_no"  # provider default, yes or no
    CHOICE = "choice"  # one member of ``choices``
    CHOICES = "choices"  # several members of ``choices``
    MAP = "map"  # key = value rows
    JSON = "json"  # a JSON object, passed through to a vendor
    LINES = "lines"  # one line of text per row
    DATETIME = "datetime"  # in the campaign's time zone
    SECONDS = "seconds"


class Section(enum.Enum):
    MESSAGE = "message"
    ACTION = "action"
    DELIVERY = "delivery"
    STYLE = "style"
    ANDROID = "android"
    VENDORS = "vendors"
    IOS = "ios"
    HARMONY = "harmony"
    SMS = "sms"
    LIVE_ACTIVITY = "live_activity"
    BROADCAST = "broadcast"


SECTION_TITLES: dict[Section, Promise] = {
    Section.MESSAGE: _("Message type"),
    Section.ACTION: _("When tapped"),
    Section.DELIVERY: _("Delivery"),
    Section.STYLE: _("Look"),
    Section.ANDROID: _("Android"),
    Section.VENDORS: _("Phone vendor channels"),
    Section.IOS: _("iOS"),
    Section.HARMONY: _("HarmonyOS"),
    Section.SMS: _("SMS fallback"),
    Section.LIVE_ACTIVITY: _("iOS Live Activity"),
    Section.BROADCAST: _("Broadcast reach"),
}

# Sections open when the composer loads; the others start collapsed.
OPEN_SECTIONS = frozenset({Section.MESSAGE, Section.ACTION, Section.DELIVERY})


@dataclass(frozen=True)
class Option:
    key: str  # the form field and the campaign's options key
    path: str  # attribute path in the provider input, e.g. "android.vendors.xiaomi_channel"
    wire: str  # the request parameter it becomes
    label: Promise
    input: Input
    section: Section
    kinds: frozenset[str]
    choices: type[enum.Enum] | None = None
    help: Promise | str = ""

    def offered_for(self, kind: str) -> bool:
        return kind in self.kinds


MPAAS_ALL = frozenset({Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST})
MPAAS_TARGETED = frozenset({Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED})
SIMPLE_OR_TEMPLATE = frozenset({Kind.SIMPLE, Kind.TEMPLATE})
SIMPLE = frozenset({Kind.SIMPLE})
BROADCAST = frozenset({Kind.BROADCAST})
EMAS = frozenset({Kind.EMAS})


class LiveActivityTarget(enum.IntEnum):
    """PushSimple / PushTemplate's deliveryType for Live Activities (seed 002)."""

    PUSH_TOKEN = int(mpaas.DeliveryType.LIVE_ACTIVITY_TOKEN)
    ACTIVITY_ID = int(mpaas.DeliveryType.LIVE_ACTIVITY_ID)


def _option(
    key: str,
    path: str,
    wire: str,
    label: Promise,
    input: Input,
    section: Section,
    kinds: frozenset[str],
    choices: type[enum.Enum] | None = None,
    help: Promise | str = "",
) -> Option:
    return Option(key, path, wire, label, input, section, kinds, choices, help)


# Short names keep the tables below one row per parameter.
row = _option
In = Input
S = Section

MPAAS_OPTIONS: tuple[Option, ...] = (
    # -- what the message is and how long it lives
    row("mp_notify_type", "notify_type", "NotifyType", _("Channel"), In.CHOICE, S.MESSAGE,
      MPAAS_ALL, mpaas.NotifyType,
      _("“notify” uses the vendor channels; “transparent” only the app's own connection.")),
    row("mp_silent", "silent", "Silent", _("Silent (no sound or banner)"), In.YES_NO, S.MESSAGE,
      MPAAS_ALL),
    row("mp_live_activity_target", "delivery_type", "DeliveryType",
      _("Send to Live Activities instead"), In.CHOICE, S.LIVE_ACTIVITY, SIMPLE_OR_TEMPLATE,
      LiveActivityTarget,
      _("The audience then lists Live Activity push tokens or activity IDs.")),
    row("mp_expiry", "expired_seconds", "ExpiredSeconds", _("Keep trying to deliver for"),
      In.SECONDS, S.DELIVERY, MPAAS_ALL,
      help=_("Seconds; a device offline longer than this never gets the message. Three "
             "days when left empty.")),
    # -- what a tap does
    row("mp_push_action", "push_action", "PushAction", _("Tap opens"), In.CHOICE, S.ACTION,
      MPAAS_ALL, mpaas.PushAction),
    row("mp_uri", "uri", "Uri", _("Page or URL to open"), In.TEXT, S.ACTION, SIMPLE),
    row("mp_extended_params", "extended_params", "ExtendedParams", _("Extra data for the app"),
      In.MAP, S.ACTION, MPAAS_ALL, help=_("A key and its value per row.")),
    # -- look
    row("mp_push_style", "push_style", "PushStyle", _("Style"), In.CHOICE, S.STYLE, SIMPLE,
      mpaas.PushStyle),
    row("mp_image_urls", "image_urls", "ImageUrls", _("Big picture URLs"), In.MAP, S.STYLE, SIMPLE,
      help=_("defaultUrl = https://… and optionally hmsUrl, oppoUrl, miuiUrl…, one per line.")),
    row("mp_icon_urls", "icon_urls", "IconUrls", _("Icon URLs"), In.MAP, S.STYLE, SIMPLE,
      help=_("defaultUrl = https://… and optionally per vendor, one per line.")),
    # -- Android and vendor channels
    row("mp_channel_id", "vendor.channel_id", "ChannelId", _("Android notification channel ID"),
      In.TEXT, S.ANDROID, MPAAS_ALL),
    row("mp_android_channel", "android_channel", "AndroidChannel", _("Android channel"),
      In.CHOICE, S.ANDROID, BROADCAST, mpaas.AndroidChannel),
    row("mp_mi_channel_id", "vendor.mi_channel_id", "MiChannelId", _("Xiaomi channel ID"), In.TEXT,
      S.VENDORS, MPAAS_ALL),
    row("mp_classification", "vendor.classification", "Classification",
      _("vivo message type"), In.CHOICE, S.VENDORS, MPAAS_ALL, mpaas_opts.VivoClassification,
      _("vivo limits operational messages per day; system messages need vivo's approval.")),
    row("mp_third_channel_category", "vendor.third_channel_category", "ThirdChannelCategory",
      _("Vendor message categories"), In.MAP, S.VENDORS, MPAAS_ALL,
      help=_("vendor = category per line, e.g. hms = 9 or vivo = 1 (hms, honor, harmonyos, oppo, "
        "vivo, xiaomi).")),
    row("mp_notify_level", "vendor.notify_level", "NotifyLevel", _("OPPO notification level"),
      In.MAP, S.VENDORS, MPAAS_ALL, help=_("oppo = 1, 2 or 3.")),
    # -- SMS fallback
    row("mp_sms_strategy", "sms.strategy", "SmsStrategy", _("Send an SMS"), In.CHOICE, S.SMS,
      SIMPLE_OR_TEMPLATE, mpaas_opts.SmsStrategy),
    row("mp_sms_sign_name", "sms.sign_name", "SmsSignName", _("SMS signature"), In.TEXT, S.SMS,
      SIMPLE_OR_TEMPLATE),
    row("mp_sms_template_code", "sms.template_code", "SmsTemplateCode", _("SMS template code"),
      In.TEXT, S.SMS, SIMPLE_OR_TEMPLATE),
    row("mp_sms_template_params", "sms.template_params", "SmsTemplateParam",
      _("SMS template values"), In.MAP, S.SMS, SIMPLE_OR_TEMPLATE,
      help=_("A variable and its value per row.")),
    # -- Live Activity
    row("mp_activity_event", "live_activity.event", "ActivityEvent", _("Live Activity event"),
      In.CHOICE, S.LIVE_ACTIVITY, MPAAS_TARGETED, mpaas_opts.ActivityEvent),
    row("mp_activity_content_state", "live_activity.content_state", "ActivityContentState",
      _("Live Activity content state"), In.JSON, S.LIVE_ACTIVITY, MPAAS_TARGETED),
    row("mp_dismissal_date", "live_activity.dismissal_date", "DismissalDate",
      _("Remove the ended activity at"), In.DATETIME, S.LIVE_ACTIVITY, MPAAS_TARGETED),
    # -- broadcast reach beyond the audience rule
    row("mp_time_mode", "time_mode", "TimeMode", _("Bind time given as"), In.CHOICE, S.BROADCAST,
      BROADCAST, mpaas.TimeMode),
    row("mp_bind_start", "bind_start", "BindStartTime", _("Bound from"), In.DATETIME, S.BROADCAST,
      BROADCAST),
    row("mp_bind_end", "bind_end", "BindEndTime", _("Bound until"), In.DATETIME, S.BROADCAST,
      BROADCAST),
    row("mp_unbind_start", "unbind_start", "UnBindStartTime", _("Unbound from"), In.DATETIME,
      S.BROADCAST, BROADCAST),
    row("mp_unbind_end", "unbind_end", "UnBindEndTime", _("Unbound until"), In.DATETIME,
      S.BROADCAST, BROADCAST),
)  # fmt: skip

EMAS_OPTIONS: tuple[Option, ...] = (
    # -- message
    row("push_type", "push_type", "PushType", _("Message type"), In.CHOICE, S.MESSAGE, EMAS,
      emas.PushType,
      _("A notice shows in the notification bar; a message is handed to the running app.")),
    row("device_type", "device_type", "DeviceType", _("Devices"), In.CHOICE, S.MESSAGE, EMAS,
      emas.DeviceType),
    # -- delivery
    row("expiry", "expire_time", "ExpireTime", _("Keep trying to deliver for"), In.SECONDS,
      S.DELIVERY, EMAS, help=_("Seconds after sending, at most 72 hours.")),
    row("store_offline", "store_offline", "StoreOffline", _("Keep for offline devices"),
      In.YES_NO, S.DELIVERY, EMAS),
    row("send_channels", "send_channels", "SendChannels", _("Only through these channels"),
      In.CHOICES, S.DELIVERY, EMAS, emas.SendChannel),
    row("trim", "trim", "Trim", _("Shorten text that is too long"), In.YES_NO, S.DELIVERY, EMAS),
    row("job_key", "job_key", "JobKey", _("Job key for statistics"), In.TEXT, S.DELIVERY, EMAS),
    # -- Android: tap, look, badges
    row("android_open_type", "android.open_type", "AndroidOpenType", _("Tap opens (Android)"),
      In.CHOICE, S.ACTION, EMAS, android.AndroidOpenType),
    row("android_activity", "android.activity", "AndroidActivity", _("Activity to open"), In.TEXT,
      S.ACTION, EMAS),
    row("android_open_url", "android.open_url", "AndroidOpenUrl", _("URL to open"), In.URL,
      S.ACTION, EMAS),
    row("android_ext_parameters", "android.ext_parameters", "AndroidExtParameters",
      _("Extra data for the Android app"), In.JSON, S.ACTION, EMAS),
    row("android_notify_type", "android.notify_type", "AndroidNotifyType", _("Alert with"),
      In.CHOICE, S.ANDROID, EMAS, android.AndroidNotifyType),
    row("android_remind", "android.remind", "AndroidRemind",
      _("Offline devices get a vendor pop-up"), In.YES_NO, S.ANDROID, EMAS),
    row("android_popup_activity", "android.popup.activity", "AndroidPopupActivity",
      _("Pop-up opens activity"), In.TEXT, S.ANDROID, EMAS),
    row("android_popup_title", "android.popup.title", "AndroidPopupTitle", _("Pop-up title"),
      In.TEXT, S.ANDROID, EMAS),
    row("android_popup_body", "android.popup.body", "AndroidPopupBody", _("Pop-up text"),
      In.LONG_TEXT, S.ANDROID, EMAS),
    row("android_render_style", "android.style.render_style", "AndroidRenderStyle",
      _("Style (Android)"), In.CHOICE, S.STYLE, EMAS, android.AndroidRenderStyle),
    row("android_big_title", "android.style.big_title", "AndroidBigTitle", _("Long title"),
      In.TEXT, S.STYLE, EMAS),
    row("android_big_body", "android.style.big_body", "AndroidBigBody", _("Long text"),
      In.LONG_TEXT, S.STYLE, EMAS),
    row("android_big_picture_url", "android.style.big_picture_url", "AndroidBigPictureUrl",
      _("Big picture URL"), In.URL, S.STYLE, EMAS),
    row("android_image_url", "android.style.image_url", "AndroidImageUrl",
      _("Icon URL (right side)"), In.URL, S.STYLE, EMAS),
    row("android_inbox_body", "android.style.inbox_body", "AndroidInboxBody",
      _("Inbox lines"), In.LINES, S.STYLE, EMAS, help=_("One line per row, at most 5.")),
    row("android_notification_channel", "android.notification_channel",
      "AndroidNotificationChannel", _("Android notification channel ID"), In.TEXT, S.ANDROID,
      EMAS),
    row("android_notification_bar_type", "android.notification_bar_type",
      "AndroidNotificationBarType", _("Custom notification layout"), In.INTEGER, S.ANDROID,
      EMAS, help=_("1 to 100, as registered in the app.")),
    row("android_notification_bar_priority", "android.notification_bar_priority",
      "AndroidNotificationBarPriority", _("Notification priority"), In.INTEGER, S.ANDROID, EMAS,
      help=_("-2 (lowest) to 2 (highest).")),
    row("android_notify_id", "android.notify_id", "AndroidNotificationNotifyId",
      _("Notification ID (replaces one with the same ID)"), In.INTEGER, S.ANDROID, EMAS),
    row("android_notification_group", "android.notification_group", "AndroidNotificationGroup",
      _("Notification group"), In.TEXT, S.ANDROID, EMAS),
    row("android_notification_thread_id", "android.notification_thread_id",
      "AndroidNotificationThreadId", _("Notification thread"), In.TEXT, S.ANDROID, EMAS),
    row("android_music", "android.music", "AndroidMusic", _("Sound (Huawei)"), In.TEXT, S.ANDROID,
      EMAS),
    row("android_badge_add_num", "android.badge_add_num", "AndroidBadgeAddNum",
      _("Add to the badge"), In.INTEGER, S.ANDROID, EMAS, help=_("1 to 99.")),
    row("android_badge_set_num", "android.badge_set_num", "AndroidBadgeSetNum",
      _("Set the badge to"), In.INTEGER, S.ANDROID, EMAS, help=_("0 to 99.")),
    row("android_badge_class", "android.badge_class", "AndroidBadgeClass",
      _("Badge activity class"), In.TEXT, S.ANDROID, EMAS),
    row("android_target_user_type", "android.target_user_type", "AndroidTargetUserType",
      _("Android test or real users"), In.CHOICE, S.ANDROID, EMAS, android.Audience),
    # -- vendor channels
    row("huawei_importance", "android.vendors.huawei_importance",
      "AndroidNotificationHuaweiChannel", _("Huawei importance"), In.CHOICE, S.VENDORS, EMAS,
      android.Importance, _("LOW for news and marketing, NORMAL for service messages.")),
    row("huawei_urgency", "android.vendors.huawei_urgency", "AndroidMessageHuaweiUrgency",
      _("Huawei urgency"), In.CHOICE, S.VENDORS, EMAS, android.HuaweiUrgency),
    row("huawei_category", "android.vendors.huawei_category", "AndroidMessageHuaweiCategory",
      _("Huawei category"), In.TEXT, S.VENDORS, EMAS),
    row("huawei_target_user_type", "android.vendors.huawei_target_user_type",
      "AndroidHuaweiTargetUserType", _("Huawei test or real users"), In.CHOICE, S.VENDORS, EMAS,
      android.Audience),
    row("huawei_business_type", "android.vendors.huawei_business_type",
      "AndroidHuaweiBusinessType", _("Huawei business type"), In.CHOICE, S.VENDORS, EMAS,
      android.HuaweiBusinessType),
    row("huawei_receipt_id", "android.vendors.huawei_receipt_id", "AndroidHuaweiReceiptId",
      _("Huawei receipt ID"), In.TEXT, S.VENDORS, EMAS),
    row("huawei_live_notification_payload", "android.vendors.huawei_live_notification_payload",
      "AndroidHuaweiLiveNotificationPayload", _("Huawei live notification"), In.JSON, S.VENDORS,
      EMAS),
    row("honor_importance", "android.vendors.honor_importance", "AndroidNotificationHonorChannel",
      _("Honor importance"), In.CHOICE, S.VENDORS, EMAS, android.Importance),
    row("honor_target_user_type", "android.vendors.honor_target_user_type",
      "AndroidHonorTargetUserType", _("Honor test or real users"), In.CHOICE, S.VENDORS, EMAS,
      android.Audience),
    row("xiaomi_channel", "android.vendors.xiaomi_channel", "AndroidNotificationXiaomiChannel",
      _("Xiaomi channel ID"), In.TEXT, S.VENDORS, EMAS),
    row("xiaomi_focus_param", "android.vendors.xiaomi_focus_param", "AndroidXiaomiFocusParam",
      _("Xiaomi focus notification"), In.JSON, S.VENDORS, EMAS),
    row("xiaomi_focus_pics", "android.vendors.xiaomi_focus_pics", "AndroidXiaomiFocusPics",
      _("Xiaomi focus pictures"), In.JSON, S.VENDORS, EMAS),
    row("xiaomi_template_id", "android.vendors.xiaomi_template_id", "AndroidXiaomiTemplateId",
      _("Xiaomi template ID"), In.TEXT, S.VENDORS, EMAS),
    row("xiaomi_template_params", "android.vendors.xiaomi_template_params",
      "AndroidXiaomiTemplateParams", _("Xiaomi template values"), In.JSON, S.VENDORS, EMAS),
    row("vivo_classification", "android.vendors.vivo_classification",
      "AndroidNotificationVivoChannel", _("vivo message type"), In.CHOICE, S.VENDORS, EMAS,
      android.VivoClassification),
    row("vivo_category", "android.vendors.vivo_category", "AndroidMessageVivoCategory",
      _("vivo category"), In.CHOICE, S.VENDORS, EMAS, android.VendorCategory),
    row("vivo_push_mode", "android.vendors.vivo_push_mode", "AndroidVivoPushMode",
      _("vivo test or real users"), In.CHOICE, S.VENDORS, EMAS, android.Audience),
    row("vivo_receipt_id", "android.vendors.vivo_receipt_id", "AndroidVivoReceiptId",
      _("vivo receipt ID"), In.TEXT, S.VENDORS, EMAS),
    row("vivo_live_message", "android.vendors.vivo_live_message", "AndroidVivoLiveMessage",
      _("vivo live message"), In.JSON, S.VENDORS, EMAS),
    row("oppo_category", "android.vendors.oppo_category", "AndroidMessageOppoCategory",
      _("OPPO category"), In.CHOICE, S.VENDORS, EMAS, android.VendorCategory),
    row("oppo_notify_level", "android.vendors.oppo_notify_level", "AndroidMessageOppoNotifyLevel",
      _("OPPO alert level"), In.CHOICE, S.VENDORS, EMAS, android.OppoNotifyLevel),
    row("oppo_intent_env", "android.vendors.oppo_intent_env", "AndroidOppoIntentEnv",
      _("OPPO test or real users"), In.CHOICE, S.VENDORS, EMAS, android.Audience),
    row("oppo_intelligent_intent", "android.vendors.oppo_intelligent_intent",
      "AndroidOppoIntelligentIntent", _("OPPO smart intent"), In.JSON, S.VENDORS, EMAS),
    row("oppo_delete_intent_data", "android.vendors.oppo_delete_intent_data",
      "AndroidOppoDeleteIntentData", _("OPPO delete intent"), In.JSON, S.VENDORS, EMAS),
    row("oppo_private_msg_template_id", "android.vendors.oppo_private_msg_template_id",
      "AndroidOppoPrivateMsgTemplateId", _("OPPO private message template"), In.TEXT, S.VENDORS,
      EMAS),
    row("oppo_private_title_parameters", "android.vendors.oppo_private_title_parameters",
      "AndroidOppoPrivateTitleParameters", _("OPPO private title values"), In.MAP, S.VENDORS,
      EMAS),
    row("oppo_private_content_parameters", "android.vendors.oppo_private_content_parameters",
      "AndroidOppoPrivateContentParameters", _("OPPO private text values"), In.MAP, S.VENDORS,
      EMAS),
    row("meizu_notice_msg_type", "android.vendors.meizu_notice_msg_type",
      "AndroidMeizuNoticeMsgType", _("Meizu message type"), In.CHOICE, S.VENDORS, EMAS,
      android.MeizuNoticeMsgType),
    # -- iOS
    row("ios_apns_env", "ios.apns_env", "iOSApnsEnv", _("APNs environment"), In.CHOICE, S.IOS,
      EMAS, emas.ApnsEnv, _("DEV for development builds, PRODUCT for the App Store.")),
    row("ios_remind", "ios.remind", "iOSRemind", _("Offline devices get it once through APNs"),
      In.YES_NO, S.IOS, EMAS),
    row("ios_remind_body", "ios.remind_body", "iOSRemindBody", _("Text sent through APNs"),
      In.TEXT, S.IOS, EMAS),
    row("ios_subtitle", "ios.subtitle", "iOSSubtitle", _("Subtitle"), In.TEXT, S.IOS, EMAS),
    row("ios_music", "ios.music", "iOSMusic", _("Sound"), In.TEXT, S.IOS, EMAS,
      help=_("A sound file of the app, or “default”.")),
    row("ios_badge", "ios.badge", "iOSBadge", _("Badge number"), In.INTEGER, S.IOS, EMAS),
    row("ios_badge_auto_increment", "ios.badge_auto_increment", "iOSBadgeAutoIncrement",
      _("Badge counts up by itself"), In.YES_NO, S.IOS, EMAS),
    row("ios_silent_notification", "ios.silent_notification", "iOSSilentNotification",
      _("Silent notification (wakes the app)"), In.YES_NO, S.IOS, EMAS),
    row("ios_mutable_content", "ios.mutable_content", "iOSMutableContent",
      _("Let the app change it before showing (mutable content)"), In.YES_NO, S.IOS, EMAS),
    row("ios_notification_category", "ios.notification_category", "iOSNotificationCategory",
      _("Notification category"), In.TEXT, S.IOS, EMAS),
    row("ios_notification_collapse_id", "ios.notification_collapse_id",
      "iOSNotificationCollapseId", _("Collapse ID (replaces one with the same ID)"), In.TEXT,
      S.IOS, EMAS),
    row("ios_notification_thread_id", "ios.notification_thread_id", "iOSNotificationThreadId",
      _("Thread (groups notifications)"), In.TEXT, S.IOS, EMAS),
    row("ios_interruption_level", "ios.interruption_level", "iOSInterruptionLevel",
      _("Interruption level"), In.CHOICE, S.IOS, EMAS, emas.InterruptionLevel),
    row("ios_relevance_score", "ios.relevance_score", "iOSRelevanceScore",
      _("Relevance score"), In.NUMBER, S.IOS, EMAS, help=_("0 to 1.")),
    row("ios_ext_parameters", "ios.ext_parameters", "iOSExtParameters",
      _("Extra data for the iOS app"), In.JSON, S.ACTION, EMAS),
    row("ios_live_activity_event", "ios.live_activity.event", "iOSLiveActivityEvent",
      _("Live Activity event"), In.CHOICE, S.LIVE_ACTIVITY, EMAS, emas.LiveActivityEvent),
    row("ios_live_activity_id", "ios.live_activity.activity_id", "iOSLiveActivityId",
      _("Live Activity ID"), In.TEXT, S.LIVE_ACTIVITY, EMAS),
    row("ios_live_activity_attributes_type", "ios.live_activity.attributes_type",
      "iOSLiveActivityAttributesType", _("Attributes type"), In.TEXT, S.LIVE_ACTIVITY, EMAS),
    row("ios_live_activity_attributes", "ios.live_activity.attributes",
      "iOSLiveActivityAttributes", _("Attributes"), In.JSON, S.LIVE_ACTIVITY, EMAS),
    row("ios_live_activity_content_state", "ios.live_activity.content_state",
      "iOSLiveActivityContentState", _("Content state"), In.JSON, S.LIVE_ACTIVITY, EMAS),
    row("ios_live_activity_dismissal_date", "ios.live_activity.dismissal_date",
      "iOSLiveActivityDismissalDate", _("Remove the ended activity at"), In.DATETIME,
      S.LIVE_ACTIVITY, EMAS),
    row("ios_live_activity_stale_date", "ios.live_activity.stale_date",
      "iOSLiveActivityStaleDate", _("Out of date at"), In.DATETIME, S.LIVE_ACTIVITY, EMAS),
    # -- HarmonyOS
    row("harmony_action_type", "harmony.action_type", "HarmonyActionType",
      _("Tap opens (HarmonyOS)"), In.CHOICE, S.ACTION, EMAS, emas.HarmonyActionType),
    row("harmony_action", "harmony.action", "HarmonyAction", _("HarmonyOS page action"), In.TEXT,
      S.ACTION, EMAS),
    row("harmony_uri", "harmony.uri", "HarmonyUri", _("HarmonyOS page URI"), In.TEXT, S.ACTION,
      EMAS),
    row("harmony_ext_parameters", "harmony.ext_parameters", "HarmonyExtParameters",
      _("Extra data for the HarmonyOS app"), In.JSON, S.ACTION, EMAS),
    row("harmony_remind", "harmony.remind", "HarmonyRemind",
      _("Offline devices get a vendor notice"), In.YES_NO, S.HARMONY, EMAS),
    row("harmony_remind_title", "harmony.remind_title", "HarmonyRemindTitle",
      _("Offline notice title"), In.TEXT, S.HARMONY, EMAS),
    row("harmony_remind_body", "harmony.remind_body", "HarmonyRemindBody",
      _("Offline notice text"), In.TEXT, S.HARMONY, EMAS),
    row("harmony_category", "harmony.category", "HarmonyCategory", _("Category"), In.CHOICE,
      S.HARMONY, EMAS, emas.HarmonyCategory),
    row("harmony_notification_slot_type", "harmony.notification_slot_type",
      "HarmonyNotificationSlotType", _("Notification slot"), In.CHOICE, S.HARMONY, EMAS,
      emas.HarmonySlotType),
    row("harmony_notify_id", "harmony.notify_id", "HarmonyNotifyId",
      _("Notification ID (replaces one with the same ID)"), In.INTEGER, S.HARMONY, EMAS),
    row("harmony_render_style", "harmony.render_style", "HarmonyRenderStyle",
      _("Style (HarmonyOS)"), In.CHOICE, S.STYLE, EMAS, emas.HarmonyRenderStyle),
    row("harmony_image_url", "harmony.image_url", "HarmonyImageUrl",
      _("Picture URL (HarmonyOS)"), In.URL, S.STYLE, EMAS, help=_("https:// only.")),
    row("harmony_inbox_content", "harmony.inbox_content", "HarmonyInboxContent",
      _("Lines (HarmonyOS multi-line)"), In.LINES, S.STYLE, EMAS, help=_("At most 3 lines.")),
    row("harmony_test_message", "harmony.test_message", "HarmonyTestMessage",
      _("Test message"), In.YES_NO, S.HARMONY, EMAS),
    row("harmony_receipt_id", "harmony.receipt_id", "HarmonyReceiptId", _("Receipt ID"), In.TEXT,
      S.HARMONY, EMAS),
    row("harmony_extension_push", "harmony.extension_push", "HarmonyExtensionPush",
      _("Extension push"), In.YES_NO, S.HARMONY, EMAS),
    row("harmony_extension_extra_data", "harmony.extension_extra_data",
      "HarmonyExtensionExtraData", _("Extension data"), In.TEXT, S.HARMONY, EMAS),
    row("harmony_badge_add_num", "harmony.badge_add_num", "HarmonyBadgeAddNum",
      _("Add to the badge"), In.INTEGER, S.HARMONY, EMAS),
    row("harmony_badge_set_num", "harmony.badge_set_num", "HarmonyBadgeSetNum",
      _("Set the badge to"), In.INTEGER, S.HARMONY, EMAS),
    row("harmony_live_view_payload", "harmony.live_view_payload", "HarmonyLiveViewPayload",
      _("Live view"), In.JSON, S.HARMONY, EMAS),
    # -- SMS fallback
    row("sms_template_name", "sms.template_name", "SmsTemplateName", _("SMS template"), In.TEXT,
      S.SMS, EMAS),
    row("sms_sign_name", "sms.sign_name", "SmsSignName", _("SMS signature"), In.TEXT, S.SMS, EMAS),
    row("sms_send_policy", "sms.send_policy", "SmsSendPolicy", _("Send the SMS when"), In.CHOICE,
      S.SMS, EMAS, emas.SmsSendPolicy),
    row("sms_delay", "sms.delay", "SmsDelaySecs", _("Wait before the SMS"), In.SECONDS, S.SMS,
      EMAS, help=_("Seconds, from 15 to 259,200 (3 days).")),
    row("sms_params", "sms.params", "SmsParams", _("SMS template values"), In.MAP, S.SMS, EMAS,
      help=_("A variable and its value per row.")),
)  # fmt: skip

OPTIONS: tuple[Option, ...] = MPAAS_OPTIONS + EMAS_OPTIONS
BY_KEY: dict[str, Option] = {option.key: option for option in OPTIONS}


def options_for(kind: str) -> list[Option]:
    return [option for option in OPTIONS if option.offered_for(kind)]


def sections_for(kind: str) -> list[tuple[Section, list[Option]]]:
    """The kind's options grouped by section, in the order the composer shows them."""
    grouped: dict[Section, list[Option]] = {}
    for option in options_for(kind):
        grouped.setdefault(option.section, []).append(option)
    return [(section, grouped[section]) for section in Section if section in grouped]


def by_wire_name(options: Iterable[Option]) -> dict[str, str]:
    return {option.wire: option.key for option in options}
