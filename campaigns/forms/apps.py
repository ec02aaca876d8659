"""The app form (provider, endpoint, IDs and keys, with each provider's rules) and the
app list's filters.

The AccessKey secret is write-only: it is never put back into the page (not even after a
failed POST), it is required when an app is created, and left blank on edit it keeps the
stored one. The cleaned value is a ``Secret`` at once, so it prints as ``••••`` wherever
it travels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from campaigns.encryption import Secret
from campaigns.models import MobileApp
from campaigns.models.apps import EMAS_REGION_ENDPOINTS, MPAAS_REGION_ENDPOINTS, SANDBOX_ENDPOINT

if TYPE_CHECKING:
    from django.forms.boundfield import BoundField

CUSTOM_ENDPOINT = "custom"
APP_KEY = re.compile(r"[0-9]+")
# One device or user ID per line: an ID has no spaces, commas or semicolons.
SEVERAL_IDS = re.compile(r"[\s,;]")
RATE_LIMIT_MAX = 10_000
SIGNATURE_CHOICES = [
    (MobileApp.SignatureVersion.V3.value, _("V3: ACS3-HMAC-SHA256")),
    (MobileApp.SignatureVersion.V1.value, _("V1: HMAC-SHA1")),
]
EMAS_APP_KEY_FIELDS = ("emas_app_key_android", "emas_app_key_ios", "emas_app_key_harmony")
MPAAS_ID_FIELDS = ("mpaas_app_id", "mpaas_workspace_id", "mpaas_tenant_id")


def endpoint_choices() -> list[tuple[str | Promise, Any]]:
    return [
        (SANDBOX_ENDPOINT, _("Built-in sandbox (no real pushes)")),
        (
            _("mPaaS regions"),
            [(url, f"mPaaS {region} — {url}") for region, url in MPAAS_REGION_ENDPOINTS.items()],
        ),
        (
            _("EMAS regions"),
            [(url, f"EMAS {region} — {url}") for region, url in EMAS_REGION_ENDPOINTS.items()],
        ),
        (CUSTOM_ENDPOINT, _("Custom URL")),
    ]


@dataclass(frozen=True)
class Fieldset:
    key: str
    legend: str | Promise
    fields: list[BoundField]
    help: str | Promise = ""
    provider: str = ""  # shown only for this provider, when set


class OneIdPerLineField(forms.CharField):
    """Device or user IDs, one per line; kept without blank lines or repeats, so that a
    browser's CRLF line ends do not count as a change."""

    def to_python(self, value: Any) -> str:
        lines = [line.strip() for line in str(super().to_python(value)).splitlines()]
        for number, line in enumerate(lines, start=1):
            if SEVERAL_IDS.search(line):
                raise forms.ValidationError(
                    _("Put one ID per line: line %(number)d holds “%(line)s”."),
                    code="several_ids",
                    params={"number": number, "line": line},
                )
        return "\n".join(dict.fromkeys(line for line in lines if line))


if TYPE_CHECKING:
    AppModelForm = forms.ModelForm[MobileApp]
else:  # ModelForm is generic only in django-stubs
    AppModelForm = forms.ModelForm


