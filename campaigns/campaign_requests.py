"""From a campaign to provider requests: the one bridge between what the composer holds and
the provider's request builders.

``provider_input`` puts a campaign and one call's recipients into the provider's input type
(``PushSimple`` … ``EmasPush``); ``build_requests`` hands it to the provider's builder,
which checks every rule of the seeds. The composer calls ``check_campaign`` to show those
rules beside its fields, the test send and the dispatch engine call ``build_requests``: a
campaign that passes the composer is a campaign the builder accepts.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from campaigns import scheduling
from campaigns.call_plan import EMAS_PLATFORMS, TARGETS_PER_CALL
from campaigns.campaign_options import BY_KEY, Input, Option, options_for
from campaigns.connections import emas_apps, mpaas_app
from campaigns.models import Audience, AudienceMember, Campaign
from campaigns.providers import emas as emas_provider
from campaigns.providers import mpaas_push as mpaas
from campaigns.providers.base import ProviderRequest
from campaigns.providers.emas_options import DeviceType, PushType, Target
from campaigns.providers.errors import FieldError, RequestInvalid
from campaigns.rendering import placeholders, render

DEFAULT_EXPIRY_SECONDS = 3 * 24 * 3600  # mPaaS needs one; three days suits most sends

# Wire names the campaign's own fields become, so a builder's error lands beside the field
# that caused it. Options map themselves (Option.wire).
FIELD_OF_WIRE = {
    "TaskName": "name",
    "Title": "title",
    "Content": "body",
    "Body": "body",
    "TemplateName": "template",
    "TemplateKeyValue": "template_values",
    "TargetMsgkey": "audience",
    "TargetMsg": "audience",
    "Target": "audience",
    "TargetValue": "audience",
    "DeliveryType": "audience",
    "PushStatus": "audience",
    "BindPeriod": "audience",
    "UnBindPeriod": "audience",
    "StrategyType": "schedule_holder",
    "StrategyContent": "schedule_mode",
    "PushTime": "send_at",
    "AppId": "app",
    "WorkspaceId": "app",
    "AppKey": "app",
}


@dataclass(frozen=True)
class Recipient:
    """One target of one call, with what the audience says about it."""

    target: str
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extended_params: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    """What the campaign says: live while it is a draft, its snapshot once approved."""

    title: str
    body: str
    template_name: str
    placeholders: tuple[str, ...]
    values: Mapping[str, str]


def content_of(campaign: Campaign) -> Content:
    snapshot = campaign.snapshot
    if snapshot:
        template = snapshot.get("template") or {}
        title = template.get("title", snapshot.get("title", ""))
        body = template.get("body", snapshot.get("body", ""))
        return Content(
            title=title if template else snapshot.get("title", ""),
            body=body if template else snapshot.get("body", ""),
            template_name=template.get("name", ""),
            placeholders=tuple(placeholders(title, body)) if template else (),
            values=snapshot.get("template_values") or {},
        )
    template = campaign.template
    if template is not None:
        return Content(
            title=template.title,
            body=template.body,
            template_name=template.name,
            placeholders=tuple(template.placeholders),
            values=campaign.template_values or {},
        )
    return Content(campaign.title, campaign.body, "", (), campaign.template_values or {})


def snapshot_of(campaign: Campaign) -> dict[str, Any]:
    """What approval freezes: the content, the template as it reads now, the options."""
    template = campaign.template
    return {
        "title": campaign.title,
        "body": campaign.body,
        "template_values": campaign.template_values,
        "template": {
            "id": template.pk,
            "name": template.name,
            "version": template.version,
            "title": template.title,
            "body": template.body,
        }
        if template is not None
        else None,
        "options": campaign.options,
    }


# -- options onto the provider input ---------------------------------------------------------


def _value(option: Option, raw: Any, campaign: Campaign) -> Any:
    """A stored option value as the provider input types it."""
    if option.choices is not None and option.input is Input.CHOICE:
        return _member(option.choices, raw)
    if option.input is Input.CHOICES:
        assert option.choices is not None
        return tuple(_member(option.choices, item) for item in raw)
    if option.input is Input.DATETIME:
        return datetime.fromisoformat(raw)
    if option.input is Input.SECONDS and option.path in ("sms.delay",):
        return timedelta(seconds=int(raw))
    if option.input is Input.LINES:
        return tuple(raw)
    return raw


def _member(choices: type[Enum], raw: Any) -> Any:
    for member in choices:
        if str(member.value) == str(raw):
            return member
    return raw  # not a member: the builder names the rule it breaks


def _is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def option_values(campaign: Campaign) -> dict[str, Any]:
    """The campaign's options that are set and offered for its kind, by path."""
    values: dict[str, Any] = {}
    for option in options_for(campaign.kind):
        raw = campaign.options.get(option.key)
        if _is_set(raw):
            values[option.path] = _value(option, raw, campaign)
    return values


