"""Pause, resume, cancel and recall a campaign while it is sent; each correct at any moment.

Pause flips the campaign's sending runs to paused: senders stop claiming at once (they
claim only dispatches of sending runs) and a sender holding a claimed call hands it back
unsent; calls already in flight finish and are recorded. Resume flips them back. Cancel ends
every active run, cancels the calls not yet made and, where the provider holds the schedule,
cancels it there too. Recall cancels first, then revokes every sent call at mPaaS (EMAS has
no way to withdraw a sent push). Each returns what changed, for the audit trail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import scheduling, stats
from campaigns.approval import TransitionRefused
from campaigns.audit import Changes
from campaigns.connections import emas_apps, mpaas_app, mpaas_client
from campaigns.dispatch import call_keys
from campaigns.models import Campaign, CampaignRun, Dispatch
from campaigns.providers.emas import EmasClient
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import MpaasClient
from campaigns.ratelimit import app_key, limiter
from campaigns.trial_send import client_for

Run, D = CampaignRun.Status, Dispatch.Status
S = Campaign.Status


def _flip(campaign: Campaign, before: S, after: S) -> None:
    if not Campaign.objects.filter(pk=campaign.pk, status=before).update(status=after):
        raise TransitionRefused(
            _("Someone changed this campaign meanwhile; look at it again and retry.")
        )
    campaign.status = after


def pause(campaign: Campaign) -> Changes:
    if campaign.status != S.RUNNING:
        raise TransitionRefused(_("Only a campaign that is sending can be paused."))
    with transaction.atomic():
        _flip(campaign, S.RUNNING, S.PAUSED)
        paused = campaign.runs.filter(status__in=(Run.SENDING, Run.PLANNING)).update(
            status=Run.PAUSED
        )
    return {"status": [S.RUNNING, S.PAUSED], "runs": [None, paused]}


def resume(campaign: Campaign) -> Changes:
    if campaign.status != S.PAUSED:
        raise TransitionRefused(_("Only a paused campaign can be resumed."))
    with transaction.atomic():
        _flip(campaign, S.PAUSED, S.RUNNING)
        # A run paused before it was planned is planned by the next tick.
        unplanned = campaign.runs.filter(status=Run.PAUSED, planned_at__isnull=True)
        unplanned.update(status=Run.WAITING)
        resumed = campaign.runs.filter(status=Run.PAUSED).update(status=Run.SENDING)
    return {"status": [S.PAUSED, S.RUNNING], "runs": [None, resumed]}


CANCELLABLE = (S.SCHEDULED, S.RUNNING, S.PAUSED)


def cancel(campaign: Campaign) -> Changes:
    """End the campaign: no further call is made; provider-held schedules are cancelled."""
    before = campaign.status
    if before not in CANCELLABLE:
        raise TransitionRefused(_("Only a scheduled, sending or paused campaign can be cancelled."))
    with transaction.atomic():
        _flip(campaign, S(before), S.CANCELLED)
        active = campaign.runs.filter(status__in=CampaignRun.ACTIVE)
        run_ids = list(active.values_list("id", flat=True))
        dropped = Dispatch.objects.filter(run_id__in=run_ids, status=D.PENDING).update(
            status=D.CANCELLED
        )
        moment = timezone.now()
        # What went out before the cancel still gets its delivery results asked for.
        active.filter(calls_sent__gt=0).update(stats_due_at=stats.first_due(moment))
        active.update(status=Run.CANCELLED, finished_at=moment)
    changes: Changes = {"status": [before, S.CANCELLED], "calls_cancelled": [None, dropped]}
    if scheduling.held_by_provider(campaign):
        changes["provider"] = [None, cancel_at_provider(campaign)]
    return changes


def cancel_at_provider(campaign: Campaign) -> str:
    """Cancel the schedules the provider holds for this campaign's calls; says how it went."""
    held = [
        provider_id
        for ids in Dispatch.objects.filter(run__campaign=campaign, status=D.SENT)
        .exclude(provider_id="")
        .values_list("provider_id", flat=True)
        for provider_id in ids.split(",")
    ]
    if not held:
        return _("nothing was held at the provider yet")
    client = client_for(campaign)
    try:
        if isinstance(client, MpaasClient):
            client.cancel_schedules(mpaas_app(campaign.app), held)
        elif isinstance(client, EmasClient):
            for message_id in held:
                _cancel_emas(client, campaign, message_id)
    except ProviderError as error:
        return _("the provider refused to cancel: %(error)s") % {"error": str(error)}
    return _("%(count)d provider schedules cancelled") % {"count": len(held)}


def _cancel_emas(client: EmasClient, campaign: Campaign, message_id: str) -> None:
    """A message id belongs to one of the app's AppKeys: the one that accepts the cancel."""
    refusal: ProviderError | None = None
    for app in emas_apps(campaign.app).values():
        try:
            client.cancel_push(app, message_id)
        except ProviderError as error:
            refusal = error
        else:
            return
    if refusal is not None:
        raise refusal


# -- recall ----------------------------------------------------------------------------------

