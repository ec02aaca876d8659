"""Every request parameter of the seeds is something a marketer can set in the composer, and
it reaches the built request with the wire name and value the provider's builder gives it.

The table is derived from the seeds (``seed_parameters`` reads their "Request parameters"
tables): each parameter is reached by an option of the catalogue (``campaign_options``) or
by one of the campaign's own fields, or is listed in ``NOT_IN_COMPOSER`` with its reason.
Each case sets that field or option on a campaign and builds it the way the dispatch engine
does (``build_requests``); it then builds the same push by constructing the provider's input
dataclass directly with the same value and calling the provider's builder. Both requests
must carry the same parameter, and nothing else may differ.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaigns.campaign_options import BY_KEY, Input, Option, options_for
from campaigns.campaign_requests import DEFAULT_EXPIRY_SECONDS, Recipient, build_requests
from campaigns.models import Audience, Campaign
from campaigns.providers import emas
from campaigns.providers import mpaas_options as mpaas_opts
from campaigns.providers import mpaas_push as mpaas
from campaigns.providers.base import ProviderRequest
from campaigns.providers.emas_options import DeviceType, PushType, Target
from tests.campaigns.seed_parameters import ACTIONS, SeedParameter, request_parameters
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

Kind = Campaign.Kind

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
KIND_OF_SEED = {
    "000": Kind.BROADCAST,
    "001": Kind.PERSONALISED,
    "002": Kind.SIMPLE,
    "003": Kind.TEMPLATE,
    "004": Kind.EMAS,
}
ACTION_OF_KIND: dict[str, str] = {kind: ACTIONS[number] for number, kind in KIND_OF_SEED.items()}

# Seed parameters the composer does not set, each with the reason.
NOT_IN_COMPOSER: dict[str, str] = {
    "AndroidXiaomiBigPictureUrl": "deprecated: Xiaomi no longer takes pictures per push",
    "AndroidXiaomiImageUrl": "deprecated: Xiaomi no longer takes icons per push",
    "SendSpeed": "deprecated in seed 004",
    "AndroidXiaoMiNotifyTitle": "deprecated: replaced by AndroidPopupTitle",
    "AndroidXiaoMiNotifyBody": "deprecated: replaced by AndroidPopupBody",
    "AndroidXiaoMiActivity": "deprecated: replaced by AndroidPopupActivity",
}
# Values, not parameters, that the composer leaves out: EMAS Target "TBD" (continuous push)
# is not an audience kind; the SDK-only mPaaS parameters (TransparentMessagePayload,
# TransparentMessageUrgency, VendorTemplate) are in no seed and no builder.


# -- the campaign and the provider input every case starts from ------------------------------

NAME = "Spring sale"
TITLE = "Spring sale"
BODY = "Everything 20% off until Sunday"
TEMPLATE_NAME = "Spring template"
VALUES = {"name": "Mei", "money": "88"}
PLACEHOLDERS = ("name", "money")
TOKEN = str(uuid.uuid5(uuid.NAMESPACE_URL, "pushdeck:seed-table"))
MPAAS_APP = mpaas_opts.MpaasApp("ONEX570DA89211721", "test")
EMAS_APP = emas.EmasApp(23267207)
TEMPLATE_KINDS = (Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST)

RECIPIENTS: dict[str, list[Recipient]] = {
    Kind.SIMPLE: [Recipient("user-0"), Recipient("user-1")],
    Kind.TEMPLATE: [Recipient("user-0"), Recipient("user-1")],
    Kind.PERSONALISED: [
        Recipient("user-0", {"name": "Mei", "money": "88"}),
        Recipient("user-1", {"name": "Li", "money": "5"}, {"page": "sale"}),
    ],
    Kind.BROADCAST: [Recipient("every-device")],  # a broadcast has no targets: one call
    Kind.EMAS: [Recipient("device-0"), Recipient("device-1")],
}
KEYS: dict[str, list[str]] = {
    Kind.SIMPLE: ["key-0", "key-1"],
    Kind.TEMPLATE: ["key-0", "key-1"],
    Kind.PERSONALISED: ["key-0", "key-1"],
    Kind.BROADCAST: ["broadcast-key"],
    Kind.EMAS: [TOKEN],
}
AUDIENCES: dict[str, dict[str, Any]] = {
    Kind.SIMPLE: {"kind": Audience.Kind.USERS},
    Kind.TEMPLATE: {"kind": Audience.Kind.USERS},
    Kind.PERSONALISED: {"kind": Audience.Kind.USERS},
    Kind.BROADCAST: {
        "kind": Audience.Kind.BROADCAST,
        "platform": Audience.Platform.ANDROID,
        "bind_status": Audience.BindStatus.BOUND,
        "bind_period": Audience.Period.WEEK,
    },
    Kind.EMAS: {"kind": Audience.Kind.DEVICES},
}

MPAAS_TARGETS = (mpaas.Target("user-0", "key-0"), mpaas.Target("user-1", "key-1"))
MPAAS_COMMON = {
    "task_name": NAME,
    "delivery_type": mpaas.DeliveryType.USER,
    "expired_seconds": DEFAULT_EXPIRY_SECONDS,
}
TEMPLATE_INPUT = {"template_name": TEMPLATE_NAME, "placeholders": PLACEHOLDERS}
# The provider input of each kind, by attribute path, as the case's campaign should give it.
INPUTS: dict[str, dict[str, Any]] = {
    Kind.SIMPLE: MPAAS_COMMON | {"targets": MPAAS_TARGETS, "title": TITLE, "content": BODY},
    Kind.TEMPLATE: MPAAS_COMMON
    | TEMPLATE_INPUT
    | {"targets": MPAAS_TARGETS, "template_values": VALUES},
    Kind.PERSONALISED: MPAAS_COMMON
    | TEMPLATE_INPUT
    | {
        "target_msgs": (
            mpaas.TargetMessage("user-0", "key-0", {"name": "Mei", "money": "88"}),
            mpaas.TargetMessage("user-1", "key-1", {"name": "Li", "money": "5"}, {"page": "sale"}),
        )
    },
    Kind.BROADCAST: MPAAS_COMMON
    | TEMPLATE_INPUT
    | {
        "delivery_type": mpaas.DeliveryType.ANDROID,
        "msg_key": "broadcast-key",
        "template_values": VALUES,
        "push_status": mpaas.PushStatus.BOUND,
        "bind_period": mpaas.Period.WITHIN_7_DAYS,
    },
    Kind.EMAS: {
        "push_type": PushType.NOTICE,
        "device_type": DeviceType.ALL,
        "target": Target.DEVICE,
        "target_value": ("device-0", "device-1"),
        "title": TITLE,
        "body": BODY,
        "idempotent_token": TOKEN,
    },
}
BUILDERS: dict[str, tuple[type[Any], Callable[..., ProviderRequest]]] = {
    Kind.SIMPLE: (mpaas.PushSimple, mpaas.build_push_simple),
    Kind.TEMPLATE: (mpaas.PushTemplate, mpaas.build_push_template),
    Kind.PERSONALISED: (mpaas.PushMultiple, mpaas.build_push_multiple),
    Kind.BROADCAST: (mpaas.PushBroadcast, mpaas.build_push_broadcast),
    Kind.EMAS: (emas.EmasPush, emas.build_push),
}


@dataclass(frozen=True)
class Case:
    """One setting of the composer and the provider input it should become."""

    kind: str
    wire: str
    setting: str  # the composer field or option key that sets it
    campaign: Mapping[str, Any] = field(default_factory=dict)  # Campaign fields
    audience: Mapping[str, Any] = field(default_factory=dict)  # Audience fields
    template: Mapping[str, Any] = field(default_factory=dict)  # MessageTemplate fields
    app: Mapping[str, Any] = field(default_factory=dict)  # MobileApp fields
    options: Mapping[str, Any] = field(default_factory=dict)  # as the composer stores them
    expected: Mapping[str, Any] = field(default_factory=dict)  # provider input paths
    expected_app: Mapping[str, Any] = field(default_factory=dict)  # MpaasApp / EmasApp


# -- the campaign's own fields ---------------------------------------------------------------

MPAAS_KINDS = (Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST)
TARGETED = (Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED)
SEND_AT = NOW + timedelta(days=2)
PROVIDER_HELD = {"schedule_holder": Campaign.ScheduleHolder.PROVIDER, "time_zone": str(ZONE)}


def own_field_cases() -> list[Case]:
    cases: list[Case] = []
    for kind in MPAAS_KINDS:
        cases += [
            Case(kind, "TaskName", "name", {"name": "Autumn sale ✓"}, expected={
                "task_name": "Autumn sale ✓"}),
            Case(kind, "AppId", "app", app={"mpaas_app_id": "ONEX0000000002"},
                expected_app={"app_id": "ONEX0000000002"}),
            Case(kind, "WorkspaceId", "app", app={"mpaas_workspace_id": "prod"},
                expected_app={"workspace_id": "prod"}),
            Case(kind, "TenantId", "app", app={"mpaas_tenant_id": "tenant-1"},
                expected_app={"tenant_id": "tenant-1"}),
            Case(kind, "StrategyType", "schedule", PROVIDER_HELD | {
                "schedule_mode": Campaign.ScheduleMode.AT, "send_at": SEND_AT},
                expected={"strategy": mpaas_opts.Strategy(
                    mpaas_opts.StrategyType.SCHEDULED, fixed_time=SEND_AT)}),
            Case(kind, "StrategyContent", "schedule", PROVIDER_HELD | {
                "schedule_mode": Campaign.ScheduleMode.RECURRING,
                "frequency": Campaign.Frequency.WEEKLY,
                "repeat_on": [1, 3],
                "time_of_day": time(9, 45),
                "starts_on": date(2026, 11, 24),
                "ends_on": date(2027, 1, 31)},
                expected={"strategy": mpaas_opts.Strategy(
                    mpaas_opts.StrategyType.RECURRING,
                    start=datetime(2026, 11, 24, tzinfo=ZONE),
                    end=datetime(2027, 1, 31, tzinfo=ZONE),
                    circle_type=mpaas_opts.CircleType.WEEKLY,
                    circle_values=(1, 3),
                    time="09:45:00")}),
        ]  # fmt: skip
    for kind in TARGETED:
        cases.append(
            Case(kind, "DeliveryType", "audience",
                audience={"kind": Audience.Kind.DEVICES, "platform": Audience.Platform.IOS},
                expected={"delivery_type": mpaas.DeliveryType.IOS})
        )  # fmt: skip
    for kind in (Kind.SIMPLE, Kind.TEMPLATE):
        cases.append(Case(kind, "TargetMsgkey", "audience"))
    for kind in TEMPLATE_KINDS:
        cases.append(
            Case(kind, "TemplateName", "template", template={"name": "Autumn template"},
                expected={"template_name": "Autumn template"})
        )  # fmt: skip
    for kind in (Kind.TEMPLATE, Kind.BROADCAST):
        values = {"name": "Li", "money": "5"}
        cases.append(
            Case(kind, "TemplateKeyValue", "template_values", {"template_values": values},
                expected={"template_values": values})
        )  # fmt: skip
    cases += [
        Case(Kind.SIMPLE, "Title", "title", {"title": "Flash sale"},
            expected={"title": "Flash sale"}),
        Case(Kind.SIMPLE, "Content", "body", {"body": "Two hours only"},
            expected={"content": "Two hours only"}),
        Case(Kind.PERSONALISED, "TargetMsg", "audience"),
        Case(Kind.BROADCAST, "DeliveryType", "audience",
            audience={"platform": Audience.Platform.HARMONY},
            expected={"delivery_type": mpaas.DeliveryType.HARMONYOS}),
        Case(Kind.BROADCAST, "Msgkey", "dispatch key"),
        Case(Kind.BROADCAST, "PushStatus", "audience",
            audience={"bind_status": Audience.BindStatus.EVERYONE,
                "bind_period": Audience.Period.FORTNIGHT},
            expected={"push_status": mpaas.PushStatus.ALL, "bind_period": None,
                "unbind_period": mpaas.Period.WITHIN_15_DAYS}),
        Case(Kind.BROADCAST, "BindPeriod", "audience",
            audience={"bind_period": Audience.Period.TWO_MONTHS},
            expected={"bind_period": mpaas.Period.WITHIN_60_DAYS}),
        Case(Kind.BROADCAST, "UnBindPeriod", "audience",
            audience={"bind_status": Audience.BindStatus.UNBOUND,
                "bind_period": Audience.Period.EVER},
            expected={"push_status": mpaas.PushStatus.UNBOUND, "bind_period": None,
                "unbind_period": mpaas.Period.ANY_TIME}),
        Case(Kind.EMAS, "AppKey", "app", app={"emas_app_key_android": "33445566"},
            expected_app={"app_key": 33445566}),
        Case(Kind.EMAS, "Target", "audience",
            audience={"kind": Audience.Kind.TAGS, "tag_expression": "vip"},
            expected={"target": Target.TAG, "target_value": ("vip",)}),
        Case(Kind.EMAS, "TargetValue", "audience"),
        Case(Kind.EMAS, "Title", "title", {"title": "Flash sale"},
            expected={"title": "Flash sale"}),
        Case(Kind.EMAS, "Body", "body", {"body": "Two hours only"},
            expected={"body": "Two hours only"}),
        Case(Kind.EMAS, "PushTime", "schedule", PROVIDER_HELD | {
            "schedule_mode": Campaign.ScheduleMode.AT, "send_at": SEND_AT},
            expected={"push_time": SEND_AT}),
        Case(Kind.EMAS, "IdempotentToken", "dispatch key"),
    ]  # fmt: skip
    return cases


# -- the option catalogue --------------------------------------------------------------------

IMAGE = "https://example.com/sample.png"


def composer_time(moment: datetime) -> str:
    """A date-time option as the composer stores it: ISO 8601 in the campaign's zone."""
    return moment.astimezone(ZONE).isoformat()


