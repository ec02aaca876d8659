"""Audiences: the create/edit form (its fields depend on the kind), the import form (a
pasted list or an uploaded CSV, checked against a template), and the list's filters."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.audience_csv import (
    PASTED_HEADER,
    Header,
    HeaderError,
    header_of_upload,
    template_problems,
)
from campaigns.member_rules import KINDS_BY_PROVIDER
from campaigns.models import Audience, AudienceImport, MessageTemplate, MobileApp, User
from campaigns.providers.emas import is_tag_expression

if TYPE_CHECKING:
    AudienceModelForm = forms.ModelForm[Audience]
else:  # ModelForm is generic only in django-stubs
    AudienceModelForm = forms.ModelForm

# Which of the kind-specific fields each kind shows (and requires).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Audience.Kind.DEVICES: ("platform",),
    Audience.Kind.BROADCAST: ("platform", "bind_status", "bind_period"),
    Audience.Kind.TAGS: ("tag_expression",),
}
KIND_SPECIFIC = ("platform", "tag_expression", "bind_status", "bind_period")
PROMPTED_CHOICES: dict[str, tuple[str | Promise, list[tuple[Any, Any]]]] = {
    "platform": (_("Choose a platform"), Audience.Platform.choices),
    "bind_status": (_("Choose which devices"), Audience.BindStatus.choices),
    "bind_period": (_("Choose a period"), Audience.Period.choices),
}
UPLOAD_MAX_BYTES = 1024**3  # 1 GiB: some 20 million members with two values each
PASTE_MAX_LINES = 100_000  # a larger list is a CSV upload


class AudienceForm(AudienceModelForm):
    """An audience's app and kind (chosen once), name, the kind's own fields, owner."""

    class Meta:
        model = Audience
        fields = ["app", "name", "kind", *KIND_SPECIFIC, "description", "owner"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "tag_expression": forms.TextInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {
            "kind": _("Who the audience reaches; the app's provider decides which kinds exist."),
            "platform": _("The devices' platform: each push goes to one platform's devices."),
            "tag_expression": _(
                'One tag, e.g. vip, or an expression such as {"and": [{"tag": "vip"}, '
                '{"not": {"tag": "churned"}}]}.'
            ),
            "bind_status": _("Which devices of the platform the broadcast reaches."),
            "bind_period": _(
                "For devices with a bound user, when it was bound; otherwise when it was "
                "unbound (PushBroadcast's bindPeriod and unBindPeriod)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        for name, (prompt, choices) in PROMPTED_CHOICES.items():
            cast(forms.ChoiceField, self.fields[name]).choices = [("", prompt), *choices]
        owner = cast(forms.ModelChoiceField, self.fields["owner"])  # type: ignore[type-arg]
        owner.queryset = User.objects.filter(is_active=True).order_by("username")
        owner.empty_label = _("No owner")
        if self.instance.pk is not None:
            # Members were imported for this app and kind: they stay as they are.
            del self.fields["app"], self.fields["kind"]
        else:
            self.fields["app"].queryset = MobileApp.objects.filter(is_active=True)
            self.fields["app"].empty_label = _("Choose an app")
            app = self.chosen_app
            allowed = KINDS_BY_PROVIDER[app.provider] if app else Audience.Kind.values
            self.fields["kind"].choices = [("", _("Choose a kind"))] + [
                (value, label) for value, label in Audience.Kind.choices if value in allowed
            ]
            # Another app brings its kinds, another kind its fields (htmx).
            refresh = {
                "hx-get": reverse("audience_create"),
                "hx-trigger": "change",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
            }
            self.fields["app"].widget.attrs.update(refresh, **{"hx-target": "#kind-fields"})
            self.fields["kind"].widget.attrs.update(
                refresh, **{"hx-target": "#kind-specific", "hx-select": "#kind-specific"}
            )

    @cached_property
    def chosen_app(self) -> MobileApp | None:
        """The app: the audience's, or the one the form holds now (also while unbound,
        when the page asks for the fields of another app or kind)."""
        if self.instance.pk is not None:
            return self.instance.app
        value = self.data.get("app") if self.is_bound else self.initial.get("app")
        if not str(value or "").isdigit():
            return None
        return self.fields["app"].queryset.filter(pk=str(value)).first()

    @property
    def chosen_kind(self) -> str:
        if self.instance.pk is not None:
            return self.instance.kind
        value = str((self.data.get("kind") if self.is_bound else self.initial.get("kind")) or "")
        app = self.chosen_app
        return value if app is None or value in KINDS_BY_PROVIDER[app.provider] else ""

    @property
    def lists_members(self) -> bool:
        return self.chosen_kind in Audience.LISTED

    @property
    def kind_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in KIND_FIELDS.get(self.chosen_kind, ())]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        app = self.instance.app if self.instance.pk else cleaned.get("app")
        kind = self.instance.kind if self.instance.pk else cleaned.get("kind")
        if app is None or not kind:
            return cleaned
        if kind not in KINDS_BY_PROVIDER[app.provider]:
            self.add_error(
                "kind",
                _("%(provider)s has no such audience.") % {"provider": app.get_provider_display()},
            )
        shown = KIND_FIELDS.get(kind, ())
        for name in KIND_SPECIFIC:
            if name not in shown:
                cleaned[name] = None if name in ("bind_status", "bind_period") else ""
            elif cleaned.get(name) in (None, ""):
                self.add_error(name, _("This kind of audience needs it."))
        expression = cleaned.get("tag_expression") or ""
        if kind == Audience.Kind.TAGS and expression and not is_tag_expression(expression):
            self.add_error(
                "tag_expression",
                _(
                    'Give a tag name (no commas), or an expression of {"tag": name}, '
                    '{"and": [...]}, {"or": [...]} and {"not": {...}}.'
                ),
            )
        audience_name = cleaned.get("name")
        taken = Audience.objects.filter(app=app, name=audience_name).exclude(pk=self.instance.pk)
        if audience_name and taken.exists():
            self.add_error(
                "name",
                _("%(app)s already has an audience named “%(name)s”; choose another name.")
                % {"app": app, "name": audience_name},
            )
        return cleaned


class AudienceImportForm(forms.Form):
    """Members from a pasted list or an uploaded CSV, checked here as far as the header
    goes; the rows are checked one by one when the import runs."""

    source = forms.FileField(
        label=_("Upload a CSV file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_(
            "UTF-8, comma-separated, with a header row: a target column; optional timezone "
            "(e.g. Asia/Shanghai) and extended_params (a JSON object) columns; every other "
            "column is a value for the template placeholder of the same name."
        ),
    )
    pasted = forms.CharField(
        label=_("Or paste targets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("One target per line, up to 100,000; for more, or for values, upload a CSV."),
    )
    mode = forms.ChoiceField(
        label=_("Members"),
        choices=AudienceImport.Mode.choices,
        initial=AudienceImport.Mode.APPEND,
        widget=forms.RadioSelect,
    )
    template = forms.ModelChoiceField(
        label=_("Check the values against a template"),
        queryset=MessageTemplate.objects.none(),
        required=False,
        empty_label=_("No template"),
        help_text=_("The file needs a column for each of its placeholders."),
    )

    def __init__(self, *args: Any, audience: Audience, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.audience = audience
        self.header: Header | None = None
        self.extra_columns: list[str] = []
        templates = MessageTemplate.objects.filter(app_id=audience.app_id, is_archived=False)
        template = cast(forms.ModelChoiceField, self.fields["template"])  # type: ignore[type-arg]
        template.queryset = templates.order_by("name")
        template.initial = audience.template_id

    def clean_pasted(self) -> str:
        text: str = self.cleaned_data["pasted"]
        if len(text.splitlines()) > PASTE_MAX_LINES:
            raise forms.ValidationError(
                _("At most %(limit)s lines can be pasted; upload a CSV file instead.")
                % {"limit": f"{PASTE_MAX_LINES:,}"}
            )
        return text

    def clean_source(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data["source"]
        if upload is None:
            return None
        if upload.size and upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("A file can have at most 1 GB; split it in parts."))
        try:
            self.header = header_of_upload(upload)  # the first line only
        except HeaderError as error:
            raise forms.ValidationError(str(error)) from None
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        pasted, upload = cleaned.get("pasted", "").strip(), cleaned.get("source")
        if "pasted" in self.errors or "source" in self.errors:
            return cleaned
        if bool(pasted) == bool(upload):
            raise forms.ValidationError(
                _("Paste a list of targets or upload a CSV file (one of the two).")
            )
        columns = self.header.value_columns if self.header else []
        template: MessageTemplate | None = cleaned.get("template")
        if template is not None:
            header = self.header or PASTED_HEADER
            missing, self.extra_columns = template_problems(header, template.placeholders)
            names = ", ".join(f"#{name}#" for name in missing)
            if missing and pasted:
                self.add_error(
                    "template",
                    _(
                        "A pasted list has no values, and “%(template)s” needs %(names)s: "
                        "upload a CSV with a column for each, or choose no template."
                    )
                    % {"template": template, "names": names},
                )
            elif missing:
                self.add_error(
                    "source",
                    _(
                        "The template “%(template)s” needs a value for %(names)s: add a "
                        "column for each."
                    )
                    % {"template": template, "names": names},
                )
        appending = cleaned.get("mode") == AudienceImport.Mode.APPEND
        if appending and self.audience.member_count and columns != self.audience.value_columns:
            self.add_error(
                "mode",
                _(
                    "The members have the value columns %(theirs)s and this file %(ours)s: "
                    "replace the members, or give the file the same columns."
                )
                % {
                    "theirs": ", ".join(self.audience.value_columns) or _("(none)"),
                    "ours": ", ".join(columns) or _("(none)"),
                },
            )
        return cleaned

    def save(self, user: User) -> AudienceImport:
        """The import, with its source saved (an upload is copied in chunks, never read
        whole); the caller enqueues it."""
        pasted: str = self.cleaned_data["pasted"].strip()
        upload: UploadedFile | None = self.cleaned_data["source"]
        audience_import = AudienceImport(
            audience=self.audience,
            mode=self.cleaned_data["mode"],
            pasted=bool(pasted),
            source_name="" if pasted else (upload.name or "") if upload else "",
            value_columns=self.header.value_columns if self.header else [],
            template=self.cleaned_data["template"],
            created_by=user,
        )
        content = ContentFile(pasted.encode()) if pasted else upload
        assert content is not None
        audience_import.source.save("pasted.txt" if pasted else "members.csv", content, save=False)
        audience_import.size_bytes = audience_import.source.size
        audience_import.save()
        return audience_import


class AudienceFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped library
    q = django_filters.CharFilter(method="search", label=_("Search"))
    app = django_filters.ModelChoiceFilter(
        queryset=MobileApp.objects.all(), label=_("App"), empty_label=_("All apps")
    )
    kind = django_filters.ChoiceFilter(
        choices=Audience.Kind.choices, label=_("Kind"), empty_label=_("All kinds")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("username"), label=_("Owner"), empty_label=_("Anyone")
    )
    archived = django_filters.BooleanFilter(
        method="show_archived", label=_("Show archived"), widget=forms.CheckboxInput
    )
    order = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("App, then name"),
        fields=(
            ("name", "name"),
            ("member_count", "members"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "name": _("Name"),
            "-name": _("Name (Z to A)"),
            "member_count": _("Members (fewest first)"),
            "-members": _("Members (most first)"),
            "updated_at": _("Last changed (oldest first)"),
            "-updated": _("Last changed (newest first)"),
        },
    )

    class Meta:
        model = Audience
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form.label_suffix = ""
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = _("Name or description")

    def search(self, queryset: QuerySet[Audience], name: str, value: str) -> QuerySet[Audience]:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def show_archived(
        self, queryset: QuerySet[Audience], name: str, value: bool
    ) -> QuerySet[Audience]:
        return queryset if value else queryset.filter(is_archived=False)
