"""The campaign's workflow on its page: submit for approval, approve or reject with a comment,
schedule, unschedule back to draft, duplicate; and the trail of what happened to it.

Every move is a POST that locks the campaign row, asks ``approval`` to make the move, writes
the AuditEvent in the same transaction and returns to the campaign page with what happened
or why it did not. ``workflow_context`` gives the campaign page what its two partials
(``_campaign_actions.html`` and ``_campaign_trail.html``) show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import approval
from campaigns.approval import APPROVE, COMPOSE, SEND, TransitionRefused
from campaigns.audit import Changes, record
from campaigns.forms.campaign_review import RejectionForm, ReviewForm
from campaigns.models import AuditEvent, Campaign, User
from campaigns.tasks import dispatch_fire_due

TRAIL_SIZE = 50
APPROVE_PREFIX = "approve"
REJECT_PREFIX = "reject"

Move = Callable[[Campaign, User], Changes]


# -- what the campaign page shows -------------------------------------------------------------


@dataclass(frozen=True)
class TrailEntry:
    event: AuditEvent
    summary: str
    comment: str


@dataclass(frozen=True)
class Workflow:
    """The moves this user can make on this campaign now, and what the page says about them."""

    can_submit: bool = False
    can_schedule: bool = False
    can_review: bool = False  # approve or reject
    can_unschedule: bool = False
    can_duplicate: bool = False
    approval_reason: str = ""  # why it needs an approver ("" when it needs none)
    review_refusal: str = ""  # why this approver cannot review it (the four-eyes rule)
    problems: list[str] = field(default_factory=list)  # what keeps a draft from moving on
    approve_form: ReviewForm | None = None
    reject_form: RejectionForm | None = None
    trail: list[TrailEntry] = field(default_factory=list)
    trail_is_cut: bool = False  # older events than these exist


def workflow_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """``{"workflow": Workflow}`` for the campaign page: merge it into the page's context."""
    user = request.user
    assert isinstance(user, User)
    status = campaign.status
    reason = approval.approval_reason(campaign)
    draft = status == Campaign.Status.DRAFT
    can_submit = draft and bool(reason) and user.has_perm(COMPOSE)
    can_schedule = draft and not reason and user.has_perm(SEND)
    problems: list[str] = []
    if can_submit or can_schedule:
        problems = approval.ready_to_send(campaign, now=timezone.now())
    pending = status == Campaign.Status.PENDING_APPROVAL
    can_review, refusal = approval.can_approve(user, campaign)
    trail, is_cut = campaign_trail(campaign)
    workflow = Workflow(
        can_submit=can_submit,
        can_schedule=can_schedule,
        can_review=can_review,
        can_unschedule=status == Campaign.Status.SCHEDULED and user.has_perm(SEND),
        can_duplicate=user.has_perm(COMPOSE),
        approval_reason=reason,
        review_refusal=refusal if pending and user.has_perm(APPROVE) else "",
        problems=problems,
        approve_form=ReviewForm(prefix=APPROVE_PREFIX) if can_review else None,
        reject_form=RejectionForm(prefix=REJECT_PREFIX) if can_review else None,
        trail=trail,
        trail_is_cut=is_cut,
    )
    return {"workflow": workflow}


def campaign_trail(campaign: Campaign, limit: int = TRAIL_SIZE) -> tuple[list[TrailEntry], bool]:
    """The campaign's latest audit events, newest first, each in words (one query); and
    whether older ones were left out."""
    events = list(
        AuditEvent.objects.filter(
            object_type=Campaign._meta.label_lower, object_id=str(campaign.pk)
        )[: limit + 1]
    )
    entries = [TrailEntry(event, _summary(event), _comment(event)) for event in events[:limit]]
    return entries, len(events) > limit


