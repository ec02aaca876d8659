"""Running an audience import in the background (the ``import_audience`` task calls
``run_import``).

The file is streamed row by row; each row is checked (``audience_csv``, ``member_rules``),
valid rows go to the staging table in batches and rejected ones to a CSV report with
their line numbers and reasons. After each batch the progress is written and committed,
so the page can show it, and a requested cancel is noticed. The members change only at
the end, in one transaction that replaces or extends them from the staged rows and sets
the stored member count; a failure or a cancel before then leaves them untouched.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from campaigns.audience_csv import (
    PASTED_HEADER,
    HeaderError,
    RowParser,
    csv_rows,
    pasted_rows,
    text_of,
)
from campaigns.audience_staging import StagedLine, Staging, apply_staged
from campaigns.audit import record
from campaigns.member_rules import target_check
from campaigns.models import Audience, AudienceImport

logger = logging.getLogger(__name__)

BATCH_ROWS = 10_000  # rows handed to the staging table at a time
# How often the progress is written (and a cancel noticed): the page polls every second.
PROGRESS_SECONDS = 0.5
REPORT_COLUMNS = ("line", "reason")
SOURCE_MISSING = gettext_noop(
    "The worker found no uploaded file: web and workers must share MEDIA_ROOT (or use a "
    "shared storage). The members are unchanged; upload the file again."
)

Status = AudienceImport.Status


class ImportCancelled(Exception):
    """Someone asked to cancel the import (or its audience is gone)."""


@dataclass
class Tally:
    read: int = 0
    rejected: int = 0

    @property
    def valid(self) -> int:
        return self.read - self.rejected


def run_import(import_id: int) -> None:
    """Import the members of ``import_id`` if it is still queued; any outcome is written
    to the import's row, never raised."""
    if not _claim(import_id):
        _discard_unstarted(import_id)
        return
    audience_import = AudienceImport.objects.select_related("audience__app", "template").get(
        pk=import_id
    )
    try:
        with (
            Staging() as staging,
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as report,
        ):
            tally = _read(audience_import, staging, report)
            _finish(audience_import, tally, report)
    except ImportCancelled:
        _end(import_id, Status.CANCELLED)
    except HeaderError as error:
        _end(import_id, Status.FAILED, str(error))
    except FileNotFoundError:
        logger.exception("audience import %s: no file", import_id)
        _end(import_id, Status.FAILED, _(SOURCE_MISSING))
    except Exception:
        logger.exception("audience import %s failed", import_id)
        _end(
            import_id,
            Status.FAILED,
            _("An unexpected error stopped the import; the members are unchanged."),
        )
    finally:
        # The members hold what it said now; the upload would only fill the disk.
        audience_import.source.storage.delete(audience_import.source.name)


def _discard_unstarted(import_id: int) -> None:
    """The file of an import cancelled before it started is not needed any more."""
    unstarted = AudienceImport.objects.filter(
        pk=import_id, status=Status.CANCELLED, started_at__isnull=True
    ).first()
    if unstarted is not None and unstarted.source:
        unstarted.source.storage.delete(unstarted.source.name)


def _claim(import_id: int) -> bool:
    """Take the import from the queue; one cancelled before it started ends here."""
    queued = AudienceImport.objects.filter(pk=import_id, status=Status.QUEUED)
    now = timezone.now()
    if queued.filter(cancel_requested=False).update(
        status=Status.RUNNING, started_at=now, progress_at=now
    ):
        return True
    queued.update(status=Status.CANCELLED, finished_at=timezone.now())
    return False


def _read(audience_import: AudienceImport, staging: Staging, report: IO[str]) -> Tally:
    """Stream the file into the staging table and the rejected rows into ``report``."""
    audience = audience_import.audience
    check = target_check(audience.app.provider, audience.kind)
    required = audience_import.template.placeholders if audience_import.template else []
    tally = Tally()
    with audience_import.source.open("rb") as binary, text_of(binary) as text:
        if audience_import.pasted:
            header, rows = PASTED_HEADER, pasted_rows(text)
        else:
            header, rows = csv_rows(text)
        parser = RowParser(header, check, required)
        rejected = csv.writer(report)
        rejected.writerow([*REPORT_COLUMNS, *header.names])
        batch: list[StagedLine] = []
        next_progress = time.monotonic() + PROGRESS_SECONDS
        for line, cells in rows:
            tally.read += 1
            member = parser.parse(cells)
            if isinstance(member, str):
                tally.rejected += 1
                rejected.writerow([line, member, *(cells or ())])
            else:
                batch.append((line, member))
            if tally.read % BATCH_ROWS == 0:
                staging.write(batch)
                batch = []
                if time.monotonic() >= next_progress:
                    staging.pause()
                    _progress(audience_import.pk, binary.tell(), tally)
                    next_progress = time.monotonic() + PROGRESS_SECONDS
        staging.write(batch)
        staging.pause()
        _progress(audience_import.pk, binary.tell(), tally)
    return tally


