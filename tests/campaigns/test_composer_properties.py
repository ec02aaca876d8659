"""Property tests of the composer: whatever a browser posts, the composer answers with a page
(never a server error), and a campaign the form accepts is one the provider's request
builder accepts too.

Each example starts from a campaign the form accepts and changes a few of its fields and
options to random values: unicode, empty, huge, commas, JSON-ish text and garbage, valid and
invalid choices, date-times near now and far away, numbers as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaigns.campaign_options import BY_KEY, Input, Option
from campaigns.campaign_requests import build_requests, call_keys, sample_recipients
from campaigns.forms.composer import CampaignForm
from campaigns.models import Audience, AudienceMember, Campaign, MessageTemplate, MobileApp
from campaigns.providers.errors import RequestInvalid
from tests.factories import (
    AudienceFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

Kind = Campaign.Kind
KINDS = [Kind.SIMPLE, Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST, Kind.EMAS]
PAGE_STATUSES = {200, 302, 400}  # a page, a redirect after saving, or "no such composer"

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    # The apps, audiences and templates are made once per test and only read; each example
    # runs in a transaction that is rolled back.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# -- what the marketer's apps hold ------------------------------------------------------------


@dataclass(frozen=True)
class World:
    mpaas: MobileApp
    emas: MobileApp
    audiences: dict[str, list[Audience]]  # usable by kind
    templates: dict[str, list[MessageTemplate]]  # by provider
    others: list[str]  # primary keys of archived ones and those of other kinds or apps


@pytest.fixture
def world(db: None) -> World:
    mpaas = MobileAppFactory.create()
    emas = EmasAppFactory.create(emas_app_key_ios="23267208", emas_app_key_harmony="23267209")
    users = AudienceFactory.create(app=mpaas, kind=Audience.Kind.USERS, member_count=3)
    for n, (name, money) in enumerate([("Mei", "88"), ("Li", "5"), ("Zhang San", "200")]):
        AudienceMember.objects.create(
            audience=users, target=f"user-{n}", values={"name": name, "money": money}
        )
    devices = AudienceFactory.create(app=mpaas, kind=Audience.Kind.DEVICES)
    broadcast = AudienceFactory.create(
        app=mpaas,
        kind=Audience.Kind.BROADCAST,
        platform=Audience.Platform.ANDROID,
        bind_status=Audience.BindStatus.BOUND,
        bind_period=Audience.Period.WEEK,
    )
    unbound = AudienceFactory.create(
        app=mpaas,
        kind=Audience.Kind.BROADCAST,
        platform=Audience.Platform.IOS,
        bind_status=Audience.BindStatus.UNBOUND,
        bind_period=Audience.Period.EVER,
    )
    emas_devices = AudienceFactory.create(app=emas, kind=Audience.Kind.DEVICES, member_count=2)
    for n in range(2):
        AudienceMember.objects.create(audience=emas_devices, target=f"device-{n}")
    accounts = AudienceFactory.create(app=emas, kind=Audience.Kind.ACCOUNTS)
    tags = AudienceFactory.create(
        app=emas, kind=Audience.Kind.TAGS, tag_expression='{"and": [{"tag": "vip"}]}'
    )
    everyone = AudienceFactory.create(app=emas, kind=Audience.Kind.ALL)
    archived = AudienceFactory.create(app=mpaas, kind=Audience.Kind.USERS, is_archived=True)
    templates = {
        "mpaas": [
            MessageTemplateFactory.create(app=mpaas, name="Prize"),
            MessageTemplateFactory.create(app=mpaas, name="Plain", title="Hi", body="News"),
            MessageTemplateFactory.create(app=mpaas, name="Prize, again"),  # mPaaS refuses
        ],
        "emas": [MessageTemplateFactory.create(app=emas, name="EMAS prize")],
    }
    old = MessageTemplateFactory.create(app=mpaas, name="Old", is_archived=True)
    return World(
        mpaas=mpaas,
        emas=emas,
        audiences={
            Kind.SIMPLE: [users, devices],
            Kind.TEMPLATE: [users, devices],
            Kind.PERSONALISED: [users, devices],
            Kind.BROADCAST: [broadcast, unbound],
            Kind.EMAS: [emas_devices, accounts, tags, everyone],
        },
        templates=templates,
        others=[str(archived.pk), str(old.pk), str(emas_devices.pk), str(broadcast.pk)],
    )


def app_of(world: World, kind: str) -> MobileApp:
    return world.emas if kind == Kind.EMAS else world.mpaas


def valid_data(world: World, kind: str) -> dict[str, Any]:
    """A campaign of ``kind`` the composer accepts."""
    data: dict[str, Any] = {
        "name": "Spring sale",
        "audience": str(world.audiences[kind][0].pk),
        "title": "Spring sale",
        "body": "Everything 20% off",
        "schedule_mode": "now",
        "time_zone": "Asia/Shanghai",
        "schedule_holder": "pushdeck",
    }
    if kind in (Kind.TEMPLATE, Kind.PERSONALISED, Kind.BROADCAST):
        data["template"] = str(world.templates["mpaas"][0].pk)
    if kind in (Kind.TEMPLATE, Kind.BROADCAST):
        data |= {"value__name": "Mei", "value__money": "88"}
    return data


# -- random input -----------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "a,b",
        "中文\uff0c逗号,comma",
        "#name#",
        "#nobody#",
        "x" * 5000,
        "😀" * 700,
        "\x00",
        "line one\r\nline two",
        "k = v",
        "=",
        "a=b&c=d",
        '{"k": "v"}',
        '{"k": {"deep": [1, 2, null]}}',
        "[1, 2]",
        '["a", "b", "c", "d", "e", "f"]',
        "{",
        "null",
        '{"and": [{"tag": "a"}, {"not": {"tag": "b"}}]}',
        "[" * 3000,
        '{"a":' * 3000,
        '{"a":' * 100 + "1" + "}" * 100,
        "1e309",
        "nan",
        "-inf",
        "-1",
        "0",
        "99999999999999999999999",
        "2026-02-30",
        "24:00",
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "https://example.com/a.png",
        "http://example.com/a.png",
    ]
)
GARBAGE = st.one_of(TEXT, ODD_TEXT, st.integers().map(str), st.floats().map(repr))


def moments() -> st.SearchStrategy[datetime]:
    """Date-times near now (where the schedule rules bite) and anywhere in the calendar."""
    now = timezone.now().replace(tzinfo=None)
    near = st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=200)).map(
        lambda delta: now + delta
    )
    return st.one_of(near, st.datetimes())


DATETIMES = moments().flatmap(
    lambda moment: st.sampled_from(
        [moment.strftime("%Y-%m-%dT%H:%M"), moment.strftime("%Y-%m-%d %H:%M:%S"), str(moment)]
    )
)
DATES = moments().map(lambda moment: moment.date().isoformat())
TIMES = st.times().map(lambda moment: moment.strftime("%H:%M"))
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["0", "1", "15", "60", "259200", "259201", "-2", "99999999999999999999"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
LINE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
KEY_VALUES = st.dictionaries(LINE, LINE, max_size=4).map(
    lambda pairs: "\n".join(f"{key} = {value}" for key, value in pairs.items())
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
JSON_OBJECTS = st.dictionaries(TEXT, JSON_VALUES, max_size=4).map(json.dumps)
LINES = st.lists(LINE, max_size=7).map("\n".join)


def either(valid: st.SearchStrategy[Any], garbage: bool) -> st.SearchStrategy[Any]:
    """What the field expects, and with ``garbage`` sometimes anything."""
    return st.one_of(valid, valid, GARBAGE) if garbage else valid


def option_values(option: Option, garbage: bool) -> st.SearchStrategy[Any]:
    members = [str(member.value) for member in option.choices or ()]
    match option.input:
        case Input.CHOICE:
            valid: st.SearchStrategy[Any] = st.sampled_from(["", *members])
        case Input.CHOICES:
            item = either(st.sampled_from(members), garbage)
            return st.lists(item, max_size=4)
        case Input.YES_NO:
            valid = st.sampled_from(["", "true", "false"])
        case Input.INTEGER | Input.SECONDS:
            valid = NUMBERS
        case Input.NUMBER:
            valid = st.one_of(NUMBERS, st.floats(0, 1).map(repr))
        case Input.MAP:
            valid = KEY_VALUES
        case Input.JSON:
            valid = JSON_OBJECTS
        case Input.LINES:
            valid = LINES
        case Input.DATETIME:
            valid = DATETIMES
        case _:
            valid = st.one_of(TEXT, ODD_TEXT)
    return either(valid, garbage)


def field_values(world: World, kind: str, name: str, garbage: bool) -> st.SearchStrategy[Any]:
    if name in BY_KEY:
        return option_values(BY_KEY[name], garbage)
    audiences = [str(audience.pk) for audience in world.audiences[kind]]
    templates = [str(template.pk) for group in world.templates.values() for template in group]
    fields: dict[str, st.SearchStrategy[Any]] = {
        "audience": st.sampled_from(["", *audiences, *world.others]),
        "template": st.sampled_from(["", *templates, *world.others]),
        "schedule_mode": st.sampled_from(Campaign.ScheduleMode.values),
        "send_at": DATETIMES,
        "frequency": st.sampled_from(["", *Campaign.Frequency.values]),
        "time_of_day": TIMES,
        "starts_on": DATES,
        "ends_on": DATES,
        "time_zone": st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", "Etc/GMT+12"]),
        "recipient_local_time": st.sampled_from(["", "on", "true", "false"]),
        "schedule_holder": st.sampled_from(Campaign.ScheduleHolder.values),
        "repeat_weekdays": st.lists(st.sampled_from(["1", "3", "7", "0", "8", "x"]), max_size=4),
        "repeat_dates": st.lists(st.integers(0, 32).map(str), max_size=4).map(", ".join),
    }
    return either(fields.get(name, st.one_of(TEXT, ODD_TEXT)), garbage)


def field_names(world: World, kind: str) -> list[str]:
    form = CampaignForm(app=app_of(world, kind), kind=kind)
    return [*form.fields, "value__name", "value__money"]


@st.composite
def form_data(draw: st.DrawFn, world: World, kind: str, *, garbage: bool) -> dict[str, Any]:
    """The valid campaign with a few fields changed or left out."""
    data = valid_data(world, kind)
    names = draw(st.lists(st.sampled_from(field_names(world, kind)), unique=True, max_size=8))
    for name in names:
        value = draw(st.none() | field_values(world, kind, name, garbage), label=name)
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def query_dict(data: dict[str, Any]) -> QueryDict:
    """``data`` as a browser's POST arrives (a list is several values of one field)."""
    posted = QueryDict(mutable=True)
    for name, value in data.items():
        posted.setlist(name, value if isinstance(value, list) else [value])
    return posted


