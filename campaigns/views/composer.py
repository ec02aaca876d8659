"""The campaign composer: choose an app and a kind, then compose, preview as you type, send a
test and save the draft. Approval and scheduling are on the campaign page
(``campaign_workflow``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import send_calendar
from campaigns.audit import form_changes, record
from campaigns.campaign_preview import build_campaign_preview
from campaigns.campaign_requests import form_field_of
from campaigns.forms.composer import CampaignForm
from campaigns.models import Campaign, MobileApp, User
from campaigns.providers.errors import RequestInvalid
from campaigns.trial_send import send_trial, trial_requests
from campaigns.views import HtmxHttpRequest

COMPOSE = "campaigns.compose_campaign"
SEND = "campaigns.send_campaign"
FORM_TEMPLATE = "campaigns/campaign_form.html"


def _kinds_for(app: MobileApp) -> tuple[Campaign.Kind, ...]:
    return Campaign.EMAS_KINDS if app.provider == MobileApp.Provider.EMAS else Campaign.MPAAS_KINDS


def _chosen(data: Any) -> tuple[MobileApp, str] | None:
    """The app and kind the composer was opened for, when both are valid together."""
    app_id, kind = str(data.get("app") or ""), str(data.get("kind") or "")
    app = MobileApp.objects.filter(pk=app_id, is_active=True).first() if app_id.isdigit() else None
    if app is None or kind not in _kinds_for(app):
        return None
    return app, kind


def _day_send_time(request: HttpRequest) -> datetime | None:
    """When the campaign goes if the composer was opened from a calendar day (``send_on``,
    YYYY-MM-DD): that day at 09:00 in the user's zone, or its next whole hour once 09:00 has
    passed; None for no day, or one that is over (``send_calendar.send_time_on``)."""
    day = send_calendar.parse_day(request.GET.get("send_on"))
    if day is None:
        return None
    zone = timezone.get_current_timezone()
    return send_calendar.send_time_on(day, zone=zone, now=timezone.now())


def _editable(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("app", "audience", "template"), pk=pk)


def _form_page(request: HtmxHttpRequest, form: CampaignForm, **extra: Any) -> HttpResponse:
    campaign = form.instance
    context = {
        "form": form,
        "campaign": campaign if campaign.pk else None,
        "app": form.app,
        "kind": form.kind,
        "kind_label": Campaign.Kind(form.kind).label,
        "preview": build_campaign_preview(campaign, now=form.now),
        **extra,
    }
    template = f"{FORM_TEMPLATE}#composer" if request.htmx else FORM_TEMPLATE
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def campaign_create(request: HtmxHttpRequest) -> HttpResponse:
    chosen = _chosen(request.POST if request.method == "POST" else request.GET)
    if chosen is None:
        apps = MobileApp.objects.filter(is_active=True).order_by("name")
        picked = request.GET
        mismatch = bool(picked.get("app") and picked.get("kind"))
        context = {
            "apps": apps,
            "kinds": Campaign.Kind.choices,
            "picked": picked,
            "send_on": picked.get("send_on") if _day_send_time(request) else "",
            "mismatch": _("mPaaS apps send the four mPaaS kinds; EMAS apps send EMAS pushes.")
            if mismatch
            else "",
        }
        return render(request, "campaigns/campaign_kind.html", context)
    app, kind = chosen
    form = CampaignForm(request.POST or None, app=app, kind=kind)
    if request.method == "GET" and (moment := _day_send_time(request)):
        form.start_at(moment)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        with transaction.atomic():
            campaign = form.save(commit=False)
            campaign.created_by = campaign.changed_by = request.user
            campaign.save()
            record(request, "create", campaign, {"kind": [None, kind], "app": [None, app.name]})
        messages.success(request, _("Draft “%(name)s” saved.") % {"name": campaign.name})
        return redirect("campaign_detail", pk=campaign.pk)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def campaign_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = _editable(pk)
    if not campaign.is_editable:
        messages.error(
            request,
            _(
                "A campaign can be changed only as a draft or while it waits for approval; "
                "unschedule it first."
            ),
        )
        return redirect("campaign_detail", pk=pk)
    form = CampaignForm(
        request.POST or None, instance=campaign, app=campaign.app, kind=campaign.kind
    )
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().get(pk=pk)
            if not locked.is_editable:
                messages.error(request, _("Someone scheduled this campaign meanwhile."))
                return redirect("campaign_detail", pk=pk)
            changed = form_changes(form)
            changed.pop("test_targets", None)
            campaign = form.save(commit=False)
            campaign.changed_by = request.user
            campaign.save()
            record(request, "change", campaign, changed)
        messages.success(request, _("Changes to “%(name)s” saved.") % {"name": campaign.name})
        return redirect("campaign_detail", pk=pk)
    return _form_page(request, form)


def _bound_form(request: HttpRequest) -> CampaignForm | None:
    """The composer's form as the page holds it now (preview and test send)."""
    pk = str(request.POST.get("campaign") or "")
    if pk.isdigit():
        campaign = _editable(int(pk))
        return CampaignForm(request.POST, instance=campaign, app=campaign.app, kind=campaign.kind)
    chosen = _chosen(request.POST)
    if chosen is None:
        return None
    return CampaignForm(request.POST, app=chosen[0], kind=chosen[1])


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def campaign_preview(request: HttpRequest) -> HttpResponse:
    form = _bound_form(request)
    if form is None:
        return HttpResponse(status=400)
    form.is_valid()  # puts what was typed on the unsaved campaign; errors wait for Save
    if request.POST.get("refresh") == "values":  # another template: its placeholders' inputs
        context = {"form": form, "kind": form.kind}
        return render(request, f"{FORM_TEMPLATE}#values", context)
    context = {"preview": build_campaign_preview(form.instance, now=form.now), "app": form.app}
    return render(request, "campaigns/_campaign_preview.html#output", context)


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_test_send(request: HtmxHttpRequest) -> HttpResponse:
    form = _bound_form(request)
    if form is None:
        return HttpResponse(status=400)
    results = None
    if form.is_valid():
        targets = form.test_target_list()
        if not targets:
            form.add_error("test_targets", _("Give at least one test target."))
        else:
            try:
                requests = trial_requests(form.instance, targets, now=timezone.now())
            except RequestInvalid as refused:
                for error in refused.errors:
                    field = form_field_of(error.field, form.kind)
                    form.add_error(
                        "test_targets" if field == "audience" else field,
                        error.message,
                    )
            else:
                results = send_trial(form.instance, requests)
                campaign = form.instance
                record(
                    request,
                    "test_send",
                    campaign if campaign.pk else campaign.app,
                    {
                        "campaign": [None, form.instance.name],
                        "targets": [None, targets],
                        "request_ids": [None, [result.request_id for result in results]],
                    },
                )
    return _form_page(request, form, test_results=results, test_tried=True)
