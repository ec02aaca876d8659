"""Audiences: the list, create and edit (the fields follow the kind), the detail page with
its members by keyset pages, archive, restore and delete.

Everyone with the console reads audiences and their members; those who compose campaigns
change them. Importing members is in ``audience_imports``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.audit import form_changes, record
from campaigns.forms.audiences import AudienceFilter, AudienceForm
from campaigns.member_pages import member_page
from campaigns.models import Audience, AudienceImport, MobileApp
from campaigns.views import HtmxHttpRequest

PAGE_SIZE = 25
RECENT_IMPORTS = 5
VIEW = "campaigns.view_console"
COMPOSE = "campaigns.compose_campaign"


def _audience(pk: int) -> Audience:
    return get_object_or_404(Audience.objects.select_related("app", "owner", "template"), pk=pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
def audience_list(request: HttpRequest) -> HttpResponse:
    audiences = Audience.objects.select_related("app", "owner")
    filters = AudienceFilter(request.GET, queryset=audiences)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filters, "page": page}
    if not page.object_list:
        context["has_audiences"] = Audience.objects.exists()
        context["has_apps"] = MobileApp.objects.exists()
    return render(request, "campaigns/audience_list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def audience_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx and request.method == "GET":
        # The app or kind changed: the fields that depend on them, for what is chosen now.
        form = AudienceForm(initial=request.GET.dict())
        return render(request, "campaigns/audience_form.html#kind_fields", {"form": form})
    initial = {"owner": request.user.pk, "app": request.GET.get("app")}
    form = AudienceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            audience = form.save()
            record(request, "create", audience, form_changes(form))
        messages.success(request, _("Audience “%(name)s” created.") % {"name": audience.name})
        return redirect("audience_detail", pk=audience.pk)
    return render(request, "campaigns/audience_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def audience_edit(request: HttpRequest, pk: int) -> HttpResponse:
    audience = _audience(pk)
    form = AudienceForm(request.POST or None, instance=audience)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            with transaction.atomic():
                form.save()
                record(request, "change", audience, form_changes(form))
            messages.success(request, _("Audience saved."))
        else:
            messages.info(request, _("Nothing changed, so nothing was saved."))
        return redirect("audience_detail", pk=pk)
    return render(request, "campaigns/audience_form.html", {"form": form, "audience": audience})


@require_GET
@permission_required(VIEW, raise_exception=True)
def audience_detail(request: HttpRequest, pk: int) -> HttpResponse:
    audience = _audience(pk)
    search = request.GET.get("q", "").strip()
    context = {
        "audience": audience,
        "search": search,
        "imports": audience.imports.select_related("created_by")[:RECENT_IMPORTS],
    }
    if audience.is_listed:
        after, before = request.GET.get("after"), request.GET.get("before")
        context["members"] = member_page(audience, after=after, before=before, search=search)
    return render(request, "campaigns/audience_detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def audience_archive(request: HttpRequest, pk: int) -> HttpResponse:
    audience = _audience(pk)
    if request.method == "POST" and not audience.is_archived:
        audience.is_archived = True
        audience.save(update_fields=["is_archived", "updated_at"])
        record(request, "archive", audience, {"is_archived": [False, True]})
        messages.success(
            request,
            _("Audience “%(name)s” archived: it can no longer be chosen for new campaigns.")
            % {"name": audience.name},
        )
        return redirect("audience_list")
    return render(request, "campaigns/audience_confirm.html", _confirm(audience, "archive"))


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def audience_restore(request: HttpRequest, pk: int) -> HttpResponse:
    audience = _audience(pk)
    if audience.is_archived:
        audience.is_archived = False
        audience.save(update_fields=["is_archived", "updated_at"])
        record(request, "restore", audience, {"is_archived": [True, False]})
        messages.success(request, _("Audience restored: it can be chosen again."))
    return redirect("audience_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def audience_delete(request: HttpRequest, pk: int) -> HttpResponse:
    audience = _audience(pk)
    context = _confirm(audience, "delete")
    if request.method == "POST" and not context["importing"] and not context["campaigns"]:
        with transaction.atomic():
            record(
                request,
                "delete",
                audience,
                {"name": [audience.name, None], "member_count": [audience.member_count, None]},
            )
            audience.delete()
        messages.success(request, _("Audience “%(name)s” deleted.") % {"name": audience.name})
        return redirect("audience_list")
    return render(request, "campaigns/audience_confirm.html", context)


CAMPAIGNS_SHOWN = 10  # of the campaigns that keep an audience from being deleted


def _confirm(audience: Audience, action: str) -> dict[str, object]:
    importing = audience.imports.exclude(status__in=AudienceImport.FINISHED).exists()
    campaigns = list(audience.campaigns.order_by("-created_at").only("name")[:CAMPAIGNS_SHOWN])
    return {"audience": audience, "action": action, "importing": importing, "campaigns": campaigns}