def _summary(event: AuditEvent) -> str:
    changes: dict[str, Any] = event.changes or {}
    if event.action in ("change", "changed"):
        fields = ", ".join(dict.fromkeys(_field_label(name) for name in changes))
        return _("changed %(fields)s") % {"fields": fields} if fields else _("changed it")
    if event.action == "duplicate":
        source = (changes.get("duplicated_from") or [None, ""])[1]
        return _("created it as a copy of “%(name)s”") % {"name": source}
    words = {
        "create": _("created it as a draft"),
        "created": _("created it as a draft"),
        "submit": _("submitted it for approval"),
        "approve": _("approved it; it is scheduled"),
        "reject": _("rejected it; it is back to draft"),
        "schedule": _("scheduled it"),
        "unschedule": _("unscheduled it; it is back to draft"),
        "pause": _("paused its sending"),
        "resume": _("resumed its sending"),
        "cancel": _("cancelled it; nothing more is sent"),
        "recall": _("recalled its sent messages"),
        "test_send": _("sent a test of it"),
    }
    return words.get(event.action, event.action.replace("_", " "))


def _comment(event: AuditEvent) -> str:
    after = ((event.changes or {}).get("review_comment") or [None, ""])[1]
    return str(after or "")


def _field_label(name: str) -> str:
    try:
        model_field = Campaign._meta.get_field(name)
    except FieldDoesNotExist:
        model_field = None
    if isinstance(model_field, models.Field):
        return str(model_field.verbose_name)
    return name.replace("_", " ")


# -- the moves --------------------------------------------------------------------------------


def _locked(pk: int) -> Campaign:
    campaigns = Campaign.objects.select_related("app", "audience", "template")
    return get_object_or_404(campaigns.select_for_update(of=("self",)), pk=pk)


def _make(request: HttpRequest, pk: int, action: str, move: Move, done: str) -> HttpResponse:
    """Make ``move`` on the locked campaign and record it as ``action``; back to its page."""
    user = request.user
    assert isinstance(user, User)
    try:
        with transaction.atomic():
            campaign = _locked(pk)
            changes = move(campaign, user)
            record(request, action, campaign, changes)
            if campaign.status == Campaign.Status.SCHEDULED:
                transaction.on_commit(dispatch_fire_due.delay)
    except TransitionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("campaign_detail", pk=pk)


def _refuse_form(request: HttpRequest, pk: int, form: ReviewForm | RejectionForm) -> HttpResponse:
    for error in form["comment"].errors:
        messages.error(request, str(error))
    return redirect("campaign_detail", pk=pk)


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def campaign_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _make(
        request, pk, "submit", approval.submit, _("Submitted: an approver will review it.")
    )


@require_POST
@permission_required(APPROVE, raise_exception=True)
def campaign_approve(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReviewForm(request.POST, prefix=APPROVE_PREFIX)
    if not form.is_valid():
        return _refuse_form(request, pk, form)
    comment: str = form.cleaned_data["comment"]
    return _make(
        request,
        pk,
        "approve",
        lambda campaign, user: approval.approve(campaign, user, comment),
        _("Approved: the campaign is scheduled."),
    )


@require_POST
@permission_required(APPROVE, raise_exception=True)
def campaign_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = RejectionForm(request.POST, prefix=REJECT_PREFIX)
    if not form.is_valid():
        return _refuse_form(request, pk, form)
    comment: str = form.cleaned_data["comment"]
    return _make(
        request,
        pk,
        "reject",
        lambda campaign, user: approval.reject(campaign, user, comment),
        _("Rejected: the campaign is back to draft with your comment."),
    )


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _make(request, pk, "schedule", approval.schedule, _("Scheduled."))


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _make(
        request,
        pk,
        "unschedule",
        approval.unschedule,
        _("Unscheduled: the campaign is a draft again and will not be sent."),
    )


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def campaign_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    source = get_object_or_404(Campaign, pk=pk)
    try:
        with transaction.atomic():
            copy = approval.duplicate(source, user)
            changes = {"duplicated_from": [None, source.name], "status": [None, copy.status]}
            record(request, "duplicate", copy, changes)
    except TransitionRefused as refused:
        messages.error(request, refused.message)
        return redirect("campaign_detail", pk=pk)
    messages.success(request, _("Duplicated as the draft “%(name)s”.") % {"name": copy.name})
    return redirect("campaign_detail", pk=copy.pk)
