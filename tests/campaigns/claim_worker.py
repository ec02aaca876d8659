"""One process of the concurrent-claim tests (test_dispatch_concurrency.py): it claims due
runs as ``tick`` does, or due dispatches as a sender does, until none is left, and prints
as JSON the ids it won.

    python -m tests.campaigns.claim_worker runs <limit>
    python -m tests.campaigns.claim_worker dispatches <limit>

``runs`` calls the real ``dispatch_fire_due`` task body (one transaction around
``claim_due_runs``, a ``dispatch_plan`` nudge per run after commit), with ``limit`` runs
per tick and the nudges recorded instead of sent to a broker: a run "fires" when its nudge
goes out. ``dispatches`` calls ``claim_dispatches(limit)`` as ``dispatch_send`` does.

It prints "ready" once connected and starts when a line arrives on stdin, so the processes
start together. It stops when nothing claimable is left (not at its first empty claim: the
other process may still hold uncommitted claims). A tick that the database refuses
(deadlock, lock timeout) is counted and the next one follows, as beat would do. The
database is the one DATABASE_URL names.
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import partial
from typing import Any
from unittest import mock

import django

DEADLINE_S = 60.0  # a hung process is a failure the test reports, not a hung suite
# A breath between ticks, as beat leaves: on SQLite, which takes one writer at a time, a
# worker that commits and at once begins again can otherwise starve the other, whose busy
# handler polls the lock only every few to 100 ms.
PAUSE_S = 0.002


def claim_runs(limit: int) -> dict[str, Any]:
    from django.db import DatabaseError
    from django.utils import timezone

    from campaigns import dispatch, tasks
    from campaigns.models import CampaignRun

    fired: list[int] = []
    refused: list[str] = []
    ticks = 0
    waiting = CampaignRun.objects.filter(status=CampaignRun.Status.WAITING)
    stop_at = time.monotonic() + DEADLINE_S
    a_few = partial(dispatch.claim_due_runs, limit=limit)
    with (
        mock.patch.object(dispatch, "claim_due_runs", a_few),
        mock.patch.object(tasks.dispatch_plan, "delay", fired.append),
    ):
        while waiting.filter(due_at__lte=timezone.now()).exists():
            if time.monotonic() > stop_at:
                break
            ticks += 1
            try:
                tasks.dispatch_fire_due()
            except DatabaseError as error:
                refused.append(f"{type(error).__name__}: {error}"[:200])
            time.sleep(PAUSE_S)
    return {"won": fired, "ticks": ticks, "refused": refused}


def claim_dispatches(limit: int) -> dict[str, Any]:
    from django.utils import timezone

    from campaigns import dispatch
    from campaigns.models import Dispatch

    won: list[int] = []
    calls = 0
    stop_at = time.monotonic() + DEADLINE_S
    while Dispatch.objects.filter(dispatch.claimable(timezone.now())).exists():
        if time.monotonic() > stop_at:
            break
        calls += 1
        won.extend(dispatch.claim_dispatches(limit))
    return {"won": won, "ticks": calls, "refused": []}


def main() -> None:
    mode, limit = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection

    connection.ensure_connection()  # connect now, not in the race
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    report = claim_runs(limit) if mode == "runs" else claim_dispatches(limit)
    report["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
