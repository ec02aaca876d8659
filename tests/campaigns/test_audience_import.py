"""Importing members: what ends up in the audience, what is rejected and why, and that
the members change only when an import succeeds."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from campaigns import audience_import
from campaigns.audience_import import run_import
from campaigns.audience_staging import apply_staged
from campaigns.models import Audience, AudienceImport, AuditEvent, MessageTemplate
from campaigns.tasks import import_audience
from tests.factories import AudienceFactory, EmasAppFactory, MessageTemplateFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path runs on PostgreSQL only"
)


def start(
    audience: Audience,
    text: str,
    *,
    mode: str = AudienceImport.Mode.APPEND,
    template: MessageTemplate | None = None,
    pasted: bool = False,
    value_columns: list[str] | None = None,
) -> AudienceImport:
    """A queued import of ``text``, as the import form leaves it."""
    queued = AudienceImport(
        audience=audience,
        mode=mode,
        pasted=pasted,
        source_name="" if pasted else "members.csv",
        template=template,
        value_columns=value_columns if value_columns is not None else [],
    )
    content = text.encode()
    queued.source.save("pasted.txt" if pasted else "members.csv", ContentFile(content), save=False)
    queued.size_bytes = len(content)
    queued.save()
    return queued


def imported(audience_import: AudienceImport) -> AudienceImport:
    run_import(audience_import.pk)
    audience_import.refresh_from_db()
    return audience_import


def members(audience: Audience) -> dict[str, tuple[object, str, object]]:
    rows = audience.members.order_by("id")
    return {m.target: (m.values, m.time_zone, m.extended_params) for m in rows}


def report_rows(audience_import: AudienceImport) -> list[list[str]]:
    with audience_import.rejected_report.open("rb") as report:
        return list(csv.reader(io.StringIO(report.read().decode())))


def test_it_imports_targets_with_their_values_time_zones_and_extended_params() -> None:
    audience = AudienceFactory.create()
    text = (
        "target,name,money,timezone,extended_params\n"
        'user1,Li Wei,88,Asia/Shanghai,"{""page"": ""sale""}"\n'
        "user2,Anna,120,,\n"
    )
    done = imported(start(audience, text, value_columns=["name", "money"]))

    assert done.status == AudienceImport.Status.SUCCEEDED
    assert (done.rows_read, done.rows_imported, done.rows_rejected) == (2, 2, 0)
    assert members(audience) == {
        "user1": ({"name": "Li Wei", "money": "88"}, "Asia/Shanghai", {"page": "sale"}),
        "user2": ({"name": "Anna", "money": "120"}, "", None),
    }
    audience.refresh_from_db()
    assert audience.member_count == 2
    assert audience.value_columns == ["name", "money"]
    assert done.progress == 1.0


def test_it_imports_a_pasted_list_one_target_per_line() -> None:
    audience = AudienceFactory.create()
    done = imported(start(audience, "user1\n\n  user2  \nuser3\n", pasted=True))

    assert done.status == AudienceImport.Status.SUCCEEDED
    assert list(members(audience)) == ["user1", "user2", "user3"]
    assert members(audience)["user1"] == (None, "", None)


def test_it_keeps_going_past_bad_rows_and_reports_each_with_its_line_and_reason() -> None:
    audience = AudienceFactory.create(app=EmasAppFactory.create(), kind=Audience.Kind.DEVICES)
    good = "e2ba19de97604f55b165576736477b74"
    text = (
        "target,timezone,extended_params\n"
        f"{good},Asia/Shanghai,\n"
        "not-a-device-id,,\n"
        f"{good[:-1]}0,Mars/Olympus,\n"
        f"{good[:-1]}1,,[1]\n"
        f"{good[:-1]}2,,\n"
        "only-one-cell\n"
    )
    done = imported(start(audience, text))

    assert done.status == AudienceImport.Status.SUCCEEDED
    assert (done.rows_read, done.rows_imported, done.rows_rejected) == (6, 2, 4)
    assert set(members(audience)) == {good, f"{good[:-1]}2"}
    rows = report_rows(done)
    assert rows[0] == ["line", "reason", "target", "timezone", "extended_params"]
    assert [(row[0], row[2]) for row in rows[1:]] == [
        ("3", "not-a-device-id"),
        ("4", f"{good[:-1]}0"),
        ("5", f"{good[:-1]}1"),
        ("7", "only-one-cell"),
    ]
    reasons = [row[1] for row in rows[1:]]
    assert reasons[0] == "An EMAS device ID is 32 letters and digits."
    assert "Mars/Olympus is not a time zone name" in reasons[1]
    assert "must be a JSON object" in reasons[2]
    assert reasons[3] == "This line has 1 columns; the header has 3."


def test_a_target_twice_in_the_file_is_imported_once_and_counted_as_a_duplicate() -> None:
    audience = AudienceFactory.create()
    text = "target,name\nuser1,First\nuser2,Two\nuser1,Again\n"
    done = imported(start(audience, text, value_columns=["name"]))

    assert (done.rows_imported, done.rows_duplicate) == (2, 1)
    assert members(audience)["user1"][0] == {"name": "First"}


def test_append_keeps_the_members_and_skips_targets_already_in_the_audience() -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\nuser2\n", pasted=True))
    done = imported(start(audience, "user2\nuser3\n", pasted=True))

    assert (done.rows_imported, done.rows_duplicate) == (1, 1)
    assert set(members(audience)) == {"user1", "user2", "user3"}
    audience.refresh_from_db()
    assert audience.member_count == 3


def test_replace_swaps_every_member_for_the_file() -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\nuser2\n", pasted=True))
    done = imported(start(audience, "user2\nuser3\n", pasted=True, mode="replace"))

    assert (done.rows_imported, done.rows_duplicate) == (2, 0)
    assert set(members(audience)) == {"user2", "user3"}
    audience.refresh_from_db()
    assert audience.member_count == 2


def test_the_values_are_checked_against_the_template_placeholders_row_by_row() -> None:
    audience = AudienceFactory.create()
    template = MessageTemplateFactory.create(app=audience.app)  # #name# and #money#
    text = "target,name,money,note\nuser1,Li,8,x\nuser2,,8,\nuser3,Wu,,\n"
    done = imported(start(audience, text, template=template, value_columns=["name", "money"]))

    assert set(members(audience)) == {"user1"}
    assert [row[1] for row in report_rows(done)[1:]] == [
        "No value for the template's #name#.",
        "No value for the template's #money#.",
    ]
    audience.refresh_from_db()
    assert audience.template == template


def test_a_cancel_stops_the_import_and_leaves_the_members_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\n", pasted=True))
    replacing = start(
        audience, "".join(f"new{n}\n" for n in range(50)), pasted=True, mode="replace"
    )
    monkeypatch.setattr(audience_import, "BATCH_ROWS", 10)
    monkeypatch.setattr(audience_import, "PROGRESS_SECONDS", 0.0)
    reads = 0
    real_progress = audience_import._progress

    def cancel_after_first_batch(import_id: int, processed: int, tally: object) -> None:
        nonlocal reads
        reads += 1
        if reads == 2:  # someone presses Cancel while the file is read
            AudienceImport.objects.filter(pk=import_id).update(cancel_requested=True)
        real_progress(import_id, processed, tally)  # type: ignore[arg-type]

    monkeypatch.setattr(audience_import, "_progress", cancel_after_first_batch)
    done = imported(replacing)

    assert done.status == AudienceImport.Status.CANCELLED
    assert reads == 2, "the import stops at the next progress write"
    assert set(members(audience)) == {"user1"}
    audience.refresh_from_db()
    assert audience.member_count == 1


def test_a_failure_while_saving_leaves_the_members_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\nuser2\n", pasted=True))

    def broken(*args: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(audience_import, "apply_staged", broken)
    done = imported(start(audience, "user3\n", pasted=True, mode="replace"))

    assert done.status == AudienceImport.Status.FAILED
    assert done.error == "An unexpected error stopped the import; the members are unchanged."
    assert set(members(audience)) == {"user1", "user2"}
    audience.refresh_from_db()
    assert audience.member_count == 2


def test_a_cancel_that_arrives_while_the_members_are_saved_undoes_the_save(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\n", pasted=True))
    real_apply = apply_staged

    def cancelled_meanwhile(queued: AudienceImport) -> int:
        added = real_apply(queued)
        AudienceImport.objects.filter(pk=queued.pk).update(cancel_requested=True)
        return added

    monkeypatch.setattr(audience_import, "apply_staged", cancelled_meanwhile)
    done = imported(start(audience, "user2\n", pasted=True, mode="replace"))

    assert done.status == AudienceImport.Status.CANCELLED
    assert set(members(audience)) == {"user1"}


def test_a_header_without_a_target_column_fails_the_import_saying_so() -> None:
    audience = AudienceFactory.create()
    done = imported(start(audience, "user_id,name\nuser1,Li\n"))

    assert done.status == AudienceImport.Status.FAILED
    assert "no target column" in done.error
    assert audience.members.count() == 0


def test_progress_is_written_as_the_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "".join(f"user{n}\n" for n in range(95)), pasted=True)
    monkeypatch.setattr(audience_import, "BATCH_ROWS", 20)
    monkeypatch.setattr(audience_import, "PROGRESS_SECONDS", 0.0)
    seen: list[tuple[int, int]] = []
    real_progress = audience_import._progress

    def watch(import_id: int, processed: int, tally: audience_import.Tally) -> None:
        real_progress(import_id, processed, tally)
        row = AudienceImport.objects.get(pk=import_id)  # what the page would read now
        seen.append((row.rows_read, row.processed_bytes))

    monkeypatch.setattr(audience_import, "_progress", watch)
    imported(queued)

    assert [read for read, _bytes in seen] == [20, 40, 60, 80, 95]
    assert seen[-1][1] == queued.size_bytes


def test_an_import_cancelled_while_queued_never_runs_and_its_file_goes(
    media_root: Path,
) -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "user1\n", pasted=True)
    AudienceImport.objects.filter(pk=queued.pk).update(cancel_requested=True)

    done = imported(queued)

    assert done.status == AudienceImport.Status.CANCELLED
    assert audience.members.count() == 0
    assert not (media_root / queued.source.name).exists()


def test_a_worker_that_cannot_find_the_upload_says_where_files_must_be(
    media_root: Path,
) -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "user1\n", pasted=True)
    (media_root / queued.source.name).unlink()  # saved on another machine's disk

    done = imported(queued)

    assert done.status == AudienceImport.Status.FAILED
    assert "web and workers must share MEDIA_ROOT" in done.error


def test_a_finished_import_is_not_run_again() -> None:
    audience = AudienceFactory.create()
    done = imported(start(audience, "user1\n", pasted=True))
    AudienceImport.objects.filter(pk=done.pk).update(rows_imported=99)

    run_import(done.pk)  # a redelivered task message

    done.refresh_from_db()
    assert done.rows_imported == 99


def test_the_task_runs_the_import_and_leaves_an_audit_event() -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "user1\nuser2\n", pasted=True)

    import_audience.apply(args=(queued.pk,))

    queued.refresh_from_db()
    assert queued.status == AudienceImport.Status.SUCCEEDED
    event = AuditEvent.objects.get(action="import_finished")
    assert event.object_id == str(audience.pk)
    assert event.changes == {"member_count": [0, 2]}


def test_the_uploaded_file_is_removed_once_the_import_ends(media_root: Path) -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "user1\n", pasted=True)
    stored = media_root / queued.source.name
    assert stored.exists()

    imported(queued)

    assert not stored.exists()


def test_a_line_that_is_not_utf8_is_rejected_and_the_rest_imported() -> None:
    audience = AudienceFactory.create()
    queued = start(audience, "", pasted=True)
    content = b"user1\nus\xffer2\nuser3\n"
    queued.source.save("pasted.txt", ContentFile(content), save=False)
    queued.size_bytes = len(content)
    queued.save()

    done = imported(queued)

    assert set(members(audience)) == {"user1", "user3"}
    assert report_rows(done)[1][:2] == [
        "2",
        "This line has bytes that are not UTF-8 text, or a NUL character.",
    ]


@on_postgresql
def test_on_postgresql_copy_keeps_backslashes_quotes_and_unicode_intact() -> None:
    audience = AudienceFactory.create()
    text = (
        "target,name,extended_params\n"
        'user\\1,"Li ""Wei"" \\n 李",'
        '"{""path"": ""C:\\\\temp"", ""tab"": ""\\t""}"\n'
    )
    done = imported(start(audience, text, value_columns=["name"]))

    assert done.status == AudienceImport.Status.SUCCEEDED, done.error
    assert members(audience) == {
        "user\\1": ({"name": 'Li "Wei" \\n 李'}, "", {"path": "C:\\temp", "tab": "\t"})
    }


@on_postgresql
def test_on_postgresql_the_first_row_of_a_target_wins_and_members_are_kept_on_append() -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "target,name\nuser2,Old\n", value_columns=["name"]))
    text = "target,name\nuser1,First\nuser2,New\nuser1,Second\n"
    done = imported(start(audience, text, value_columns=["name"]))

    assert (done.rows_imported, done.rows_duplicate) == (1, 2)
    assert members(audience) == {
        "user2": ({"name": "Old"}, "", None),
        "user1": ({"name": "First"}, "", None),
    }


def test_an_import_whose_worker_died_is_ended_by_the_tick_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audience = AudienceFactory.create()
    imported(start(audience, "user1\n", pasted=True))
    replacing = start(
        audience, "".join(f"new{n}\n" for n in range(30)), pasted=True, mode="replace"
    )
    monkeypatch.setattr(audience_import, "BATCH_ROWS", 10)
    monkeypatch.setattr(audience_import, "PROGRESS_SECONDS", 0.0)
    real_progress = audience_import._progress

    def worker_silent_then_back(import_id: int, processed: int, tally: object) -> None:
        # The worker stalls past the limit; the tick runs meanwhile.
        later = timezone.now() + audience_import.STALLED_AFTER + timedelta(minutes=1)
        assert audience_import.fail_stalled(now=later) == 1
        real_progress(import_id, processed, tally)  # type: ignore[arg-type]

    monkeypatch.setattr(audience_import, "_progress", worker_silent_then_back)
    done = imported(replacing)

    assert done.status == AudienceImport.Status.FAILED
    assert "stopped" in done.error
    assert set(members(audience)) == {"user1"}


def test_the_tick_leaves_imports_that_show_progress_alone() -> None:
    from campaigns.tasks import tick

    audience = AudienceFactory.create()
    running = start(audience, "user1\n", pasted=True)
    AudienceImport.objects.filter(pk=running.pk).update(
        status=AudienceImport.Status.RUNNING, progress_at=timezone.now()
    )
    dead = start(audience, "user2\n", pasted=True)
    AudienceImport.objects.filter(pk=dead.pk).update(
        status=AudienceImport.Status.RUNNING, progress_at=timezone.now() - timedelta(hours=1)
    )
    tick()
    running.refresh_from_db()
    dead.refresh_from_db()
    assert running.status == AudienceImport.Status.RUNNING
    assert dead.status == AudienceImport.Status.FAILED


def test_the_tick_sends_again_an_import_whose_message_was_lost() -> None:
    from campaigns.tasks import tick

    audience = AudienceFactory.create()
    lost = start(audience, "user1\nuser2\n", pasted=True)
    fresh = start(audience, "user3\n", pasted=True)
    AudienceImport.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - audience_import.REQUEUE_AFTER - timedelta(minutes=1)
    )
    sent: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(import_audience, "delay", sent.append)
        tick()
    assert sent == [lost.pk]
    for import_id in sent:  # the worker gets it this time
        run_import(import_id)
        run_import(import_id)  # and a late first delivery does nothing more
    lost.refresh_from_db()
    assert lost.status == AudienceImport.Status.SUCCEEDED
    assert set(members(audience)) == {"user1", "user2"}
    fresh.refresh_from_db()
    assert fresh.status == AudienceImport.Status.QUEUED