def first(choices: type[enum.Enum] | None) -> Any:
    assert choices is not None
    return next(iter(choices))


# A sample per input kind, as the composer's form cleans and stores it.
SAMPLE_OF_INPUT: dict[Input, Callable[[Option], Any]] = {
    Input.TEXT: lambda option: "sample",
    Input.LONG_TEXT: lambda option: "sample",
    Input.URL: lambda option: IMAGE,
    Input.INTEGER: lambda option: 5,
    Input.NUMBER: lambda option: 0.5,
    Input.YES_NO: lambda option: True,
    Input.CHOICE: lambda option: str(first(option.choices).value),
    Input.CHOICES: lambda option: [str(first(option.choices).value)],
    Input.MAP: lambda option: {"k": "v"},
    Input.JSON: lambda option: {"k": "v"},
    Input.LINES: lambda option: ["a", "b"],
    Input.DATETIME: lambda option: composer_time(NOW + timedelta(hours=1)),
    Input.SECONDS: lambda option: 60,
}
# Samples that a rule of the builder needs, or that show the option better than the first.
SAMPLES: dict[str, Any] = {
    "mp_push_style": str(mpaas.PushStyle.BIG_PICTURE.value),
    "mp_image_urls": {"defaultUrl": IMAGE},
    "mp_icon_urls": {"defaultUrl": IMAGE},
    "mp_third_channel_category": {"hms": "9"},
    "mp_notify_level": {"oppo": "2"},
    "mp_sms_strategy": str(mpaas_opts.SmsStrategy.RESEND.value),
    "mp_sms_template_params": {"code": "123456"},
    "mp_activity_event": str(mpaas_opts.ActivityEvent.END.value),
    "mp_time_mode": str(mpaas.TimeMode.RANGE.value),
    "mp_bind_start": composer_time(NOW - timedelta(days=7)),
    "mp_bind_end": composer_time(NOW - timedelta(days=1)),
    "mp_unbind_start": composer_time(NOW - timedelta(days=7)),
    "mp_unbind_end": composer_time(NOW - timedelta(days=1)),
    "device_type": DeviceType.ANDROID.value,
    "android_open_type": "ACTIVITY",
    "android_notification_bar_priority": 1,
    "ios_live_activity_event": "start",
    "harmony_action_type": "APP_CUSTOM_PAGE",
    "harmony_render_style": "MULTI_LINE",
    "sms_params": {"code": "123456"},
}
# How the provider input holds a value the composer stores differently.
PROVIDER_VALUES: dict[str, Callable[[Any], Any]] = {
    "expiry": lambda seconds: NOW + timedelta(seconds=seconds),  # ExpireTime, from now
    "sms_delay": lambda seconds: timedelta(seconds=seconds),
    "mp_live_activity_target": lambda value: mpaas.DeliveryType(int(value)),
}


