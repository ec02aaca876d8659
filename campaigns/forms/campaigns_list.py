"""The filters of the campaign list: app, status, kind, owner, created between two dates,
part of the name, and the order (``campaign_pages.SORTS``) its keyset pages follow."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.campaign_pages import NEWEST, SORTS, Sort
from campaigns.models import Campaign, MobileApp, User

SEARCH_MAX_CHARS = 200  # a campaign name's length


def start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the viewer's time zone, so that "created on
    3 May" means the viewer's 3 May and the bound stays a plain range on the index."""
    return timezone.make_aware(datetime.combine(day, time.min))


def valid_values(filters: django_filters.FilterSet) -> dict[str, Any]:
    """The values a filter form holds that are valid: one in error leaves out only itself."""
    if not filters.is_bound:
        return {}
    filters.form.is_valid()
    values: dict[str, Any] = filters.form.cleaned_data
    return values


class CampaignFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped library
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=SEARCH_MAX_CHARS)
    # App and owner choices are read once in __init__ and checked against in memory: a
    # ModelChoiceFilter would query again to validate the chosen one.
    app = django_filters.ChoiceFilter(label=_("App"), empty_label=_("All apps"))
    status = django_filters.ChoiceFilter(
        choices=Campaign.Status.choices, label=_("Status"), empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(
        choices=Campaign.Kind.choices, label=_("Kind"), empty_label=_("All kinds")
    )
    owner = django_filters.ChoiceFilter(
        field_name="created_by", label=_("Owner"), empty_label=_("Anyone")
    )
    created_from = django_filters.DateFilter(
        method="created_since",
        label=_("Created from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        method="created_until",
        label=_("Created until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        method="order",
        choices=[(sort.key, sort.label) for sort in SORTS.values()],
        label=_("Sort by"),
        empty_label=None,
    )

    class Meta:
        model = Campaign
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only what the choices show: an app row also holds its encrypted secret.
        self.apps = list(MobileApp.objects.only("name").order_by("name"))
        owners = User.objects.only("username").order_by("username")
        self.filters["app"].extra["choices"] = [(app.pk, app.name) for app in self.apps]
        self.filters["owner"].extra["choices"] = [(u.pk, u.get_username()) for u in owners]
        self.form.label_suffix = ""
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = _("Part of the name")

    def _valid_values(self) -> dict[str, Any]:
        return valid_values(self)

    @property
    def chosen_sort(self) -> Sort:
        """The order the list is in; newest first unless a valid other one is chosen."""
        return SORTS.get(self._valid_values().get("sort") or "", NEWEST)

    @property
    def is_narrowed(self) -> bool:
        """Whether a filter leaves campaigns out (the order does not)."""
        return any(value for name, value in self._valid_values().items() if name != "sort")

    def search(self, queryset: QuerySet[Campaign], name: str, value: str) -> QuerySet[Campaign]:
        return queryset.filter(name__icontains=value)

    def created_since(
        self, queryset: QuerySet[Campaign], name: str, value: date
    ) -> QuerySet[Campaign]:
        return queryset.filter(created_at__gte=start_of(value))

    def created_until(
        self, queryset: QuerySet[Campaign], name: str, value: date
    ) -> QuerySet[Campaign]:
        return queryset.filter(created_at__lt=start_of(value + timedelta(days=1)))

    def order(self, queryset: QuerySet[Campaign], name: str, value: str) -> QuerySet[Campaign]:
        """``qs`` in the chosen order (the list's pages apply it again around their cursor)."""
        sort = SORTS[value]
        if sort.descending:
            return queryset.order_by(sort.expression.desc(), "-id")
        return queryset.order_by(sort.expression.asc(), "id")