@contextmanager
def rolled_back() -> Iterator[None]:
    """Whatever an example writes is gone before the next one."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# -- the properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@EXAMPLES
@given(data=st.data())
def test_the_composer_answers_any_post_with_a_page_never_a_server_error(
    kind: str, data: st.DataObject, world: World, marketer: Client
) -> None:
    posted = data.draw(form_data(world, kind, garbage=True)) | {
        "app": str(app_of(world, kind).pk),
        "kind": kind,
    }
    with rolled_back():
        preview = marketer.post(reverse("campaign_preview"), posted)
        assert preview.status_code in PAGE_STATUSES
        create = marketer.post(reverse("campaign_create"), posted)
        assert create.status_code in PAGE_STATUSES


@pytest.mark.parametrize("kind", KINDS)
@EXAMPLES
@given(data=st.data())
def test_a_campaign_the_form_accepts_is_one_the_provider_builder_accepts(
    kind: str, data: st.DataObject, world: World
) -> None:
    # Well-formed values (odd text included): the form accepts more of them.
    posted = query_dict(data.draw(form_data(world, kind, garbage=False)))
    with rolled_back():
        form = CampaignForm(posted, app=app_of(world, kind), kind=kind)
        valid = form.is_valid()
        event("form valid" if valid else "form refused")
        if not valid:
            return
        # One call to the audience's first members, as the dispatch engine would make it.
        campaign = form.instance
        recipients = sample_recipients(campaign)
        keys = call_keys(campaign, len(recipients), "run-1-call-1")
        try:
            requests = build_requests(campaign, recipients, keys, now=form.now)
        except RequestInvalid as refused:
            pytest.fail(f"the form accepted a campaign the builder refuses: {refused}")
        assert requests


# -- what the properties found ----------------------------------------------------------------


def composer_post(world: World, kind: str, **changes: str) -> dict[str, Any]:
    return valid_data(world, kind) | {"app": str(app_of(world, kind).pk), "kind": kind} | changes


def test_an_unknown_time_zone_is_refused_beside_its_field(world: World, marketer: Client) -> None:
    posted = composer_post(world, Kind.SIMPLE, time_zone="Mars/Olympus")
    assert marketer.post(reverse("campaign_preview"), posted).status_code == 200
    page = marketer.post(reverse("campaign_create"), posted)
    assert page.status_code == 200
    assert page.context["form"].errors["time_zone"] == [
        "Mars/Olympus is not a time zone name such as Asia/Shanghai."
    ]


@pytest.mark.parametrize(
    "pasted", ['{"a":' * 100 + "1" + "}" * 100, '{"a":' * 5000], ids=["100 levels", "5000 levels"]
)
def test_json_nested_deeper_than_a_vendor_payload_is_refused_beside_its_field(
    world: World, marketer: Client, pasted: str
) -> None:
    posted = composer_post(world, Kind.EMAS, android_ext_parameters=pasted)
    assert marketer.post(reverse("campaign_preview"), posted).status_code == 200
    page = marketer.post(reverse("campaign_create"), posted)
    assert page.status_code == 200
    assert page.context["form"].errors["android_ext_parameters"] == [
        "This JSON nests more than 64 levels deep."
    ]


def test_a_send_time_in_the_year_9999_is_refused_beside_its_field(
    world: World, marketer: Client
) -> None:
    posted = composer_post(
        world,
        Kind.EMAS,
        schedule_mode="at",
        schedule_holder="provider",
        send_at="9999-12-31T23:59",
        time_zone="America/New_York",
    )
    assert marketer.post(reverse("campaign_preview"), posted).status_code == 200
    page = marketer.post(reverse("campaign_create"), posted)
    assert page.status_code == 200
    assert "Choose a time within the next 100 years." in page.context["form"].errors["send_at"]


def test_a_wait_of_more_seconds_than_a_timer_holds_is_refused_beside_its_field(
    world: World, marketer: Client
) -> None:
    posted = composer_post(
        world,
        Kind.EMAS,
        sms_template_name="SMS_1",
        sms_sign_name="Shop",
        sms_send_policy="0",
        sms_delay="99999999999999999999",
    )
    assert marketer.post(reverse("campaign_preview"), posted).status_code == 200
    page = marketer.post(reverse("campaign_create"), posted)
    assert page.status_code == 200
    assert page.context["form"].errors["sms_delay"] == [
        "Ensure this value is less than or equal to 2147483647."
    ]