@dataclass(frozen=True)
class Group:
    """Options a builder's rule needs set together; ``members`` need ``needs`` set too."""

    needs: tuple[str, ...]
    members: tuple[str, ...] = ()
    audience: Mapping[str, Any] = field(default_factory=dict)
    expected: Mapping[str, Any] = field(default_factory=dict)


GROUPS = (
    # mPaaS: the image-and-text style needs its image; an SMS fallback needs all its parts;
    # a Live Activity needs its event; a bind time range needs both ends (and, for unbound
    # users, an audience of unbound users).
    Group(("mp_push_style", "mp_image_urls")),
    Group(("mp_sms_strategy", "mp_sms_sign_name", "mp_sms_template_code",
        "mp_sms_template_params")),
    Group(("mp_activity_event",), ("mp_activity_content_state", "mp_dismissal_date")),
    Group(("mp_time_mode", "mp_bind_start", "mp_bind_end")),
    Group(("mp_time_mode", "mp_unbind_start", "mp_unbind_end"),
        audience={"bind_status": Audience.BindStatus.UNBOUND},
        expected={"push_status": mpaas.PushStatus.UNBOUND, "bind_period": None,
            "unbind_period": mpaas.Period.WITHIN_7_DAYS}),
    # EMAS: opening an activity needs the activity; the pop-up needs its title and text; the
    # OPPO alert level needs the OPPO category; starting a Live Activity needs its attributes;
    # a HarmonyOS custom page needs its action; the multi-line style needs its lines; the SMS
    # fallback needs its template, signature, policy and delay.
    Group(("android_open_type", "android_activity")),
    Group(("android_popup_activity", "android_popup_title", "android_popup_body")),
    Group(("oppo_notify_level", "oppo_category")),
    Group(("ios_live_activity_event", "ios_live_activity_attributes_type",
        "ios_live_activity_attributes"), ("ios_live_activity_id",
        "ios_live_activity_content_state", "ios_live_activity_dismissal_date",
        "ios_live_activity_stale_date")),
    Group(("harmony_action_type", "harmony_action")),
    Group(("harmony_render_style", "harmony_inbox_content")),
    Group(("sms_template_name", "sms_sign_name", "sms_send_policy", "sms_delay"),
        ("sms_params",)),
)  # fmt: skip


