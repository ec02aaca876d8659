"""Message templates: the create/edit form (with its rules and version history), and the
filters of the template list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import MessageTemplate, MobileApp, User
from campaigns.models.templates import MessageTemplateQuerySet

CONTENT_FIELDS = ("title", "body")  # a change to these is a new version
STORE_FIELDS = ("name", "title", "body")  # a change to these leaves the store's copy behind

if TYPE_CHECKING:
    TemplateModelForm = forms.ModelForm[MessageTemplate]
else:  # ModelForm is generic only in django-stubs
    TemplateModelForm = forms.ModelForm


class MessageTemplateForm(TemplateModelForm):
    """A template's app (chosen once), name, title and body.

    ``based_on_version`` is the version the editor started from: saving over a newer one
    would silently undo someone else's change, so the form refuses it instead."""

    based_on_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = MessageTemplate
        fields = ["app", "name", "title", "body"]
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
            "body": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "name": _("How campaigns and the provider's template store know it; unique per app."),
            "title": _("Use #name# for a value filled in per recipient, e.g. Hello #name#."),
            "body": _("Placeholders work here too: Congratulations #name# on winning #money#."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["app"].queryset = MobileApp.objects.filter(is_active=True)
            del self.fields["based_on_version"]
        else:
            # A template stays with its app: its store copy and its audiences are there.
            del self.fields["app"]
            self.fields["based_on_version"].initial = self.instance.version

    @property
    def app(self) -> MobileApp | None:
        if self.instance.pk is not None:
            return self.instance.app
        app: MobileApp | None = self.cleaned_data.get("app")
        return app

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        name, app = cleaned.get("name"), self.app
        if name and app is not None:
            if app.provider == MobileApp.Provider.MPAAS and "," in name:
                self.add_error(
                    "name",
                    _("An mPaaS template name cannot contain commas; use a dash or a space."),
                )
            elif (
                MessageTemplate.objects.filter(app=app, name=name)
                .exclude(pk=self.instance.pk)
                .exists()
            ):
                self.add_error(
                    "name",
                    _("%(app)s already has a template named “%(name)s”; choose another name.")
                    % {"app": app, "name": name},
                )
        based_on = cleaned.get("based_on_version")
        if self.instance.pk is not None and based_on not in (None, self.instance.version):
            raise forms.ValidationError(
                _(
                    "Someone saved this template (now version %(version)d) while you were "
                    "editing version %(based_on)d. Nothing was saved: review the current "
                    "text and make your change again."
                )
                % {"version": self.instance.version, "based_on": based_on}
            )
        return cleaned

    def save_as(self, user: User) -> MessageTemplate:
        """Save, as ``user``: a new template is version 1, and each change of title or body
        is the next version, kept in the history."""
        template = super().save(commit=False)
        creating = template.pk is None
        changed = set(self.changed_data)
        new_version = creating or bool(changed & set(CONTENT_FIELDS))
        if creating:
            template.created_by = user
            template.version = 1
        elif new_version:
            template.version += 1
        if template.sync_state == MessageTemplate.SyncState.SYNCED and changed & set(STORE_FIELDS):
            template.sync_state = MessageTemplate.SyncState.OUTDATED
        template.save()
        if new_version:
            template.versions.create(
                number=template.version, title=template.title, body=template.body, created_by=user
            )
        return template


class MessageTemplateFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped library
    q = django_filters.CharFilter(method="search", label=_("Search"))
    app = django_filters.ModelChoiceFilter(
        queryset=MobileApp.objects.all(), label=_("App"), empty_label=_("All apps")
    )
    archived = django_filters.BooleanFilter(
        method="show_archived", label=_("Show archived"), widget=forms.CheckboxInput
    )
    order = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("App, then name"),
        fields=(
            ("name", "name"),
            ("updated_at", "updated"),
            ("version", "version"),
        ),
        field_labels={
            "name": _("Name"),
            "-name": _("Name (Z to A)"),
            "updated_at": _("Last changed (oldest first)"),
            "-updated": _("Last changed (newest first)"),
            "version": _("Version (lowest first)"),
            "-version": _("Version (highest first)"),
        },
    )

    class Meta:
        model = MessageTemplate
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form.label_suffix = ""
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = _("Name or title")

    def search(self, queryset: MessageTemplateQuerySet, name: str, value: str) -> Any:
        return queryset.filter(Q(name__icontains=value) | Q(title__icontains=value))

    def show_archived(self, queryset: MessageTemplateQuerySet, name: str, value: bool) -> Any:
        return queryset if value else queryset.usable()