def _progress(import_id: int, processed_bytes: int, tally: Tally) -> None:
    """Write the progress (committed at once, for the page to poll) unless a cancel was
    requested: then stop."""
    written = AudienceImport.objects.filter(
        pk=import_id, status=Status.RUNNING, cancel_requested=False
    ).update(
        processed_bytes=processed_bytes,
        rows_read=tally.read,
        rows_rejected=tally.rejected,
        progress_at=timezone.now(),
    )
    if not written:
        raise ImportCancelled


def _finish(audience_import: AudienceImport, tally: Tally, report: IO[str]) -> None:
    """Save the report, then move the staged rows into the members and end the import,
    all in one transaction."""
    report_name = ""
    if tally.rejected:
        report.seek(0)
        field = audience_import.rejected_report
        name = field.field.generate_filename(audience_import, f"{audience_import.pk}-rejected.csv")
        report_name = field.storage.save(name, File(report))
    try:
        _replace_members(audience_import, tally, report_name)
    except BaseException:
        if report_name:
            audience_import.rejected_report.storage.delete(report_name)
        raise


def _replace_members(audience_import: AudienceImport, tally: Tally, report_name: str) -> None:
    # The audience is locked, so imports into it take turns; the import's row is not, so
    # a cancel is never kept waiting: the import ends only if no cancel came first.
    with transaction.atomic():
        audience = Audience.objects.select_for_update().get(pk=audience_import.audience_id)
        before = audience.member_count
        added = apply_staged(audience_import)
        replace = audience_import.mode == AudienceImport.Mode.REPLACE
        audience.member_count = added if replace else before + added
        audience.value_columns = audience_import.value_columns
        if replace or audience_import.template_id:
            audience.template_id = audience_import.template_id
        audience.save(update_fields=["member_count", "value_columns", "template", "updated_at"])
        ended = AudienceImport.objects.filter(
            pk=audience_import.pk, status=Status.RUNNING, cancel_requested=False
        ).update(
            status=Status.SUCCEEDED,
            processed_bytes=audience_import.size_bytes,
            rows_read=tally.read,
            rows_rejected=tally.rejected,
            rows_imported=added,
            rows_duplicate=tally.valid - added,
            rejected_report=report_name,
            finished_at=timezone.now(),
        )
        if not ended:
            raise ImportCancelled
        record(None, "import_finished", audience, {"member_count": [before, audience.member_count]})


def _end(import_id: int, status: str, error: str = "") -> None:
    AudienceImport.objects.filter(pk=import_id, status=Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now()
    )


STALLED_AFTER = timedelta(minutes=10)
REQUEUE_AFTER = timedelta(minutes=5)
STALLED = gettext_noop(
    "The worker running this import stopped (no progress for 10 minutes); the members are "
    "unchanged. Start the import again."
)


def waiting_too_long(now: datetime | None = None) -> list[int]:
    """Imports still queued after REQUEUE_AFTER: their message may have been lost (a
    broker restart); sending it again is safe, as a second delivery finds the import
    claimed and does nothing."""
    cutoff = (now or timezone.now()) - REQUEUE_AFTER
    return list(
        AudienceImport.objects.filter(
            status=Status.QUEUED, cancel_requested=False, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )


def fail_stalled(now: datetime | None = None) -> int:
    """End the imports whose worker died (killed, machine lost): they would show
    "importing" for ever. A worker that was only slow finds its import ended at its next
    progress write and leaves the members as they were."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    return AudienceImport.objects.filter(status=Status.RUNNING, progress_at__lt=cutoff).update(
        status=Status.FAILED, error=_(STALLED), finished_at=now or timezone.now()
    )