def group_of(key: str) -> Group | None:
    return next((g for g in GROUPS if key in g.needs or key in g.members), None)


def sample(option: Option) -> Any:
    return SAMPLES[option.key] if option.key in SAMPLES else SAMPLE_OF_INPUT[option.input](option)


def provider_value(option: Option, stored: Any) -> Any:
    """``stored`` typed as the provider input holds it."""
    if option.key in PROVIDER_VALUES:
        return PROVIDER_VALUES[option.key](stored)
    if option.input is Input.CHOICE:
        return member(option, stored)
    if option.input is Input.CHOICES:
        return tuple(member(option, item) for item in stored)
    if option.input is Input.DATETIME:
        return datetime.fromisoformat(stored)
    if option.input is Input.LINES:
        return tuple(stored)
    return stored


def member(option: Option, stored: str) -> Any:
    assert option.choices is not None
    [found] = [item for item in option.choices if str(item.value) == stored]
    return found


def option_case(kind: str, option: Option) -> Case:
    group = group_of(option.key)
    keys = dict.fromkeys((*(group.needs if group else ()), option.key))
    options = {key: sample(BY_KEY[key]) for key in keys}
    expected = {
        BY_KEY[key].path: provider_value(BY_KEY[key], value) for key, value in options.items()
    }
    return Case(
        kind,
        option.wire,
        option.key,
        options=options,
        audience=group.audience if group else {},
        expected=dict(group.expected if group else {}) | expected,
    )


