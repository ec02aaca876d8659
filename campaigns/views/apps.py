"""Apps and their credentials: the list, create and edit, the detail page with "Test
connection" and the app's history, delete (or deactivate when something uses the app).

Admins only (``manage_credentials``). The AccessKey secret arrives in POSTs and never
leaves: the views that receive it keep it out of error reports, and pages show only
``app.masked_secret``.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from campaigns.app_history import app_history
from campaigns.audit import Changes, form_changes, record
from campaigns.connection_check import check_connection
from campaigns.forms.apps import MobileAppFilter, MobileAppForm
from campaigns.models import MobileApp, User
from campaigns.views import HtmxHttpRequest

MANAGE = "campaigns.manage_credentials"
SECRET_FIELDS = ["access_key_secret"]
PAGE_SIZE = 25
FILTERS = ("q", "provider", "active")
TESTED_EVENT = "app-tested"  # tells the history on the page to refresh


@require_GET
@vary_on_headers("HX-Request")  # the same URL answers a page or, to htmx, its table
@permission_required(MANAGE, raise_exception=True)
def app_list(request: HtmxHttpRequest) -> HttpResponse:
    # The list never shows a secret, so it never decrypts one.
    apps = MobileApp.objects.defer("access_key_secret")
    filters = MobileAppFilter(request.GET, queryset=apps)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": filters,
        "page": page,
        "is_filtered": any(request.GET.get(name) for name in FILTERS),
    }
    part = "#app_table" if request.htmx.target == "app-table" else ""
    return render(request, f"campaigns/app_list.html{part}", context)


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _form_page(request: HttpRequest, form: MobileAppForm) -> HttpResponse:
    context = {
        "form": form,
        "app": None if form.creating else form.instance,
        # The name as saved: a refused POST has already put the typed one on the instance.
        "saved_name": form.initial.get("name", ""),
        "time_zones": _zone_names(),
    }
    return render(request, "campaigns/app_form.html", context)


@sensitive_post_parameters(*SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def app_create(request: HttpRequest) -> HttpResponse:
    form = MobileAppForm(request.POST or None)
    if not (form.is_bound and form.is_valid()):
        return _form_page(request, form)
    assert isinstance(request.user, User)
    with transaction.atomic():
        app = form.save(commit=False)
        app.created_by = request.user
        app.save()
        record(request, "created", app, form_changes(form, secret_fields=SECRET_FIELDS))
    messages.success(
        request,
        _("%(name)s is registered. Test its connection to be sure the keys work.")
        % {"name": app.name},
    )
    return redirect("app_detail", pk=app.pk)


@sensitive_post_parameters(*SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def app_edit(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(MobileApp, pk=pk)
    form = MobileAppForm(request.POST or None, instance=app)
    if not (form.is_bound and form.is_valid()):
        return _form_page(request, form)
    if form.has_changed():
        with transaction.atomic():
            form.save()
            record(request, "changed", app, form_changes(form, secret_fields=SECRET_FIELDS))
        messages.success(request, _("Your changes to %(name)s are saved.") % {"name": app.name})
    else:
        messages.info(request, _("Nothing was changed."))
    return redirect("app_detail", pk=app.pk)


def _detail_context(app: MobileApp, **extra: Any) -> dict[str, Any]:
    return {
        "app": app,
        "template_count": app.templates.count(),
        "audience_count": app.audiences.count(),
        "campaign_count": app.campaigns.count(),
        "history": app_history(app),
        **extra,
    }


@require_GET
@permission_required(MANAGE, raise_exception=True)
def app_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(MobileApp, pk=pk)
    if request.htmx.target == "app-history":
        context = {"app": app, "history": app_history(app)}
        return render(request, "campaigns/app_detail.html#history", context)
    return render(request, "campaigns/app_detail.html", _detail_context(app))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def app_test_connection(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One harmless signed call, made in this request; the result in words."""
    app = get_object_or_404(MobileApp, pk=pk)
    result = check_connection(app)
    outcome: Changes = {"ok": [None, result.ok], "code": [None, result.code]}
    if result.request_id:
        outcome["request_id"] = [None, result.request_id]
    record(request, "tested", app, outcome)
    if request.htmx:
        response = render(
            request, "campaigns/app_detail.html#connection_result", {"connection": result}
        )
        return trigger_client_event(response, TESTED_EVENT)
    return render(request, "campaigns/app_detail.html", _detail_context(app, connection=result))


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def app_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page; an app that templates or audiences use is deactivated instead."""
    app = get_object_or_404(MobileApp, pk=pk)
    context = _detail_context(app)
    in_use = context["template_count"] or context["audience_count"] or context["campaign_count"]
    if request.method == "POST" and not in_use:
        name = app.name
        try:
            with transaction.atomic():
                record(request, "deleted", app)
                app.delete()
        except ProtectedError:
            pass  # something started using it since the page was shown: say so below
        else:
            messages.success(request, _("%(name)s is deleted.") % {"name": name})
            return redirect("app_list")
        context = _detail_context(app)
    return render(request, "campaigns/app_confirm_delete.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def app_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Campaigns can no longer use the app; its templates, audiences and history stay."""
    app = get_object_or_404(MobileApp, pk=pk)
    if app.is_active:
        with transaction.atomic():
            app.is_active = False
            app.save(update_fields=["is_active", "updated_at"])
            record(request, "deactivated", app, {"is_active": [True, False]})
        messages.success(
            request, _("%(name)s is deactivated: no campaign can use it.") % {"name": app.name}
        )
    else:
        messages.info(request, _("%(name)s was already inactive.") % {"name": app.name})
    return redirect("app_detail", pk=app.pk)
