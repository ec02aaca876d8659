"""The dispatch engine: runs come due, are planned into dispatches, and dispatches are
claimed, sent and recorded.

- ``first_run`` / ``drop_waiting_runs``: scheduling a campaign creates its first run; taking
  it back removes the runs still waiting.
- ``claim_due_runs``: what ``tick`` does — a conditional UPDATE moves each due run from
  waiting to planning, so two ticks at once never fire a run twice.
- ``plan``: one transaction writes every dispatch of a run, batched by the provider's
  targets per call, with the targets as they are now.
- ``claim_dispatches`` / ``send`` / ``send_claimed``: a sender takes a chunk with a lease
  (a conditional UPDATE tagged with its own token, so two senders never hold one row), sends
  each with the run's deterministic keys, and records the outcome in the row. A dispatch
  whose lease expired (its worker died) is claimed again and sent with the same keys.
- ``finish_runs``: a run with nothing left to send completes; a recurring campaign gets its
  next run.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from campaigns import scheduling
from campaigns.call_plan import TARGETS_PER_CALL
from campaigns.campaign_requests import Recipient, build_requests
from campaigns.models import AudienceMember, Campaign, CampaignRun, Dispatch
from campaigns.providers.base import ProviderResponse
from campaigns.providers.errors import ProviderError, RequestInvalid
from campaigns.ratelimit import app_key, limiter
from campaigns.trial_send import client_for

log = logging.getLogger(__name__)

DISPATCHES_PER_INSERT = 500
MEMBERS_PER_FETCH = 5_000
LEASE = timedelta(seconds=60)  # longer than any call with its retries inside one attempt
CLAIM_CHUNK = 64
THREADS = 32  # calls in flight per sender (threads around one pooled client)
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 300.0
TOKEN_TIMEOUT_S = 30.0
Run, D = CampaignRun.Status, Dispatch.Status


# -- runs ------------------------------------------------------------------------------------


def first_due(campaign: Campaign, *, now: datetime) -> datetime | None:
    """When the first run of a scheduled campaign is due: now when it is sent at once or
    when the provider holds its schedule (the call is made now, the provider waits)."""
    if campaign.schedule_mode == Campaign.ScheduleMode.NOW or scheduling.held_by_provider(campaign):
        return now
    upcoming = scheduling.occurrences(campaign, after=now, limit=1)
    return upcoming[0] if upcoming else None


def first_run(campaign: Campaign, *, now: datetime | None = None) -> CampaignRun | None:
    """The campaign's first run (call inside the transaction that schedules it)."""
    due = first_due(campaign, now=now or timezone.now())
    if due is None:
        return None
    run, _ = CampaignRun.objects.get_or_create(campaign=campaign, due_at=due)
    return run


def drop_waiting_runs(campaign: Campaign) -> int:
    deleted, _ = campaign.runs.filter(status=Run.WAITING).delete()
    return deleted