def option_cases() -> list[Case]:
    return [
        option_case(kind, option) for kind in KIND_OF_SEED.values() for option in options_for(kind)
    ]


CASES = own_field_cases() + option_cases()


def case_id(case: Case) -> str:
    name = f"{ACTION_OF_KIND[case.kind]}-{case.wire}"
    twins = [other for other in CASES if (other.kind, other.wire) == (case.kind, case.wire)]
    return f"{name}-{case.setting}" if len(twins) > 1 else name


# -- building both ways ----------------------------------------------------------------------


def campaign_of(case: Case) -> Campaign:
    """The campaign as the composer would hold it (unsaved: building needs no database)."""
    kind = case.kind
    app_factory = EmasAppFactory if kind == Kind.EMAS else MobileAppFactory
    app = app_factory.build(**case.app)
    audience = AudienceFactory.build(app=app, **(AUDIENCES[kind] | dict(case.audience)))
    template = None
    if kind in TEMPLATE_KINDS:
        template = MessageTemplateFactory.build(
            app=app, **({"name": TEMPLATE_NAME} | dict(case.template))
        )
    fields: dict[str, Any] = {"name": NAME, "title": TITLE, "body": BODY}
    if kind in (Kind.TEMPLATE, Kind.BROADCAST):
        fields["template_values"] = VALUES
    return CampaignFactory.build(
        app=app,
        kind=kind,
        audience=audience,
        template=template,
        options=dict(case.options),
        **(fields | dict(case.campaign)),
    )