class MobileAppForm(AppModelForm):
    endpoint = forms.ChoiceField(
        label=_("Endpoint"),
        choices=endpoint_choices,
        help_text=_(
            "Where Pushdeck sends its calls. The sandbox answers like the provider "
            "without reaching a real phone."
        ),
    )
    custom_endpoint = forms.URLField(
        label=_("Custom endpoint URL"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_("Only with “Custom URL”: an https:// address, such as a private gateway."),
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    access_key_secret = forms.CharField(
        label=_("AccessKey secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = MobileApp
        fields = [
            "name",
            "provider",
            "endpoint",
            *MPAAS_ID_FIELDS,
            *EMAS_APP_KEY_FIELDS,
            "access_key_id",
            "signature_version",
            "rate_limit",
            "time_zone",
            "quiet_hours_start",
            "quiet_hours_end",
            "quiet_hours_zone",
            "test_targets",
            "approval_policy",
            "is_active",
        ]
        labels = {
            "mpaas_app_id": _("mPaaS appId"),
            "mpaas_workspace_id": _("mPaaS workspaceId"),
            "mpaas_tenant_id": _("mPaaS tenantId"),
            "emas_app_key_android": _("AppKey for Android"),
            "emas_app_key_ios": _("AppKey for iOS"),
            "emas_app_key_harmony": _("AppKey for HarmonyOS"),
            "access_key_id": _("AccessKey ID"),
            "rate_limit": _("Rate limit (calls per second)"),
            "is_active": _("Active: campaigns may use this app"),
        }
        help_texts = {
            "mpaas_app_id": _("From the mPaaS console, such as ONEX570DA89211721."),
            "mpaas_workspace_id": _("The workspace of the app, such as default or test."),
            "mpaas_tenant_id": _("Only when your mPaaS instance has several tenants."),
            "access_key_id": _("The AccessKey of a RAM user allowed to call push."),
            "signature_version": _(
                "V3 is what the official SDKs use; V1 only for a gateway that asks for it."
            ),
            "time_zone": _("A zone name such as Asia/Shanghai: schedules and quiet hours use it."),
            "test_targets": _("Device or user IDs that receive test sends, one per line."),
        }
        field_classes = {"test_targets": OneIdPerLineField}
        widgets = {
            "time_zone": forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "test_targets": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = self.instance.pk is None
        stored = self.instance.endpoint
        if not self.creating and stored not in _known_endpoints():
            self.initial["endpoint"] = CUSTOM_ENDPOINT
            self.initial["custom_endpoint"] = stored
        # The model's labels run long for a select of the form's width.
        self.fields["signature_version"].choices = SIGNATURE_CHOICES  # type: ignore[attr-defined]
        rate = self.fields["rate_limit"]
        rate.validators += [MinValueValidator(1), MaxValueValidator(RATE_LIMIT_MAX)]
        rate.widget.attrs.update(min=1, max=RATE_LIMIT_MAX)
        secret = self.fields["access_key_secret"]
        if self.creating:
            secret.required = True
            secret.help_text = _(
                "Stored encrypted. It is never shown again, only its last four characters."
            )
        else:
            secret.help_text = _(
                "Leave blank to keep the stored secret (%(masked)s); type a new one to replace it."
            ) % {"masked": escape(self.instance.masked_secret)}

    @property
    def fieldsets(self) -> list[Fieldset]:
        def pick(*names: str) -> list[BoundField]:
            return [self[name] for name in names]

        return [
            Fieldset(
                "app",
                _("App"),
                pick("name", "provider", "endpoint", "custom_endpoint", "is_active"),
            ),
            Fieldset(
                "mpaas",
                _("mPaaS app"),
                pick(*MPAAS_ID_FIELDS),
                _("The appId and workspaceId are required for an mPaaS app."),
                MobileApp.Provider.MPAAS,
            ),
            Fieldset(
                "emas",
                _("EMAS AppKeys"),
                pick(*EMAS_APP_KEY_FIELDS),
                _("An EMAS app has one AppKey per platform: give at least one, digits only."),
                MobileApp.Provider.EMAS,
            ),
            Fieldset(
                "keys",
                _("AccessKey"),
                pick("access_key_id", "access_key_secret", "signature_version"),
            ),
            Fieldset("sending", _("Sending"), pick("rate_limit", "time_zone", "approval_policy")),
            Fieldset(
                "quiet-hours",
                _("Quiet hours"),
                pick("quiet_hours_start", "quiet_hours_end", "quiet_hours_zone"),
                _(
                    "A daily window in which nothing is sent, such as 22:00 to 08:00: give "
                    "both ends or neither."
                ),
            ),
            Fieldset("test-sends", _("Test sends"), pick("test_targets")),
        ]

    def clean_access_key_secret(self) -> Secret | None:
        value: str = self.cleaned_data.get("access_key_secret") or ""
        return Secret(value) if value else None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        provider = cleaned.get("provider")
        self._clean_endpoint(cleaned, provider)
        if provider == MobileApp.Provider.MPAAS:
            self._clean_mpaas_ids(cleaned)
        elif provider == MobileApp.Provider.EMAS:
            self._clean_emas_app_keys(cleaned)
        self._clean_quiet_hours(cleaned)
        return cleaned

    def _clean_endpoint(self, cleaned: dict[str, Any], provider: str | None) -> None:
        choice = cleaned.get("endpoint")
        if choice == CUSTOM_ENDPOINT:
            url = cleaned.get("custom_endpoint") or ""
            if not url:
                self.add_error("custom_endpoint", _("Give the custom endpoint's https:// URL."))
                return
            try:
                URLValidator(schemes=["https"])(url)
            except forms.ValidationError:
                self.add_error("custom_endpoint", _("A custom endpoint must be an https:// URL."))
                return
            cleaned["endpoint"] = url
            return
        cleaned["custom_endpoint"] = ""
        regions = {
            MobileApp.Provider.MPAAS: MPAAS_REGION_ENDPOINTS,
            MobileApp.Provider.EMAS: EMAS_REGION_ENDPOINTS,
        }
        other = {url for key, hosts in regions.items() if key != provider for url in hosts.values()}
        if provider and choice in other:
            self.add_error(
                "endpoint",
                _("%(url)s serves another provider; choose a region of %(provider)s.")
                % {"url": choice, "provider": MobileApp.Provider(provider).label},
            )

    def _clean_mpaas_ids(self, cleaned: dict[str, Any]) -> None:
        required = {
            "mpaas_app_id": _("An mPaaS app needs its appId."),
            "mpaas_workspace_id": _("An mPaaS app needs its workspaceId."),
        }
        for name, message in required.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)

    def _clean_emas_app_keys(self, cleaned: dict[str, Any]) -> None:
        keys = {name: (cleaned.get(name) or "").strip() for name in EMAS_APP_KEY_FIELDS}
        for name, key in keys.items():
            if key and not APP_KEY.fullmatch(key):
                self.add_error(name, _("An AppKey is digits only, such as 23267207."))
            cleaned[name] = key
        if not any(keys.values()) and not self.has_error("emas_app_key_android"):
            self.add_error(
                "emas_app_key_android",
                _("An EMAS app needs at least one AppKey: Android, iOS or HarmonyOS."),
            )

    def _clean_quiet_hours(self, cleaned: dict[str, Any]) -> None:
        start, end = cleaned.get("quiet_hours_start"), cleaned.get("quiet_hours_end")
        if self.has_error("quiet_hours_start") or self.has_error("quiet_hours_end"):
            return
        if (start is None) != (end is None):
            missing = "quiet_hours_end" if end is None else "quiet_hours_start"
            self.add_error(missing, _("Give both ends of the quiet hours, or neither."))
        elif start is not None and start == end:
            self.add_error(
                "quiet_hours_end", _("The quiet hours must end at another time than they start.")
            )

    def save(self, commit: bool = True) -> MobileApp:
        app = super().save(commit=False)
        secret = self.cleaned_data.get("access_key_secret")
        if secret:
            app.access_key_secret = secret
        if commit:
            app.save()
        return app


def _known_endpoints() -> set[str]:
    return {SANDBOX_ENDPOINT, *MPAAS_REGION_ENDPOINTS.values(), *EMAS_REGION_ENDPOINTS.values()}


class MobileAppFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped package
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name"))
    provider = django_filters.ChoiceFilter(
        choices=MobileApp.Provider.choices, label=_("Provider"), empty_label=_("All providers")
    )
    active = django_filters.ChoiceFilter(
        method="filter_active",
        label=_("Status"),
        empty_label=_("Active and inactive"),
        choices=[("yes", _("Active")), ("no", _("Inactive"))],
    )
    order = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("Name"),
        fields=(("name", "name"), ("provider", "provider"), ("updated_at", "updated")),
        field_labels={
            "name": _("Name (A to Z)"),
            "-name": _("Name (Z to A)"),
            "provider": _("Provider (A to Z)"),
            "-provider": _("Provider (Z to A)"),
            "updated": _("Last changed (oldest first)"),
            "-updated": _("Last changed (newest first)"),
        },
    )

    class Meta:
        model = MobileApp
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = _("Part of a name")

    def filter_active(
        self, queryset: QuerySet[MobileApp], name: str, value: str
    ) -> QuerySet[MobileApp]:
        return queryset.filter(is_active=value == "yes")
