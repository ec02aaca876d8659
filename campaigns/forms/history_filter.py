"""The filters of the campaign history: app, provider, kind, status, owner, and when the
campaign first went out (a date range, or a month)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaigns.forms.campaigns_list import start_of, valid_values
from campaigns.models import Campaign, MobileApp

OWNER_MAX_CHARS = 150  # a username's length


def month_of(text: str) -> date:
    """The first day of the month "YYYY-MM"; ValueError when it is not one."""
    year, month = text.split("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(text)
    return date(int(year), int(month), 1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return month_of(text)
        except ValueError:
            raise ValidationError(
                _("Give the month as year and month, for example 2026-05."), code="invalid"
            ) from None


class MonthFilter(django_filters.Filter):  # type: ignore[misc]  # untyped library
    field_class = MonthField


class HistoryFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped library
    # App choices are read once in __init__ and checked in memory; the owner is typed (a
    # user list would cost the page a query).
    app = django_filters.ChoiceFilter(label=_("App"), empty_label=_("All apps"))
    provider = django_filters.ChoiceFilter(
        field_name="app__provider",
        choices=MobileApp.Provider.choices,
        label=_("Provider"),
        empty_label=_("Both providers"),
    )
    kind = django_filters.ChoiceFilter(
        choices=Campaign.Kind.choices, label=_("Kind"), empty_label=_("All kinds")
    )
    status = django_filters.ChoiceFilter(
        choices=Campaign.Status.choices, label=_("Status"), empty_label=_("Any status")
    )
    owner = django_filters.CharFilter(
        field_name="created_by__username",
        lookup_expr="iexact",
        label=_("Owner (username)"),
        max_length=OWNER_MAX_CHARS,
    )
    month = MonthFilter(method="in_month", label=_("Month"))
    sent_from = django_filters.DateFilter(
        method="sent_since", label=_("Sent from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sent_to = django_filters.DateFilter(
        method="sent_until", label=_("Sent until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Campaign
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.apps = list(MobileApp.objects.only("name", "provider").order_by("name"))
        self.filters["app"].extra["choices"] = [(app.pk, app.name) for app in self.apps]
        self.form.label_suffix = ""

    def valid_values(self) -> dict[str, Any]:
        return valid_values(self)

    @property
    def is_narrowed(self) -> bool:
        return any(self.valid_values().values())

    def period(self) -> tuple[date | None, date | None]:
        """The days the filters keep (first, day after the last), either end open."""
        values = self.valid_values()
        first: date | None = values.get("sent_from")
        end: date | None = values["sent_to"] + timedelta(days=1) if values.get("sent_to") else None
        if month := values.get("month"):
            first = max(first, month) if first else month
            end = min(end, next_month(month)) if end else next_month(month)
        return first, end

    def in_month(self, queryset: QuerySet[Campaign], name: str, value: date) -> QuerySet[Campaign]:
        return queryset.filter(
            first_sent_at__gte=start_of(value), first_sent_at__lt=start_of(next_month(value))
        )

    def sent_since(
        self, queryset: QuerySet[Campaign], name: str, value: date
    ) -> QuerySet[Campaign]:
        return queryset.filter(first_sent_at__gte=start_of(value))

    def sent_until(
        self, queryset: QuerySet[Campaign], name: str, value: date
    ) -> QuerySet[Campaign]:
        return queryset.filter(first_sent_at__lt=start_of(value + timedelta(days=1)))