def provider_input(cls: type[Any], values: Mapping[str, Any]) -> Any:
    """An instance of the provider's input dataclass ``cls`` from attribute paths
    ("android.vendors.oppo_category"); a nested group is built from the paths under it."""
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    hints = typing.get_type_hints(cls)
    for name, group in nested.items():
        annotation = hints[name]  # VendorOptions, or LiveActivity | None
        [group_class] = [
            arg
            for arg in (annotation, *typing.get_args(annotation))
            if isinstance(arg, type) and dataclasses.is_dataclass(arg)
        ]
        direct[name] = provider_input(group_class, group)
    return cls(**direct)


def builder_request(case: Case) -> ProviderRequest:
    """What the provider's builder makes of the same push, given its input directly."""
    cls, build = BUILDERS[case.kind]
    push = provider_input(cls, INPUTS[case.kind] | dict(case.expected))
    app = EMAS_APP if case.kind == Kind.EMAS else MPAAS_APP
    return build(dataclasses.replace(app, **case.expected_app), push, now=NOW)


def parameter(params: Mapping[str, str], wire: str) -> dict[str, str]:
    """The request's parameter ``wire``, with its flattened parts (``TargetMsg.1.Target``)."""
    return {name: value for name, value in params.items() if name.partition(".")[0] == wire}


# -- the tests -------------------------------------------------------------------------------


def reached(kind: str) -> dict[str, str]:
    """The wire names the composer reaches for ``kind``: wire -> the setting that does."""
    return {case.wire: case.setting for case in CASES if case.kind == kind}


def test_the_seed_tables_are_read_whole() -> None:
    counts = {number: len(request_parameters(number)) for number in ACTIONS}
    assert counts == {"000": 23, "001": 18, "002": 29, "003": 23, "004": 119}
    [strategy] = [p for p in request_parameters("002") if p.wire == "StrategyContent"]
    assert strategy.fields == (
        "fixedTime",
        "startTime",
        "endTime",
        "circleType",
        "circleValue",
        "time",
    )
    [targets] = [p for p in request_parameters("001") if p.wire == "TargetMsg"]
    assert targets.fields == ("target", "msgKey", "templateKeyValue", "extendedParams")
    deprecated = {p.wire for p in request_parameters("004") if p.deprecated}
    assert deprecated == set(NOT_IN_COMPOSER)


@pytest.mark.parametrize("number", list(ACTIONS), ids=list(ACTIONS.values()))
def test_the_composer_reaches_every_request_parameter_of_the_seed(number: str) -> None:
    settings = reached(KIND_OF_SEED[number])
    unreached = [
        p.wire
        for p in request_parameters(number)
        if p.wire not in settings and p.wire not in NOT_IN_COMPOSER
    ]
    assert unreached == [], f"seed {number} parameters no composer setting reaches"


def test_what_the_composer_leaves_out_is_in_a_seed_and_really_left_out() -> None:
    in_seeds: dict[str, list[SeedParameter]] = {}
    for number in ACTIONS:
        for p in request_parameters(number):
            in_seeds.setdefault(p.wire, []).append(p)
    for wire in NOT_IN_COMPOSER:
        assert wire in in_seeds, f"{wire} is in no seed"
        assert all(wire not in reached(kind) for kind in KIND_OF_SEED.values()), wire


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_a_composer_setting_reaches_the_request_as_the_provider_builder_writes_it(
    case: Case,
) -> None:
    [sent] = build_requests(campaign_of(case), RECIPIENTS[case.kind], KEYS[case.kind], now=NOW)
    expected = builder_request(case)
    assert sent.action == expected.action == ACTION_OF_KIND[case.kind]
    assert parameter(sent.params, case.wire), f"{case.setting} does not reach {case.wire}"
    assert parameter(sent.params, case.wire) == parameter(expected.params, case.wire)
    assert sent.params == expected.params