# How long after sending a push can be revoked: the documents Pushdeck follows state no limit
# (the mPaaS seeds 000-003 do not describe RevokePushTask at all; EMAS's 004 has no revoke).
# So Pushdeck does not guess one: it asks, and keeps and shows the provider's refusal of a
# late revoke (the sandbox refuses with REVOKE_EXPIRED after 24 hours).
IN_FLIGHT_WAIT_S = 5.0  # a recall waits this long for the calls being made to be recorded
IN_FLIGHT_POLL_S = 0.2
# One recall's share of a web request (with the wait, under gunicorn's default 30 s worker
# timeout): what is left when it runs out, the next recall does.
RECALL_TIME_S = 20.0
RECALL_CHUNK = 200
# RevokePushMessage of a message that never reached mPaaS: nothing to withdraw.
MESSAGE_NOT_EXIST = "MESSAGE_NOT_EXIST"

R = Dispatch.Recall


def _sent(campaign: Campaign) -> QuerySet[Dispatch]:
    """Calls the provider accepted and named (a task id per request of the call)."""
    return Dispatch.objects.filter(run__campaign=campaign, status=D.SENT).exclude(provider_id="")


def _recallable(campaign: Campaign) -> QuerySet[Dispatch]:
    """Sent calls not recalled yet; refused ones are asked again (the refusal may pass)."""
    return _sent(campaign).exclude(recall=R.RECALLED)


def _lost(campaign: Campaign) -> QuerySet[Dispatch]:
    """Calls whose sender died while making them (the lease ran out): never recorded, maybe
    delivered, and once recall has stopped their run never claimed again. Their task id is
    unknown; their msgKeys are not."""
    return Dispatch.objects.filter(
        run__campaign=campaign, status=D.SENDING, lease_expires_at__lt=timezone.now()
    ).exclude(recall=R.RECALLED)


def _in_flight(campaign: Campaign) -> QuerySet[Dispatch]:
    """Calls a sender holds now: being made, or about to be (a sender sees its run stopped
    within dispatch.RUN_STATUS_FRESH_S and hands back what it has not made)."""
    return Dispatch.objects.filter(
        run__campaign=campaign, status=D.SENDING, lease_expires_at__gte=timezone.now()
    )


def recall_refusal(campaign: Campaign) -> str | None:
    """Why the campaign's sent messages cannot be recalled now; None when they can."""
    if campaign.kind == Campaign.Kind.EMAS:
        return _(
            "EMAS Push (API 2016-08-01) has no call that withdraws a push once it is sent: "
            "its CancelPush only stops a push whose scheduled time has not come yet. Pushdeck "
            "cannot recall the messages of this campaign."
        )
    if any(
        calls.exists() for calls in (_recallable(campaign), _lost(campaign), _in_flight(campaign))
    ):
        return None
    if _sent(campaign).exists():
        return _("Every call of this campaign that was sent is recalled already.")
    return _("Nothing of this campaign has been sent yet, so there is nothing to recall.")


@dataclass
class RecallTally:
    recalled: int = 0
    refused: int = 0
    left: int = 0  # not asked: the recall's time ran out, or the rate limiter had no room
    in_flight: int = 0  # still being sent when the recall ended: a later recall revokes them


def recall(campaign: Campaign, *, wait_s: float = IN_FLIGHT_WAIT_S) -> Changes:
    """Stop the campaign as ``cancel`` does, then revoke its sent calls at mPaaS.

    Call it outside a transaction: it makes provider calls, each after a token of the app's
    rate limiter, and a transaction would hold the limiter's row lock meanwhile. A call in
    flight when sending stops finishes after that; the recall waits up to ``wait_s`` for such
    calls to be recorded and revokes them too. One still in flight after that is counted
    (``in_flight``) and shown, and a later recall revokes it: Recall stays offered while a
    sent call is not recalled.
    """
    refusal = recall_refusal(campaign)
    if refusal is not None:
        raise TransitionRefused(refusal)
    changes: Changes = cancel(campaign) if campaign.status in CANCELLABLE else {}
    in_flight = _wait_for_calls_in_flight(campaign, wait_s)
    tally = revoke_sent(campaign)
    tally.in_flight = in_flight
    changes.update(
        {
            "calls_recalled": [None, tally.recalled],
            "calls_refused": [None, tally.refused],
            "calls_left": [None, tally.left],
            "calls_in_flight": [None, tally.in_flight],
        }
    )
    return changes


def _wait_for_calls_in_flight(campaign: Campaign, seconds: float) -> int:
    """How many calls are still being made once they are recorded or ``seconds`` passed.
    (Claimed calls not yet made are handed back by their sender, as cancelled.)"""
    deadline = time.monotonic() + seconds
    while (left := _in_flight(campaign).count()) and time.monotonic() < deadline:
        time.sleep(IN_FLIGHT_POLL_S)
    return left


class _OutOfTime(Exception):
    pass