def claim_due_runs(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Move due runs from waiting to planning; the ids this call won."""
    moment = now or timezone.now()
    due = CampaignRun.objects.filter(status=Run.WAITING, due_at__lte=moment).order_by("due_at")
    won = []
    for run_id in due.values_list("id", flat=True)[:limit]:
        if CampaignRun.objects.filter(id=run_id, status=Run.WAITING).update(status=Run.PLANNING):
            won.append(run_id)
    return won


# -- planning --------------------------------------------------------------------------------


def _batches(campaign: Campaign) -> Iterator[list[list[Any]]]:
    """The audience's targets in calls' worth, in member order; one call without targets
    when the provider finds the devices (broadcast, tag expression, every device)."""
    audience = campaign.audience
    per_call = TARGETS_PER_CALL.get(campaign.kind)
    if audience is None or per_call is None or not audience.is_listed:
        yield []
        return
    rows = (
        AudienceMember.objects.filter(audience=audience)
        .order_by("id")
        .values_list("target", "values", "extended_params")
        .iterator(chunk_size=MEMBERS_PER_FETCH)
    )
    batch: list[list[Any]] = []
    for target, values, extras in rows:
        batch.append([target, values or {}, extras or {}])
        if len(batch) == per_call:
            yield batch
            batch = []
    if batch:
        yield batch


def plan(run_id: int, *, now: datetime | None = None) -> int:
    """Write the run's dispatches and start it; how many calls it makes (0: not planned)."""
    moment = now or timezone.now()
    with transaction.atomic():
        run = (
            CampaignRun.objects.select_for_update(of=("self",))
            .select_related("campaign__audience")
            .filter(id=run_id, status=Run.PLANNING)
            .first()
        )
        if run is None:
            return 0
        calls = targets = 0
        pending: list[Dispatch] = []
        for batch in _batches(run.campaign):
            calls += 1
            targets += len(batch)
            pending.append(
                Dispatch(
                    run=run,
                    seq=calls,
                    targets=batch,
                    target_count=len(batch),
                    next_attempt_at=moment,
                )
            )
            if len(pending) == DISPATCHES_PER_INSERT:
                Dispatch.objects.bulk_create(pending)
                pending = []
        Dispatch.objects.bulk_create(pending)
        CampaignRun.objects.filter(id=run.id).update(
            status=Run.SENDING, calls=calls, targets=targets, planned_at=moment, started_at=moment
        )
        Campaign.objects.filter(id=run.campaign_id, status=Campaign.Status.SCHEDULED).update(
            status=Campaign.Status.RUNNING
        )
    log.info("run planned", extra={"run_id": run_id, "calls": calls, "targets": targets})
    return calls


# -- sending ---------------------------------------------------------------------------------


def call_keys(run: CampaignRun, dispatch: Dispatch) -> list[str]:
    """The call's idempotency keys, the same at every attempt: a msgKey per target (mPaaS),
    the broadcast's one key, or the EMAS IdempotentToken."""
    kind = run.campaign.kind
    if kind == Campaign.Kind.EMAS:
        return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"pushdeck:run:{run.id}:{dispatch.seq}"))]
    if kind == Campaign.Kind.BROADCAST:
        return [f"pd{run.id}-{dispatch.seq}"]
    return [f"pd{run.id}-{dispatch.seq}-{index}" for index in range(dispatch.target_count)]


def leasable(now: datetime) -> Q:
    """Due by the dispatch's own columns alone (no join: see ``claim_dispatches``)."""
    pending = Q(status=D.PENDING, next_attempt_at__lte=now)
    orphaned = Q(status=D.SENDING, lease_expires_at__lt=now)  # its sender died
    return pending | orphaned


def claimable(now: datetime) -> Q:
    return leasable(now) & Q(run__status=Run.SENDING)