def assemble(cls: type[Any], values: Mapping[str, Any], fixed: Mapping[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from dotted ``values`` ("android.style.big_title")
    and its own ``fixed`` fields. A nested group is built only when one of its values is set;
    a required field of a built group that nobody set is None, for its builder to name."""
    hints = _type_hints(cls)
    kwargs: dict[str, Any] = dict(fixed)
    nested: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            kwargs[head] = value
    for name, group in nested.items():
        kwargs[name] = assemble(_dataclass_in(hints[name]), group, {})
    for field in dataclasses.fields(cls):
        required = field.default is dataclasses.MISSING and (
            field.default_factory is dataclasses.MISSING
        )
        if required and field.name not in kwargs:
            kwargs[field.name] = None
    return cls(**kwargs)


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a request dataclass, once (resolving them per call cost
    a tenth of a millisecond of every send)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _dataclass_in(annotation: Any) -> type[Any]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if dataclasses.is_dataclass(candidate) and isinstance(candidate, type):
            return candidate
    raise TypeError(f"{annotation!r} holds no dataclass")


# -- mPaaS -----------------------------------------------------------------------------------


def mpaas_delivery_type(campaign: Campaign) -> int:
    audience = campaign.audience
    if audience is None:
        return 0
    if audience.kind == Audience.Kind.USERS:
        return mpaas.DeliveryType.USER
    platforms: dict[str, int] = {
        Audience.Platform.ANDROID: mpaas.DeliveryType.ANDROID,
        Audience.Platform.IOS: mpaas.DeliveryType.IOS,
        Audience.Platform.HARMONY: mpaas.DeliveryType.HARMONYOS,
    }
    return platforms.get(audience.platform, 0)


def _mpaas_common(campaign: Campaign, values: dict[str, Any]) -> dict[str, Any]:
    values.setdefault("delivery_type", mpaas_delivery_type(campaign))
    values.setdefault("expired_seconds", DEFAULT_EXPIRY_SECONDS)
    audience = campaign.audience
    return {
        "task_name": campaign.name,
        "strategy": scheduling.mpaas_strategy(campaign),
        "audience_is_group": audience is not None and audience.kind == Audience.Kind.TAGS,
    }


def mpaas_input(campaign: Campaign, recipients: Sequence[Recipient], keys: Sequence[str]) -> Any:
    content = content_of(campaign)
    values = option_values(campaign)
    fixed = _mpaas_common(campaign, values)
    kind = campaign.kind
    if kind in (Campaign.Kind.SIMPLE, Campaign.Kind.TEMPLATE):
        targets = tuple(
            mpaas.Target(r.target, key) for r, key in zip(recipients, keys, strict=True)
        )
    if kind == Campaign.Kind.SIMPLE:
        fixed |= {"targets": targets, "title": content.title, "content": content.body}
        return assemble(mpaas.PushSimple, values, fixed)
    template = {
        "template_name": content.template_name,
        "placeholders": content.placeholders,
    }
    if kind == Campaign.Kind.TEMPLATE:
        fixed |= template | {"targets": targets, "template_values": dict(content.values)}
        return assemble(mpaas.PushTemplate, values, fixed)
    if kind == Campaign.Kind.PERSONALISED:
        messages = tuple(
            mpaas.TargetMessage(r.target, key, dict(r.values), dict(r.extended_params))
            for r, key in zip(recipients, keys, strict=True)
        )
        fixed |= template | {"target_msgs": messages}
        return assemble(mpaas.PushMultiple, values, fixed)
    audience = campaign.audience
    bound = audience is None or audience.bind_status in (None, mpaas.PushStatus.BOUND)
    period = audience.bind_period if audience is not None else None
    fixed |= template | {
        "msg_key": keys[0] if keys else "",
        "template_values": dict(content.values),
        "push_status": audience.bind_status
        if audience and audience.bind_status is not None
        else mpaas.PushStatus.BOUND,
        "bind_period": period if bound else None,
        "unbind_period": None if bound else period,
    }
    return assemble(mpaas.PushBroadcast, values, fixed)


MPAAS_BUILDERS: dict[str, Callable[..., ProviderRequest]] = {
    Campaign.Kind.SIMPLE: mpaas.build_push_simple,
    Campaign.Kind.TEMPLATE: mpaas.build_push_template,
    Campaign.Kind.PERSONALISED: mpaas.build_push_multiple,
    Campaign.Kind.BROADCAST: mpaas.build_push_broadcast,
}


# -- EMAS ------------------------------------------------------------------------------------

EMAS_TARGETS: dict[str, Target] = {
    Audience.Kind.DEVICES: Target.DEVICE,
    Audience.Kind.ACCOUNTS: Target.ACCOUNT,
    Audience.Kind.ALIASES: Target.ALIAS,
    Audience.Kind.TAGS: Target.TAG,
    Audience.Kind.ALL: Target.ALL,
}


def emas_input(campaign: Campaign, recipients: Sequence[Recipient], *, now: datetime) -> Any:
    content = content_of(campaign)
    values = option_values(campaign)
    audience = campaign.audience
    target = EMAS_TARGETS.get(audience.kind, audience.kind) if audience else ""
    if target == Target.TAG and audience is not None:
        target_value: tuple[str, ...] = (audience.tag_expression,)
    elif target == Target.ALL:
        target_value = ()
    else:
        target_value = tuple(recipient.target for recipient in recipients)
    push_time = scheduling.emas_push_time(campaign)
    expiry = values.pop("expire_time", None)
    fixed = {
        "push_type": values.pop("push_type", PushType.NOTICE),
        "device_type": values.pop("device_type", DeviceType.ALL),
        "target": target,
        "target_value": target_value,
        "title": render(content.title, content.values),
        "body": render(content.body, content.values),
        "push_time": push_time,
        "expire_time": (push_time or now) + timedelta(seconds=int(expiry))
        if expiry is not None
        else None,
    }
    return assemble(emas_provider.EmasPush, values, fixed)


# -- requests --------------------------------------------------------------------------------


def build_requests(
    campaign: Campaign,
    recipients: Sequence[Recipient],
    keys: Sequence[str],
    *,
    now: datetime,
) -> list[ProviderRequest]:
    """The provider requests that send ``recipients`` one call's worth of this campaign
    (EMAS: one per AppKey the device type reaches). Raises RequestInvalid."""
    if campaign.kind in MPAAS_BUILDERS:
        push = mpaas_input(campaign, recipients, keys)
        return [MPAAS_BUILDERS[campaign.kind](mpaas_app(campaign.app), push, now=now)]
    push = emas_input(campaign, recipients, now=now)
    push = dataclasses.replace(push, idempotent_token=keys[0] if keys else None)
    apps = emas_apps(campaign.app)
    platforms = EMAS_PLATFORMS.get(push.device_type, ())
    reached = [apps[platform] for platform in platforms if platform in apps]
    if not reached:
        raise RequestInvalid(
            [FieldError("DeviceType", _("The app has no EMAS AppKey for these devices."))]
        )
    return [emas_provider.build_push(app, push, now=now) for app in reached]


def form_field_of(wire_name: str, kind: str) -> str | None:
    """The composer field a builder's error belongs beside (None: the whole form)."""
    base = wire_name.split(".", 1)[0]
    for option in options_for(kind):
        if option.wire == wire_name or option.wire == base:
            return option.key
    return FIELD_OF_WIRE.get(wire_name) or FIELD_OF_WIRE.get(base)


def option_by_key(key: str) -> Option:
    return BY_KEY[key]


# -- what the composer checks and tells --------------------------------------------------------

SAMPLE_TARGET = "sample-target"  # stands in for the members of an audience with none yet
SAMPLE_SIZE = 100  # members a check builds one call with: enough to meet per-target rules
# with_sample_member's annotations: the first member's columns (three small subqueries, each
# decoded by its own field; a JSON object of them would come back as text on SQLite).
SAMPLE_MEMBER = {
    "sample_target": "target",
    "sample_values": "values",
    "sample_extras": "extended_params",
}


def with_sample_member(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """``campaigns``, each with its audience's first member brought along in the same query:
    ``sample_recipients(campaign, limit=1)`` then asks nothing more."""
    first = AudienceMember.objects.filter(audience=OuterRef("audience")).order_by("id")
    return campaigns.annotate(
        **{name: Subquery(first.values(column)[:1]) for name, column in SAMPLE_MEMBER.items()}
    )


def sample_recipients(campaign: Campaign, *, limit: int = SAMPLE_SIZE) -> list[Recipient]:
    """The first members of the campaign's audience (one keyset page, no COUNT), or one
    stand-in target when the audience lists none, so content rules are still checked."""
    audience = campaign.audience
    size = min(limit, TARGETS_PER_CALL.get(Campaign.Kind(campaign.kind), 1))
    if audience is not None and audience.is_listed and audience.pk is not None:
        members: Iterable[tuple[str, Any, Any]]
        if size == 1 and hasattr(campaign, "sample_target"):  # with_sample_member's
            target, values, extras = (getattr(campaign, name) for name in SAMPLE_MEMBER)
            members = [(target, values, extras)] if target is not None else []
        else:
            members = audience.members.order_by("id").values_list(
                "target", "values", "extended_params"
            )[:size]
        found = [
            Recipient(target, values or {}, extras or {}) for target, values, extras in members
        ]
        if found:
            return found
    return [Recipient(SAMPLE_TARGET, dict(content_of(campaign).values))]


def call_keys(campaign: Campaign, count: int, prefix: str) -> list[str]:
    """Keys for one call: an mPaaS msgKey per target, or one EMAS IdempotentToken."""
    if campaign.kind == Campaign.Kind.EMAS:
        return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"pushdeck:{prefix}"))]
    if campaign.kind == Campaign.Kind.BROADCAST:
        return [prefix]
    return [f"{prefix}-{index}" for index in range(count)]


def check_campaign(
    campaign: Campaign, *, now: datetime, recipients: Sequence[Recipient] | None = None
) -> list[FieldError]:
    """Every rule of the provider's builder that the campaign breaks, built with one call's
    worth of its audience (or with ``recipients``); [] when the builder accepts it."""
    sample = list(recipients) if recipients is not None else sample_recipients(campaign)
    try:
        build_requests(campaign, sample, call_keys(campaign, len(sample), "check"), now=now)
    except RequestInvalid as refused:
        return list(refused.errors)
    return []