def revoke_sent(campaign: Campaign, *, seconds: float = RECALL_TIME_S) -> RecallTally:
    """Revoke the campaign's sent calls not recalled yet (RevokePushTask per task id; a lost
    call RevokePushMessage per msgKey), keeping each call's outcome on its dispatch."""
    client, app = mpaas_client(campaign.app), mpaas_app(campaign.app)
    deadline = time.monotonic() + seconds
    tally = RecallTally(left=_recallable(campaign).count() + _lost(campaign).count())
    try:
        after = 0
        while chunk := list(
            _recallable(campaign)
            .filter(id__gt=after)
            .order_by("id")
            .only("id", "run_id", "provider_id")[:RECALL_CHUNK]
        ):
            for sent in chunk:
                after = sent.id
                tasks = [
                    partial(client.revoke_task, app, task) for task in sent.provider_id.split(",")
                ]
                _tally(tally, _revoke(campaign, sent, tasks, deadline))
        for lost in _lost(campaign).select_related("run__campaign"):
            if not lost.targets:  # a broadcast: revoked by its task id only, never learnt
                _tally(tally, _record_recall(lost, R.REFUSED, "", _no_task_id()))
                continue
            keys = call_keys(lost.run, lost)
            messages = [
                partial(client.revoke_message, app, key, target)
                for (target, _values, _extras), key in zip(lost.targets, keys, strict=True)
            ]
            _tally(tally, _revoke(campaign, lost, messages, deadline, tolerated=MESSAGE_NOT_EXIST))
    except _OutOfTime:
        pass
    campaign.runs.filter(planned_at__isnull=False).update(recalled_at=timezone.now())
    return tally


def _tally(tally: RecallTally, outcome: str) -> None:
    tally.left -= 1
    if outcome == R.RECALLED:
        tally.recalled += 1
    else:
        tally.refused += 1


def _revoke(
    campaign: Campaign,
    dispatch: Dispatch,
    revokes: Sequence[Callable[[], Any]],
    deadline: float,
    *,
    tolerated: str = "",
) -> str:
    """Make a call's revokes, each after a token of the app's rate limiter as sends do;
    record and return the outcome (the first refusal, if any)."""
    bucket = app_key(campaign.app_id)
    refusal: ProviderError | None = None
    for revoke in revokes:
        if not limiter().acquire(
            bucket, campaign.app.rate_limit, timeout=max(0.0, deadline - time.monotonic())
        ):
            raise _OutOfTime
        try:
            revoke()
        except ProviderError as error:
            if error.retry_after:
                limiter().penalise(bucket, error.retry_after)
            if refusal is None and not (tolerated and error.code == tolerated):
                refusal = error
    if refusal is None:
        return _record_recall(dispatch, R.RECALLED)
    return _record_recall(dispatch, R.REFUSED, refusal.code, refusal.message)


def _record_recall(dispatch: Dispatch, outcome: str, code: str = "", message: str = "") -> str:
    Dispatch.objects.filter(id=dispatch.id).update(
        recall=outcome, recall_code=code, recall_message=message
    )
    return outcome


def _no_task_id() -> str:
    return _(
        "Its sender stopped while making the call, so mPaaS's task id for it is unknown; a "
        "broadcast can only be revoked by its task id."
    )


@dataclass(frozen=True)
class RecallSummary:
    """What the campaign page says about recalling: whether it is offered, and how the
    recalls so far went (counted only once a recall was made)."""

    campaign: Campaign
    tried: bool = False
    sent: int = 0  # calls made, or being made
    recalled: int = 0
    refused: tuple[dict[str, Any], ...] = ()  # {"recall_code", "recall_message", "calls"}
    not_recalled: int = 0  # sent since the recall, or left when its time ran out
    in_flight: int = 0  # being sent at the moment, not recalled

    @property
    def refused_calls(self) -> int:
        return sum(row["calls"] for row in self.refused)

    @cached_property
    def refusal(self) -> str | None:
        """Why Recall is not offered; None: it is. Asked when first read: the page reads it
        where it offers the button (to senders) and for EMAS (which needs no query)."""
        return recall_refusal(self.campaign)


def recall_summary(
    campaign: Campaign, all_runs: Sequence[CampaignRun] | None = None
) -> RecallSummary:
    """``all_runs``: every run of the campaign, when the caller has loaded them: whether a
    recall was made is read from them instead of asked (a recall marks every planned run)."""
    if all_runs is not None:
        tried = any(run.recalled_at for run in all_runs)
    else:
        tried = campaign.runs.filter(recalled_at__isnull=False).exists()
    if not tried:
        return RecallSummary(campaign)
    rows = (
        Dispatch.objects.filter(run__campaign=campaign)
        .filter(Q(status=D.SENT, provider_id__gt="") | Q(status=D.SENDING))
        .values("status", "recall", "recall_code", "recall_message")
        .annotate(calls=Count("id"))
        .order_by("-calls")
    )
    sent = recalled = not_recalled = in_flight = 0
    refused = []
    for row in rows:
        calls, sending = row["calls"], row["status"] == D.SENDING
        sent += calls
        if row["recall"] == R.RECALLED:  # a lost call is recalled by its msgKeys
            recalled += calls
        elif row["recall"] == R.REFUSED:
            refused.append(row)
        elif sending:
            in_flight += calls
        else:
            not_recalled += calls
    return RecallSummary(campaign, True, sent, recalled, tuple(refused), not_recalled, in_flight)