def claim_dispatches(limit: int = CLAIM_CHUNK, *, now: datetime | None = None) -> list[int]:
    """Lease up to ``limit`` due dispatches to this caller; their ids."""
    moment = now or timezone.now()
    token = uuid.uuid4().hex
    candidates = list(
        Dispatch.objects.filter(claimable(moment))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not candidates:
        return []
    # The condition again in the UPDATE: of two senders that saw the same rows, each row
    # goes to one of them, and each reads back what it won by its token. Only the row's own
    # columns: a join (run__status) makes Django write WHERE id IN (SELECT ... JOIN ...),
    # which PostgreSQL does not re-check after waiting for the other sender's lock, so both
    # would lease the row. A run paused meanwhile is handled by send(), which hands it back.
    Dispatch.objects.filter(leasable(moment), id__in=candidates).update(
        status=D.SENDING,
        lease_owner=token,
        lease_expires_at=moment + LEASE,
        attempts=F("attempts") + 1,
    )
    return list(Dispatch.objects.filter(lease_owner=token).values_list("id", flat=True))


@dataclass(frozen=True)
class Outcome:
    run_id: int
    status: str  # Dispatch.Status: sent, failed, or pending (to try again)
    targets: int


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: exponential with full jitter, never sooner than
    the provider asked."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter


def send(dispatch_id: int, *, now: datetime | None = None) -> Outcome | None:
    """Make the call of one leased dispatch and record what the provider said."""
    dispatch = (
        Dispatch.objects.select_related(
            "run__campaign__app", "run__campaign__audience", "run__campaign__template"
        )
        .filter(id=dispatch_id, status=D.SENDING)
        .first()
    )
    if dispatch is None:
        return None
    run, owner = dispatch.run, dispatch.lease_owner
    mine = Dispatch.objects.filter(id=dispatch.id, lease_owner=owner, status=D.SENDING)
    if run.status != Run.SENDING:
        _hand_back(mine, run.status)
        return None
    campaign = run.campaign
    recipients = [Recipient(target, values, extras) for target, values, extras in dispatch.targets]
    context = {"run_id": run.id, "dispatch_id": dispatch.id, "attempt": dispatch.attempts}
    try:
        requests = build_requests(
            campaign, recipients, call_keys(run, dispatch), now=now or timezone.now()
        )
        client = client_for(campaign)
        answers: list[ProviderResponse] = []
        for request in requests:  # one token per provider call
            if not limiter().acquire(
                app_key(campaign.app_id), campaign.app.rate_limit, timeout=TOKEN_TIMEOUT_S
            ):
                # Our own queue, not the provider: try again soon, not counted as an attempt.
                mine.update(
                    status=D.PENDING,
                    lease_owner="",
                    lease_expires_at=None,
                    attempts=F("attempts") - 1,
                )
                return Outcome(run.id, D.PENDING, dispatch.target_count)
            if not answers:
                # Paused or cancelled while this call waited for its slot: not sent.
                now_status = (
                    CampaignRun.objects.filter(id=run.id).values_list("status", flat=True).first()
                )
                if now_status != Run.SENDING:
                    _hand_back(mine, now_status or Run.CANCELLED)
                    return None
            answers.append(client.call(request))
    except RequestInvalid as refused:
        return _record(mine, run, dispatch, D.FAILED, code=refused.code, message=str(refused))
    except ProviderError as error:
        if error.retry_after:
            limiter().penalise(app_key(campaign.app_id), error.retry_after)
        final = error.permanent or dispatch.attempts >= MAX_ATTEMPTS
        log.warning("call refused", extra={**context, "code": error.code, "final": final})
        if final:
            return _record(
                mine,
                run,
                dispatch,
                D.FAILED,
                code=error.code,
                message=error.message,
                request_id=error.request_id or "",
            )
        wait = timedelta(seconds=backoff(dispatch.attempts, error.retry_after))
        mine.update(
            status=D.PENDING,
            lease_owner="",
            lease_expires_at=None,
            next_attempt_at=timezone.now() + wait,
            result_code=error.code,
            message=error.message,
            request_id=error.request_id or "",
        )
        return Outcome(run.id, D.PENDING, dispatch.target_count)
    provider_id = ",".join(filter(None, (_provider_id(answer.body) for answer in answers)))
    body = answers[-1].body
    return _record(
        mine,
        run,
        dispatch,
        D.SENT,
        code=str(body.get("ResultCode") or "OK"),
        request_id=answers[-1].request_id,
        provider_id=str(provider_id),
    )


def _hand_back(mine: Any, run_status: str) -> None:
    """A leased call its run no longer wants now: waiting again if paused, else cancelled."""
    status = D.PENDING if run_status in (Run.PAUSED, Run.PLANNING, Run.WAITING) else D.CANCELLED
    mine.update(status=status, lease_owner="", lease_expires_at=None)


def _provider_id(body: Any) -> str:
    """The id the provider gave the call: EMAS's MessageId, mPaaS's task id."""
    push_result = body.get("PushResult")
    task = push_result.get("Data") if isinstance(push_result, dict) else None
    return str(body.get("MessageId") or task or "")


def _record(
    mine: Any,
    run: CampaignRun,
    dispatch: Dispatch,
    status: str,
    *,
    code: str,
    message: str = "",
    request_id: str = "",
    provider_id: str = "",
) -> Outcome | None:
    moment = timezone.now()
    won = mine.update(
        status=status,
        lease_owner="",
        lease_expires_at=None,
        result_code=code,
        message=message,
        request_id=request_id,
        provider_id=provider_id,
        sent_at=moment if status == D.SENT else None,
    )
    if not won:  # the lease ran out and another sender took it: its outcome counts
        return None
    return Outcome(run.id, status, dispatch.target_count)


def count(outcomes: Sequence[Outcome | None]) -> None:
    """Add the outcomes to their runs' counts: one UPDATE per run."""
    per_run: dict[int, dict[str, int]] = {}
    for outcome in outcomes:
        if outcome is None or outcome.status == D.PENDING:
            continue
        tally = per_run.setdefault(outcome.run_id, {"cs": 0, "cf": 0, "ts": 0, "tf": 0})
        sent = outcome.status == D.SENT
        tally["cs" if sent else "cf"] += 1
        tally["ts" if sent else "tf"] += outcome.targets
    for run_id, tally in per_run.items():
        CampaignRun.objects.filter(id=run_id).update(
            calls_sent=F("calls_sent") + tally["cs"],
            calls_failed=F("calls_failed") + tally["cf"],
            targets_sent=F("targets_sent") + tally["ts"],
            targets_failed=F("targets_failed") + tally["tf"],
        )


def _send_in_thread(dispatch_id: int) -> Outcome | None:
    try:
        return send(dispatch_id)
    except Exception:
        log.exception("send crashed", extra={"dispatch_id": dispatch_id})
        return None  # its lease runs out and it is claimed again
    finally:
        close_old_connections()


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _sender_pool(threads: int) -> ThreadPoolExecutor:
    """This process's sender threads, kept from chunk to chunk so that each keeps its one
    database connection. (A pool per chunk opened ``threads`` new connections every chunk
    and left the old ones to the garbage collector: two workers of 32 threads went past
    PostgreSQL's 100 connections within seconds.) Keyed by pid: a forked child makes its own."""
    key = (os.getpid(), threads)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(threads, thread_name_prefix="sender")
        return pool


def send_claimed(ids: Sequence[int], *, threads: int = THREADS) -> list[Outcome | None]:
    """Send leased dispatches with up to ``threads`` calls in flight, then count them."""
    if len(ids) <= 1 or threads <= 1:
        outcomes = [send(dispatch_id) for dispatch_id in ids]
    else:
        outcomes = list(_sender_pool(threads).map(_send_in_thread, ids))
    count(outcomes)
    finish_runs({outcome.run_id for outcome in outcomes if outcome is not None})
    return outcomes


# -- completion ------------------------------------------------------------------------------


def finish_runs(run_ids: set[int], *, now: datetime | None = None) -> list[int]:
    """Complete the runs with nothing left to send; the ids completed."""
    moment = now or timezone.now()
    done = []
    for run_id in run_ids:
        left = Dispatch.objects.filter(run_id=run_id, status__in=(D.PENDING, D.SENDING))
        if left.exists():
            continue
        with transaction.atomic():
            if not CampaignRun.objects.filter(id=run_id, status=Run.SENDING).update(
                status=Run.COMPLETED, finished_at=moment
            ):
                continue
            run = CampaignRun.objects.select_related("campaign").get(id=run_id)
            _after_run(run.campaign, run, now=moment)
        done.append(run_id)
        log.info("run completed", extra={"run_id": run_id})
    return done


def _after_run(campaign: Campaign, run: CampaignRun, *, now: datetime) -> None:
    """A recurring campaign gets its next run; otherwise the campaign is complete."""
    if campaign.schedule_mode == Campaign.ScheduleMode.RECURRING and not (
        scheduling.held_by_provider(campaign)
    ):
        upcoming = scheduling.occurrences(campaign, after=max(now, run.due_at), limit=1)
        if upcoming:
            CampaignRun.objects.get_or_create(campaign=campaign, due_at=upcoming[0])
            Campaign.objects.filter(id=campaign.id, status=Campaign.Status.RUNNING).update(
                status=Campaign.Status.SCHEDULED
            )
            return
    if not campaign.runs.filter(status__in=CampaignRun.ACTIVE).exists():
        Campaign.objects.filter(
            id=campaign.id, status__in=(Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.COMPLETED)


def progress(run: CampaignRun) -> dict[str, Any]:
    """Failures of a run by provider code (one grouped query over its failed dispatches)."""
    failed = (
        run.dispatches.filter(status=D.FAILED)
        .values("result_code")
        .annotate(calls=Count("id"), targets=Sum("target_count"))
        .order_by("-calls")
    )
    return {"failures": list(failed)}
