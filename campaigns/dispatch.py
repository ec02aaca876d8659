"""The dispatch engine: runs come due, are planned into dispatches, and dispatches are
claimed, sent and recorded.

- ``first_run`` / ``drop_waiting_runs``: scheduling a campaign creates its first run; taking
  it back removes the runs still waiting. In each recipient's local time (or when the app's
  quiet hours are each recipient's) there is one run per time zone of the audience, and
  ``run_members`` are the members a run sends to.
- ``claim_due_runs``: what ``tick`` does — a conditional UPDATE moves each due run from
  waiting to planning, so two ticks at once never fire a run twice.
- ``plan``: one transaction writes every dispatch of a run, batched by the provider's
  targets per call, with the targets as they are now.
- ``claim_dispatches`` / ``send`` / ``send_claimed``: a sender takes a chunk with a lease
  (a conditional UPDATE tagged with its own token, so two senders never hold one row), sends
  each with the run's deterministic keys, and records the outcome in the row. A dispatch
  whose lease expired (its worker died) is claimed again and sent with the same keys.
- ``finish_runs``: a run with nothing left to send completes; a recurring campaign gets its
  next run. A provider-held campaign stays running (cancellable at the provider) until its
  last send time there has passed (``finish_provider_held``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns import quiet_hours, scheduling, stats
from campaigns.call_plan import TARGETS_PER_CALL
from campaigns.campaign_requests import Recipient, build_requests
from campaigns.models import AudienceMember, Campaign, CampaignRun, Dispatch
from campaigns.providers.base import ProviderClient, ProviderResponse
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
RUN_STATUS_FRESH_S = 0.25  # how stale a sender's view of its run's status may be (pause)
SETTLE_EVERY = 32  # outcomes counted into their runs together
MAX_CACHED_CLIENTS = 64
FAIR_RUNS = 50  # sending runs that share one claim
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
    """The campaign's first run, or the first run of each time zone of its audience when
    it ``splits_by_zone`` (the earliest is returned). Call inside the transaction that
    schedules it."""
    moment = now or timezone.now()
    zones = audience_zones(campaign) if splits_by_zone(campaign) else []
    if not zones:
        due = first_due(campaign, now=moment)
        if due is None:
            return None
        run, _ = CampaignRun.objects.get_or_create(campaign=campaign, due_at=due)
        return run
    runs = []
    for zone_name in zones:
        if campaign.schedule_mode == Campaign.ScheduleMode.NOW:
            due = moment
        else:
            due = _next_due(campaign, zone_name, after=moment)
        if due is not None:
            run, _ = CampaignRun.objects.get_or_create(
                campaign=campaign, due_at=due, time_zone=zone_name
            )
            runs.append(run)
    return min(runs, key=lambda run: run.due_at, default=None)


def splits_by_zone(campaign: Campaign) -> bool:
    """Whether the campaign is sent in one run per time zone of its audience: at its time
    in each recipient's local time, or when the app's quiet hours are read in each
    recipient's zone (each zone is then held back on its own). Never for a provider-held
    schedule: the provider sends at one time for everyone."""
    if scheduling.held_by_provider(campaign):
        return False
    local = campaign.recipient_local_time and campaign.schedule_mode != Campaign.ScheduleMode.NOW
    return local or quiet_hours.per_recipient(campaign.app)


def audience_zones(campaign: Campaign) -> list[str]:
    """The time zones of the audience's members, the campaign's for those without one:
    one DISTINCT query, however large the audience."""
    if campaign.audience_id is None:
        return []
    found = (
        AudienceMember.objects.filter(audience_id=campaign.audience_id)
        .order_by()
        .values_list("time_zone", flat=True)
        .distinct()
    )
    return sorted({name or campaign.time_zone for name in found})


def _next_due(campaign: Campaign, zone_name: str, *, after: datetime) -> datetime | None:
    """The campaign's next send time after ``after`` for its members in ``zone_name``: the
    same wall-clock time there in recipient-local time, else the campaign's own time. A
    zone where that time has already passed waits for its next one (see
    ``scheduling.occurrences``)."""
    in_zone = ZoneInfo(zone_name) if campaign.recipient_local_time else None
    upcoming = scheduling.occurrences(campaign, after=after, limit=1, in_zone=in_zone)
    return upcoming[0] if upcoming else None


def drop_waiting_runs(campaign: Campaign) -> int:
    deleted, _ = campaign.runs.filter(status=Run.WAITING).delete()
    return deleted


def claim_due_runs(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Move due runs from waiting to planning; the ids this call won. A run inside its app's
    quiet hours waits for their end, and one of a paused campaign (another zone's run) for
    the campaign to be resumed."""
    moment = now or timezone.now()
    due = (
        CampaignRun.objects.filter(status=Run.WAITING, due_at__lte=moment)
        .exclude(campaign__status=Campaign.Status.PAUSED)
        .order_by("due_at")
    )
    held = quiet_hours.held_back(due, now=moment)
    won = []
    for run_id in due.exclude(id__in=list(held)).values_list("id", flat=True)[:limit]:
        if CampaignRun.objects.filter(id=run_id, status=Run.WAITING).update(status=Run.PLANNING):
            won.append(run_id)
    return won


