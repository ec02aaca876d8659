"""The campaign composer's form: one form for every kind, shaped by the kind chosen first.

Its fields are the campaign's own (name, audience, content, template values, schedule) and,
for the kind, one field per provider option of ``campaign_options``. ``clean`` checks what
only Pushdeck knows (the audience fits the kind, the schedule's own rules) and then hands
the campaign to the provider's request builder through ``campaign_requests.check_campaign``:
each rule the builder names comes back beside the field that caused it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.forms.models import construct_instance
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import scheduling
from campaigns.call_plan import call_plan
from campaigns.campaign_options import (
    OPEN_SECTIONS,
    SECTION_TITLES,
    Input,
    Option,
    options_for,
    sections_for,
)
from campaigns.campaign_requests import check_campaign, form_field_of
from campaigns.connections import emas_apps
from campaigns.models import Audience, Campaign, MessageTemplate, MobileApp
from campaigns.models.apps import validate_time_zone

if TYPE_CHECKING:
    CampaignModelForm = forms.ModelForm[Campaign]
else:  # ModelForm is generic only in django-stubs
    CampaignModelForm = forms.ModelForm

VALUE_PREFIX = "value__"  # a template value field: value__<placeholder>

# Audience kinds each campaign kind can send to (Pushdeck's rule: the provider action
# takes these targets).
AUDIENCE_KINDS: dict[str, tuple[str, ...]] = {
    Campaign.Kind.SIMPLE: (Audience.Kind.DEVICES, Audience.Kind.USERS),
    Campaign.Kind.TEMPLATE: (Audience.Kind.DEVICES, Audience.Kind.USERS),
    Campaign.Kind.PERSONALISED: (Audience.Kind.DEVICES, Audience.Kind.USERS),
    Campaign.Kind.BROADCAST: (Audience.Kind.BROADCAST,),
    Campaign.Kind.EMAS: (
        Audience.Kind.DEVICES,
        Audience.Kind.ACCOUNTS,
        Audience.Kind.ALIASES,
        Audience.Kind.TAGS,
        Audience.Kind.ALL,
    ),
}

WEEKDAY_CHOICES = [
    (1, gettext_lazy("Monday")),
    (2, gettext_lazy("Tuesday")),
    (3, gettext_lazy("Wednesday")),
    (4, gettext_lazy("Thursday")),
    (5, gettext_lazy("Friday")),
    (6, gettext_lazy("Saturday")),
    (7, gettext_lazy("Sunday")),
]
YES_NO = [
    ("", gettext_lazy("Provider default")),
    ("true", gettext_lazy("Yes")),
    ("false", gettext_lazy("No")),
]


def choice_label(member: Any) -> str:
    words = member.name.replace("_", " ").capitalize()
    return f"{words} ({member.value})"


class KeyValueField(forms.CharField):
    """``key = value`` per line, to a dict; a line without "=" is named in the error. With
    scripts on, the page shows it as rows of key and value inputs (key_value_rows.js)."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {
            "rows": 3,
            "class": "mono",
            "data-key-value": "",
            "data-key-label": _("key"),
            "data-value-label": _("value"),
            "data-add-label": _("Add a row"),
            "data-remove-label": _("Remove row"),
        }
        super().__init__(widget=forms.Textarea(attrs=attrs), **kwargs)

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        pairs: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(
                    _("Line %(line)d needs the form key = value.") % {"line": number}
                )
            pairs[key.strip()] = item.strip()
        return pairs

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(f"{key} = {item}" for key, item in value.items())
        return value


JSON_MAX_DEPTH = 64  # vendor payloads nest a few levels
SECONDS_MAX = 2**31 - 1  # about 68 years
SEND_AT_MAX_AHEAD = timedelta(days=36_500)


def json_depth(value: Any) -> int:
    """How many levels of objects and arrays ``value`` nests (0 for a scalar), counted
    without recursion."""
    depth, level = 0, [value]
    while level := [item for item in level if isinstance(item, dict | list)]:
        depth += 1
        level = [
            child for item in level for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def too_deep() -> forms.ValidationError:
    return forms.ValidationError(
        _("This JSON nests more than %(limit)d levels deep.") % {"limit": JSON_MAX_DEPTH}
    )


class JsonObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "class": "mono"})

    def to_python(self, value: Any) -> dict[str, Any] | None:  # type: ignore[override]
        text = super().to_python(value) or ""
        if not text.strip():
            return None
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON (%(problem)s).") % {"problem": error.msg}
            ) from None
        except RecursionError:  # deeper than Python's JSON parser goes
            raise too_deep() from None
        if json_depth(parsed) > JSON_MAX_DEPTH:  # it could not be shown in the form again
            raise too_deep()
        if not isinstance(parsed, dict):
            raise forms.ValidationError(_('Write a JSON object, for example {"key": "value"}.'))
        return parsed

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value


class LinesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


def option_field(option: Option) -> forms.Field:
    common: dict[str, Any] = {"label": option.label, "required": False, "help_text": option.help}
    match option.input:
        case Input.LONG_TEXT:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        case Input.URL:
            return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "url"}), **common)
        case Input.INTEGER:
            return forms.IntegerField(**common)
        case Input.SECONDS:  # a duration Pushdeck adds to times: whole seconds, 32 bits
            return forms.IntegerField(min_value=0, max_value=SECONDS_MAX, **common)
        case Input.NUMBER:
            return forms.FloatField(**common)
        case Input.YES_NO:
            return forms.TypedChoiceField(
                choices=YES_NO, coerce=lambda value: value == "true", empty_value=None, **common
            )
        case Input.CHOICE:
            assert option.choices is not None
            choices = [("", _("Provider default"))]
            choices += [(str(member.value), choice_label(member)) for member in option.choices]
            return forms.ChoiceField(choices=choices, **common)
        case Input.CHOICES:
            assert option.choices is not None
            return forms.MultipleChoiceField(
                choices=[(str(member.value), choice_label(member)) for member in option.choices],
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        case Input.MAP:
            return KeyValueField(**common)
        case Input.JSON:
            return JsonObjectField(**common)
        case Input.LINES:
            return LinesField(**common)
        case Input.DATETIME:
            return forms.DateTimeField(
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common
            )
    return forms.CharField(**common)


def stored(option: Option, value: Any, zone: ZoneInfo) -> Any:
    """A cleaned option value as the campaign keeps it (JSON-ready)."""
    if isinstance(value, datetime):
        return in_zone(value, zone).isoformat()
    return value


def shown(option: Option, value: Any, zone: ZoneInfo) -> Any:
    """A kept option value as its field shows it."""
    if option.input is Input.YES_NO and isinstance(value, bool):
        return "true" if value else "false"
    if option.input is Input.DATETIME and isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(zone).replace(tzinfo=None)
    if option.input is Input.CHOICE:
        return str(value)
    return value


def in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """A date-time typed in the form means that wall time in the campaign's zone."""
    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
    return naive.replace(tzinfo=zone)


@dataclass(frozen=True)
class OptionSection:
    key: str
    title: Promise | str
    open: bool
    fields: list[forms.BoundField]

    @property
    def has_errors(self) -> bool:
        return any(field.errors for field in self.fields)

    @property
    def set_count(self) -> int:
        return sum(1 for field in self.fields if field.value() not in (None, "", [], {}))


class CampaignForm(CampaignModelForm):
    """The composer. ``app`` and ``kind`` are chosen before it opens and do not change."""

    repeat_weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("On"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_dates = forms.CharField(
        label=gettext_lazy("On dates"),
        required=False,
        help_text=gettext_lazy("Days of the month, e.g. 1, 15, 28."),
    )
    test_targets = forms.CharField(
        label=gettext_lazy("Test targets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=gettext_lazy("Device or user IDs, one per line; the app's test targets."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "audience",
            "template",
            "title",
            "body",
            "schedule_mode",
            "send_at",
            "frequency",
            "time_of_day",
            "starts_on",
            "ends_on",
            "time_zone",
            "recipient_local_time",
            "schedule_holder",
        ]
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
            "body": forms.Textarea(attrs={"rows": 4}),
            "schedule_mode": forms.RadioSelect,
            "schedule_holder": forms.RadioSelect,
            "send_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "time_of_day": forms.TimeInput(attrs={"type": "time"}),
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(
        self,
        *args: Any,
        app: MobileApp,
        kind: str,
        now: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self.kind = kind
        self.now = now or timezone.now()
        self.instance.app = app
        self.instance.kind = kind
        self.zone = ZoneInfo(self.instance.time_zone or app.time_zone)
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("time_zone", app.time_zone)
            self.initial.setdefault("test_targets", "\n".join(app.test_target_list))
        elif not self.is_bound:
            self.initial["test_targets"] = "\n".join(app.test_target_list)
            self._show_repeat_on()
        self._shape_content()
        self._add_options()
        if self.instance.send_at and not self.is_bound:
            self.initial["send_at"] = self.instance.send_at.astimezone(self.zone).replace(
                tzinfo=None
            )

    def start_at(self, moment: datetime) -> None:
        """Open a new campaign set to go once at ``moment`` (a calendar day's time), shown in
        the time zone the form starts with (the app's)."""
        zone = ZoneInfo(str(self.initial.get("time_zone") or self.app.time_zone))
        self.instance.schedule_mode = Campaign.ScheduleMode.AT
        self.instance.send_at = moment
        self.instance.time_zone = zone.key
        self.initial["schedule_mode"] = Campaign.ScheduleMode.AT
        self.initial["send_at"] = moment.astimezone(zone).replace(tzinfo=None)

    # -- shape ---------------------------------------------------------------------------

    def _shape_content(self) -> None:
        audiences = Audience.objects.filter(
            app=self.app, is_archived=False, kind__in=AUDIENCE_KINDS[self.kind]
        ).order_by("name")
        self.fields["audience"].queryset = audiences  # type: ignore[attr-defined]
        self.fields["audience"].required = True
        self.fields["audience"].label_from_instance = audience_label  # type: ignore[attr-defined]
        templates = MessageTemplate.objects.usable().filter(app=self.app).order_by("name")
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        if self.kind == Campaign.Kind.SIMPLE:
            del self.fields["template"]
        else:
            self.fields["template"].required = self.kind != Campaign.Kind.EMAS
        if self.kind in (
            Campaign.Kind.TEMPLATE,
            Campaign.Kind.PERSONALISED,
            Campaign.Kind.BROADCAST,
        ):
            del self.fields["title"]
            del self.fields["body"]
        if self.kind != Campaign.Kind.PERSONALISED:
            for name in self.chosen_placeholders():
                value = (self.instance.template_values or {}).get(name, "")
                self.fields[f"{VALUE_PREFIX}{name}"] = forms.CharField(
                    label=_("Value for #%(name)s#") % {"name": name},
                    required=False,
                    initial=value,
                )

    def chosen_template(self) -> MessageTemplate | None:
        if "template" not in self.fields:
            return None
        if self.is_bound:
            raw = self.data.get(self.add_prefix("template"))
            if not str(raw or "").isdigit():
                return None
            queryset = self.fields["template"].queryset  # type: ignore[attr-defined]
            template: MessageTemplate | None = queryset.filter(pk=raw).first()
            return template
        return self.instance.template if self.instance.template_id else None

    def chosen_placeholders(self) -> list[str]:
        template = self.chosen_template()
        return template.placeholders if template is not None else []

    def _add_options(self) -> None:
        kept = self.instance.options or (
            new_campaign_options(self.app, self.kind) if self.instance.pk is None else {}
        )
        for option in options_for(self.kind):
            field = option_field(option)
            if option.key in kept:
                field.initial = shown(option, kept[option.key], self.zone)
            self.fields[option.key] = field

    def _show_repeat_on(self) -> None:
        days = [int(day) for day in self.instance.repeat_on or []]
        if self.instance.frequency == Campaign.Frequency.WEEKLY:
            self.initial["repeat_weekdays"] = days
        elif self.instance.frequency == Campaign.Frequency.MONTHLY:
            self.initial["repeat_dates"] = ", ".join(str(day) for day in days)

    # -- what the template shows ------------------------------------------------------------

    def option_sections(self) -> list[OptionSection]:
        return [
            OptionSection(
                key=section.value,
                title=SECTION_TITLES[section],
                open=section in OPEN_SECTIONS,
                fields=[self[option.key] for option in options],
            )
            for section, options in sections_for(self.kind)
        ]

    def value_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(VALUE_PREFIX)]

    # -- clean ---------------------------------------------------------------------------

    def clean_repeat_dates(self) -> list[int]:
        text = self.cleaned_data.get("repeat_dates") or ""
        days: list[int] = []
        # A Chinese keyboard's full-width comma separates dates too.
        for part in text.replace("\uff0c", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 31:
                raise forms.ValidationError(
                    _("%(part)s is not a day of the month (1 to 31).") % {"part": part}
                )
            days.append(int(part))
        return sorted(set(days))

    def clean_time_zone(self) -> str:
        # Refused here, an unknown zone never reaches the campaign that the preview and the
        # schedule read, even when the form is shown again with its errors.
        name: str = self.cleaned_data.get("time_zone") or ""
        validate_time_zone(name)
        return name

    def clean_send_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("send_at")
        if value is None:
            return None
        moment = in_zone(value, self._form_zone())
        if moment > self.now + SEND_AT_MAX_AHEAD:  # the year 9999 is no time to store or send
            raise forms.ValidationError(_("Choose a time within the next 100 years."))
        if moment < self.now - SEND_AT_MAX_AHEAD:  # the year 1 east of UTC is before the year 1
            raise forms.ValidationError(_("Choose a time from this century."))
        return moment

    def _form_zone(self) -> ZoneInfo:
        name = self.data.get(self.add_prefix("time_zone")) if self.is_bound else None
        try:
            return ZoneInfo(str(name)) if name else self.zone
        except (KeyError, ValueError):
            return self.zone

    def _weekly(self) -> bool:
        return self.cleaned_data.get("frequency") == Campaign.Frequency.WEEKLY

    def test_target_list(self) -> list[str]:
        text = self.cleaned_data.get("test_targets") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._invalid_fields = set(self.errors)
        campaign = self.instance
        self._apply(campaign, cleaned)
        plan = call_plan(campaign)
        pending = 0
        if scheduling.held_by_provider(campaign):
            pending = scheduling.pending_provider_schedules(self.app, exclude=campaign.pk)
        for field, message in scheduling.check_schedule(
            campaign,
            now=self.now,
            pending_provider_schedules=pending,
            calls=plan.calls if plan is not None else 1,
        ):
            self._error(field, message)
        if not self.errors:
            for error in check_campaign(campaign, now=self.now):
                self._error(form_field_of(error.field, self.kind), error.message, error.field)
        return cleaned

    def _apply(self, campaign: Campaign, cleaned: dict[str, Any]) -> None:
        """Put what was typed on the (unsaved) campaign so the builder can judge it."""
        construct_instance(self, campaign, fields=self._meta.fields)
        zone = self._form_zone()
        if campaign.frequency == Campaign.Frequency.WEEKLY:
            campaign.repeat_on = list(cleaned.get("repeat_weekdays") or [])
        elif campaign.frequency == Campaign.Frequency.MONTHLY:
            campaign.repeat_on = list(cleaned.get("repeat_dates") or [])
        else:
            campaign.repeat_on = []
        if self.kind != Campaign.Kind.PERSONALISED:
            campaign.template_values = {
                name.removeprefix(VALUE_PREFIX): cleaned.get(name, "")
                for name in self.fields
                if name.startswith(VALUE_PREFIX) and cleaned.get(name)
            }
        options: dict[str, Any] = {}
        for option in options_for(self.kind):
            value = cleaned.get(option.key)
            if value not in (None, "", [], {}):
                options[option.key] = stored(option, value, zone)
        campaign.options = options

    def _error(self, field: str | None, message: str, wire: str = "") -> None:
        if field == "repeat_on":
            field = "repeat_weekdays" if self.kind and self._weekly() else "repeat_dates"
        target = field if field is not None and field in self.fields else None
        if target in self._invalid_fields:
            return  # what was typed there is not even valid: that is the one thing to say
        if message in self.errors.get(target or "__all__", []):
            return  # a rule both Pushdeck and the builder name is said once
        if target is not None:
            self.add_error(target, message)
        else:
            self.add_error(None, f"{wire}: {message}" if wire else message)


EMAS_DEVICE_TYPES = {"android": "ANDROID", "ios": "iOS", "harmony": "HARMONY"}


def new_campaign_options(app: MobileApp, kind: str) -> dict[str, str]:
    """What a new campaign starts with where the provider wants a choice: an EMAS push is a
    notice, to the devices of the one platform the app has a key for (all, if several)."""
    if kind != Campaign.Kind.EMAS:
        return {}
    platforms = [EMAS_DEVICE_TYPES[name] for name in emas_apps(app)]
    return {"push_type": "NOTICE", "device_type": platforms[0] if len(platforms) == 1 else "ALL"}


def audience_label(audience: Audience) -> str:
    if audience.is_listed:
        return _("%(name)s (%(count)s targets)") % {
            "name": audience.name,
            "count": f"{audience.member_count:,}",
        }
    return f"{audience.name} ({audience.get_kind_display()})"