# -- planning --------------------------------------------------------------------------------


def run_members(run: CampaignRun) -> QuerySet[AudienceMember]:
    """The audience members ``run`` sends to, in id order: all of them for a run to everyone
    (``time_zone`` ""); for a run of one zone, the members in that zone, and those without
    a zone when it is the campaign's. A plain filter: planning in SQL wraps its query."""
    campaign = run.campaign
    members = AudienceMember.objects.filter(audience=campaign.audience)
    if run.time_zone:
        in_zone = Q(time_zone=run.time_zone)
        if run.time_zone == campaign.time_zone:
            in_zone |= Q(time_zone="")
        members = members.filter(in_zone)
    return members.order_by("id")


def _batches(run: CampaignRun) -> Iterator[list[list[Any]]]:
    """The run's targets in calls' worth, in member order; one call without targets
    when the provider finds the devices (broadcast, tag expression, every device)."""
    campaign = run.campaign
    audience = campaign.audience
    per_call = TARGETS_PER_CALL.get(campaign.kind)
    if audience is None or per_call is None or not audience.is_listed:
        yield []
        return
    rows = (
        run_members(run)
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


def _listed_batches(campaign: Campaign) -> bool:
    """Whether the campaign's calls carry targets from a listed audience."""
    audience = campaign.audience
    return audience is not None and audience.is_listed and campaign.kind in TARGETS_PER_CALL


def _write_dispatches(run: CampaignRun, moment: datetime) -> tuple[int, int]:
    """Bulk-create the run's dispatches from Python; (calls, targets)."""
    calls = targets = 0
    pending: list[Dispatch] = []
    for batch in _batches(run):
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
    return calls, targets


# The same batches as ``_batches`` (members in id order, per_call to a call, [target,
# values, extras] with {} for missing values), written by PostgreSQL itself: a million
# members never travel to Python and back (18.9 s → see tests/bench/bench_dispatch.py).
PLAN_SQL = """
INSERT INTO {dispatch} (
    run_id, seq, targets, target_count, status, attempts, next_attempt_at,
    lease_owner, request_id, result_code, message, provider_id
)
SELECT %s, numbered.n / %s + 1,
       jsonb_agg(
           jsonb_build_array(
               numbered.target,
               COALESCE(NULLIF(numbered.member_values, 'null'::jsonb), '{{}}'::jsonb),
               COALESCE(NULLIF(numbered.extras, 'null'::jsonb), '{{}}'::jsonb)
           )
           ORDER BY numbered.n
       ),
       count(*), %s, 0, %s, '', '', '', '', ''
FROM (
    SELECT member.target,
           member.member_values,
           member.extras,
           row_number() OVER (ORDER BY member.id) - 1 AS n
    FROM ({members}) AS member (id, target, member_values, extras)
) AS numbered
GROUP BY numbered.n / %s
RETURNING target_count
"""


def _write_dispatches_in_sql(run: CampaignRun, moment: datetime) -> tuple[int, int]:
    """``_write_dispatches`` in one INSERT … SELECT (PostgreSQL); (calls, targets)."""
    per_call = TARGETS_PER_CALL[run.campaign.kind]
    members, params = (
        run_members(run)
        .values_list("id", "target", "values", "extended_params")
        .query.sql_with_params()
    )
    sql = PLAN_SQL.format(
        dispatch=connection.ops.quote_name(Dispatch._meta.db_table), members=members
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.id, per_call, D.PENDING, moment, *params, per_call])
        counts = [row[0] for row in cursor.fetchall()]
    return len(counts), sum(counts)


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
        if connection.vendor == "postgresql" and _listed_batches(run.campaign):
            calls, targets = _write_dispatches_in_sql(run, moment)
        else:
            calls, targets = _write_dispatches(run, moment)
        CampaignRun.objects.filter(id=run.id).update(
            status=Run.SENDING, calls=calls, targets=targets, planned_at=moment, started_at=moment
        )
        Campaign.objects.filter(id=run.campaign_id, status=Campaign.Status.SCHEDULED).update(
            status=Campaign.Status.RUNNING
        )
        Campaign.objects.filter(id=run.campaign_id).update(
            first_sent_at=Coalesce("first_sent_at", Value(moment)),
            total_targets=F("total_targets") + targets,
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


def _fair_candidates(limit: int, moment: datetime) -> list[int]:
    """Due dispatches, oldest first within each sending run, the chunk shared between the
    runs: a campaign sent now does not wait behind the backlog of a million-target run
    that started earlier (one query per sending run, and there are few)."""
    runs = list(
        CampaignRun.objects.filter(status=Run.SENDING).values_list("id", flat=True)[:FAIR_RUNS]
    )
    random.shuffle(runs)  # which run gets the odd share first
    share = -(-limit // len(runs)) if runs else 0
    candidates: list[int] = []
    busy = []  # runs that filled their share: they may have more
    for run_id in runs:
        wanted = min(share, limit - len(candidates))
        if wanted <= 0:
            break
        found = list(
            Dispatch.objects.filter(leasable(moment), run_id=run_id)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:wanted]
        )
        candidates += found
        if len(found) == wanted:
            busy.append(run_id)
    if busy and len(candidates) < limit:  # the shares of runs with less to send
        candidates += (
            Dispatch.objects.filter(leasable(moment), run_id__in=busy)
            .exclude(id__in=candidates)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[: limit - len(candidates)]
        )
    return candidates


def claim_dispatches(limit: int = CLAIM_CHUNK, *, now: datetime | None = None) -> list[int]:
    """Lease up to ``limit`` due dispatches to this caller; their ids."""
    moment = now or timezone.now()
    token = uuid.uuid4().hex
    candidates = _fair_candidates(limit, moment)
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


class RunWatch:
    """The status of the runs a sender is sending, read at most every RUN_STATUS_FRESH_S
    (one query for a chunk of calls instead of one per call): a paused or cancelled run's
    claimed calls are handed back well within a second, unsent. One per sending loop, shared
    by its threads."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[float, str]] = {}
        self._lock = threading.Lock()  # one thread reads; the others wait for its answer

    def status(self, run_id: int) -> str:
        with self._lock:
            seen = self._seen.get(run_id)
            moment = time.monotonic()
            if seen is not None and moment - seen[0] < RUN_STATUS_FRESH_S:
                return seen[1]
            status = (
                CampaignRun.objects.filter(id=run_id).values_list("status", flat=True).first()
                or Run.CANCELLED
            )
            self._seen[run_id] = (moment, status)
            return status


def leased(ids: Sequence[int]) -> list[Dispatch]:
    """The leased dispatches of ``ids`` with their runs, campaigns and apps: two queries
    for a chunk, one Campaign object shared by all calls of a run."""
    dispatches = list(
        Dispatch.objects.filter(id__in=ids, status=D.SENDING)
        .only("id", "run_id", "seq", "targets", "target_count", "attempts", "lease_owner")
        .order_by("id")
    )
    runs = CampaignRun.objects.select_related(
        "campaign__app", "campaign__audience", "campaign__template"
    ).in_bulk({dispatch.run_id for dispatch in dispatches})
    for dispatch in dispatches:
        dispatch.run = runs[dispatch.run_id]
    return dispatches


def send(dispatch_id: int, *, now: datetime | None = None) -> Outcome | None:
    """Make the call of one leased dispatch and record what the provider said."""
    found = leased([dispatch_id])
    return send_leased(found[0], RunWatch(), now=now) if found else None


def send_leased(
    dispatch: Dispatch, watch: RunWatch, *, now: datetime | None = None
) -> Outcome | None:
    """``send`` of a dispatch ``leased`` loaded, its run's status read through ``watch``."""
    run, owner = dispatch.run, dispatch.lease_owner
    mine = Dispatch.objects.filter(id=dispatch.id, lease_owner=owner, status=D.SENDING)
    campaign = run.campaign
    recipients = [Recipient(target, values, extras) for target, values, extras in dispatch.targets]
    context = {"run_id": run.id, "dispatch_id": dispatch.id, "attempt": dispatch.attempts}
    status = watch.status(run.id)
    if status != Run.SENDING:  # paused or cancelled since the claim
        _hand_back(mine, status)
        return None
    try:
        requests = build_requests(
            campaign, recipients, call_keys(run, dispatch), now=now or timezone.now()
        )
        client = cached_client(campaign)
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
                # Paused or cancelled since the claim or while this call waited for its
                # slot: not sent.
                status = watch.status(run.id)
                if status != Run.SENDING:
                    _hand_back(mine, status)
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


_clients: dict[tuple[int, datetime, bool], ProviderClient] = {}


def cached_client(campaign: Campaign) -> ProviderClient:
    """This process's client for the campaign's app and provider, made again when the app
    changes (its keys, endpoint or signature): decrypting the secret and building a client
    for every call cost a fifth of a millisecond."""
    app = campaign.app
    key = (app.pk, app.updated_at, campaign.kind == Campaign.Kind.EMAS)
    client = _clients.get(key)
    if client is None:
        if len(_clients) > MAX_CACHED_CLIENTS:
            _clients.clear()
        client = _clients[key] = client_for(campaign)
    return client


def _hand_back(mine: Any, run_status: str) -> None:
    """A leased call its run no longer wants now, unsent: waiting again if paused (the
    claim was no attempt: ten pauses must not use up a call's attempts), else cancelled."""
    status = D.PENDING if run_status in (Run.PAUSED, Run.PLANNING, Run.WAITING) else D.CANCELLED
    mine.update(status=status, lease_owner="", lease_expires_at=None, attempts=F("attempts") - 1)


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
        log.info(
            "outcome dropped: lease lost", extra={"run_id": run.id, "dispatch_id": dispatch.id}
        )
        return None
    if status == D.FAILED or log.isEnabledFor(logging.DEBUG):  # a line per call costs
        log.log(
            logging.WARNING if status == D.FAILED else logging.DEBUG,
            "call %s",
            status,
            extra={
                "run_id": run.id,
                "dispatch_id": dispatch.id,
                "attempt": dispatch.attempts,
                "targets": dispatch.target_count,
                "code": code,
                "request_id": request_id,
            },
        )
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
        # Not into a finished run: its counts were taken from its calls when it finished,
        # these outcomes included (a run finished by another sender or the tick meanwhile).
        CampaignRun.objects.filter(id=run_id, status__in=CampaignRun.ACTIVE).update(
            calls_sent=F("calls_sent") + tally["cs"],
            calls_failed=F("calls_failed") + tally["cf"],
            targets_sent=F("targets_sent") + tally["ts"],
            targets_failed=F("targets_failed") + tally["tf"],
        )


def _send_in_thread(dispatch: Dispatch, watch: RunWatch) -> Outcome | None:
    try:
        return send_leased(dispatch, watch)
    except Exception:
        log.exception("send crashed", extra={"run_id": dispatch.run_id, "dispatch_id": dispatch.id})
        # A broken connection is dropped here and made again by the next call. (Not after
        # every call: with CONN_HEALTH_CHECKS that cost one more round trip per call.)
        close_old_connections()
        return None  # its lease runs out and it is claimed again


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


def shutdown_senders() -> None:
    """Close this process's sender threads and their database connections (each thread
    closes its own: a barrier gives every thread exactly one of the closing jobs)."""
    with _pools_lock:
        pools = list(_pools.items())
        _pools.clear()
    for (_, threads), pool in pools:
        everyone = threading.Barrier(threads, timeout=30)
        for _ in range(threads):
            pool.submit(_close_when_all_wait, everyone)
        pool.shutdown(wait=True)


def _close_when_all_wait(everyone: threading.Barrier) -> None:
    everyone.wait()
    connections.close_all()


def settle(outcomes: Sequence[Outcome | None]) -> None:
    """Count the outcomes into their runs and complete the runs with nothing left."""
    count(outcomes)
    finish_runs({outcome.run_id for outcome in outcomes if outcome is not None})


def send_claimed(ids: Sequence[int], *, threads: int = THREADS) -> list[Outcome | None]:
    """Send leased dispatches with up to ``threads`` calls in flight, then count them."""
    watch = RunWatch()
    dispatches = leased(ids)
    if len(dispatches) <= 1 or threads <= 1:
        outcomes = [send_leased(dispatch, watch) for dispatch in dispatches]
    else:
        pool = _sender_pool(threads)
        outcomes = list(pool.map(_send_in_thread, dispatches, [watch] * len(dispatches)))
    settle(outcomes)
    return outcomes


@dataclass(frozen=True)
class SendReport:
    claimed: int  # calls this sender claimed
    more: bool  # stopped for time while calls may still be due (else: nothing left to claim)


def send_due(*, seconds: float, threads: int | None = None) -> SendReport:
    """Keep up to ``threads`` (default THREADS) calls in flight, and as many claimed behind
    them, for up to ``seconds``: claim more whenever half the queue has gone, never waiting
    for a whole chunk to finish, and count outcomes every SETTLE_EVERY calls. One thread
    sends a chunk at a time in this thread."""
    deadline = time.monotonic() + seconds
    threads = threads or THREADS
    if threads <= 1:
        claimed = 0
        while time.monotonic() < deadline:
            ids = claim_dispatches()
            if not ids:
                return SendReport(claimed, more=False)
            claimed += len(ids)
            send_claimed(ids, threads=1)
        return SendReport(claimed, more=True)
    pool, watch = _sender_pool(threads), RunWatch()
    in_flight: set[Future[Outcome | None]] = set()
    done_outcomes: list[Outcome | None] = []
    more, claimed = True, 0
    while True:
        if more and len(in_flight) <= threads:
            if time.monotonic() >= deadline:
                break
            ids = claim_dispatches(min(CLAIM_CHUNK, 2 * threads - len(in_flight)))
            more, claimed = bool(ids), claimed + len(ids)
            for dispatch in leased(ids):
                in_flight.add(pool.submit(_send_in_thread, dispatch, watch))
        if not in_flight:
            break
        finished, in_flight = wait(in_flight, timeout=1.0, return_when=FIRST_COMPLETED)
        done_outcomes.extend(future.result() for future in finished)
        if len(done_outcomes) >= SETTLE_EVERY:
            settle(done_outcomes)
            done_outcomes = []
    for future in in_flight:  # stopped for time: let the calls in flight end
        done_outcomes.append(future.result())
    settle(done_outcomes)
    return SendReport(claimed, more)


# -- completion ------------------------------------------------------------------------------


def finish_runs(run_ids: set[int], *, now: datetime | None = None) -> list[int]:
    """Complete the runs with nothing left to send; the ids completed."""
    moment = now or timezone.now()
    done = []
    for run_id in run_ids:
        left = Dispatch.objects.filter(run_id=run_id, status__in=(D.PENDING, D.SENDING))
        if left.exists():
            continue
        totals = final_counts(run_id)
        failed = totals["calls_failed"] > 0 and totals["calls_sent"] == 0
        with transaction.atomic():
            if not CampaignRun.objects.filter(id=run_id, status=Run.SENDING).update(
                status=Run.FAILED if failed else Run.COMPLETED,
                finished_at=moment,
                # Its delivery results are asked for from a minute on (campaigns.stats).
                stats_due_at=stats.first_due(moment) if totals["calls_sent"] else None,
                **totals,
            ):
                continue
            run = CampaignRun.objects.select_related("campaign").get(id=run_id)
            _after_run(run.campaign, run, now=moment)
            stats.refresh_totals(run.campaign_id)
        done.append(run_id)
        log.info("run failed" if failed else "run completed", extra={"run_id": run_id, **totals})
    return done


def finish_idle_runs(*, now: datetime | None = None) -> list[int]:
    """Complete the sending runs with nothing left to send whose senders did not (``tick``
    calls it): a sender killed between recording a run's last calls and counting them, or
    a run paused while its last calls were in flight and resumed after, would otherwise
    stay "sending" for ever. One query, plus one per sending run (there are few)."""
    sending = CampaignRun.objects.filter(status=Run.SENDING).values_list("id", flat=True)
    return finish_runs(set(sending[:FAIR_RUNS]), now=now)


def final_counts(run_id: int) -> dict[str, int]:
    """A finished run's counts from its dispatches, once: the counts kept as it went miss
    the outcomes of a sender killed between recording its calls and counting them."""
    sent, failed = Q(status=D.SENT), Q(status=D.FAILED)
    totals = Dispatch.objects.filter(run_id=run_id).aggregate(
        calls_sent=Count("id", filter=sent),
        calls_failed=Count("id", filter=failed),
        targets_sent=Sum("target_count", filter=sent, default=0),
        targets_failed=Sum("target_count", filter=failed, default=0),
    )
    return {name: int(value or 0) for name, value in totals.items()}


def _after_run(campaign: Campaign, run: CampaignRun, *, now: datetime) -> None:
    """A recurring campaign gets its next run (a run of one zone: each zone of the audience
    now its next one, so that a zone new to the audience joins in and one no longer there
    stops; a zone's run that is there already is found, not made twice); otherwise the
    campaign is complete once no run is active."""
    if campaign.schedule_mode == Campaign.ScheduleMode.RECURRING and not (
        scheduling.held_by_provider(campaign)
    ):
        after = max(now, run.due_at)
        zones = audience_zones(campaign) if run.time_zone else [""]
        upcoming = [
            (due, zone_name)
            for zone_name in zones
            if (due := _next_due(campaign, zone_name or campaign.time_zone, after=after))
        ]
        for due, zone_name in upcoming:
            CampaignRun.objects.get_or_create(campaign=campaign, due_at=due, time_zone=zone_name)
        if upcoming:
            # Scheduled again once no other zone's run is still sending.
            if not campaign.runs.filter(status__in=(Run.PLANNING, Run.SENDING)).exists():
                Campaign.objects.filter(id=campaign.id, status=Campaign.Status.RUNNING).update(
                    status=Campaign.Status.SCHEDULED
                )
            return
    if scheduling.held_by_provider(campaign) and scheduling.occurrences(
        campaign, after=now, limit=1
    ):
        return  # the provider still holds a send: running, and cancellable there, until then
    if not campaign.runs.filter(status__in=CampaignRun.ACTIVE).exists():
        Campaign.objects.filter(
            id=campaign.id, status__in=(Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.COMPLETED)


def finish_provider_held(*, now: datetime | None = None) -> list[int]:
    """Complete the provider-held campaigns whose calls are made and whose last send time
    at the provider has passed (what ``tick`` does); the ids completed."""
    moment = now or timezone.now()
    handed_over = (
        Campaign.objects.filter(
            status=Campaign.Status.RUNNING, schedule_holder=Campaign.ScheduleHolder.PROVIDER
        )
        .exclude(schedule_mode=Campaign.ScheduleMode.NOW)
        .exclude(runs__status__in=CampaignRun.ACTIVE)
    )
    done = [
        campaign.id
        for campaign in handed_over
        if not scheduling.occurrences(campaign, after=moment, limit=1)
    ]
    Campaign.objects.filter(id__in=done, status=Campaign.Status.RUNNING).update(
        status=Campaign.Status.COMPLETED
    )
    return done


def progress(run: CampaignRun) -> dict[str, Any]:
    """Failures of a run by provider code (one grouped query over its failed dispatches)."""
    failed = (
        run.dispatches.filter(status=D.FAILED)
        .values("result_code")
        .annotate(calls=Count("id"), targets=Sum("target_count"))
        .order_by("-calls")
    )
    return {"failures": list(failed)}
