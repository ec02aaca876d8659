"""The import pages: uploading or pasting members, the checks made before an import starts,
the progress the page polls for, cancelling, and downloading the rejected rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.models import Audience, AudienceImport, AuditEvent
from config.celery import app as celery_app
from tests.factories import AudienceFactory, MessageTemplateFactory

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery runs each task in the calling process, as soon as it is sent."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def upload(text: str, name: str = "members.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def post_import(
    client: Client,
    audience: Audience,
    capture: CaptureOnCommit,
    **data: Any,
) -> Any:
    with capture(execute=True):
        return client.post(
            reverse("audience_import", args=[audience.pk]), {"mode": "append", **data}
        )


@pytest.mark.usefixtures("eager_tasks")
def test_an_uploaded_csv_is_imported_in_the_background_and_audited(
    marketer: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    audience = AudienceFactory.create()
    csv_text = "target,name\nuser1,Li\nuser2,Anna\nbad target,X\n"
    response = post_import(
        marketer, audience, django_capture_on_commit_callbacks, source=upload(csv_text)
    )

    started = AudienceImport.objects.get()
    assert response["Location"] == reverse("audience_import_detail", args=[started.pk])
    assert (started.status, started.rows_imported, started.rows_rejected) == ("succeeded", 2, 1)
    assert (started.source_name, started.value_columns) == ("members.csv", ["name"])
    assert started.created_by is not None
    assert started.created_by.username == "marketer"
    event = AuditEvent.objects.get(action="import")
    assert event.changes == {"members": [None, "append: members.csv"]}
    page = marketer.get(response["Location"]).content.decode()
    assert "Done: 2 members added." in page
    assert "Download the rejected rows" in page


@pytest.mark.usefixtures("eager_tasks")
def test_a_pasted_list_is_imported(
    marketer: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    audience = AudienceFactory.create()
    post_import(marketer, audience, django_capture_on_commit_callbacks, pasted="user1\nuser2\n")
    audience.refresh_from_db()
    assert audience.member_count == 2
    assert AudienceImport.objects.get().pasted


@pytest.mark.parametrize(
    "data",
    [{}, {"pasted": "user1", "source": "both"}],
    ids=["neither", "both"],
)
def test_it_asks_for_a_paste_or_a_file(marketer: Client, data: dict[str, Any]) -> None:
    audience = AudienceFactory.create()
    if data.get("source") == "both":
        data["source"] = upload("target\nuser1\n")
    response = marketer.post(
        reverse("audience_import", args=[audience.pk]), {"mode": "append", **data}
    )
    assert "Paste a list of targets or upload a CSV file" in response.content.decode()
    assert not AudienceImport.objects.exists()


def test_a_file_without_a_target_column_is_refused_before_anything_starts(
    marketer: Client,
) -> None:
    audience = AudienceFactory.create()
    response = marketer.post(
        reverse("audience_import", args=[audience.pk]),
        {"mode": "append", "source": upload("user_id,name\nuser1,Li\n")},
    )
    assert "The header has no target column" in " ".join(response.context["form"].errors["source"])
    assert not AudienceImport.objects.exists()


def test_the_file_needs_a_column_for_each_placeholder_of_the_chosen_template(
    marketer: Client,
) -> None:
    audience = AudienceFactory.create()
    template = MessageTemplateFactory.create(app=audience.app)  # #name# and #money#
    response = marketer.post(
        reverse("audience_import", args=[audience.pk]),
        {"mode": "append", "template": template.pk, "source": upload("target,name\nuser1,Li\n")},
    )
    errors = " ".join(response.context["form"].errors["source"])
    assert "needs a value for #money#" in errors
    assert not AudienceImport.objects.exists()


def test_a_pasted_list_cannot_fill_a_template_with_placeholders(marketer: Client) -> None:
    audience = AudienceFactory.create()
    template = MessageTemplateFactory.create(app=audience.app)
    response = marketer.post(
        reverse("audience_import", args=[audience.pk]),
        {"mode": "append", "template": template.pk, "pasted": "user1\n"},
    )
    assert "A pasted list has no values" in " ".join(response.context["form"].errors["template"])
    assert not AudienceImport.objects.exists()


@pytest.mark.usefixtures("eager_tasks")
def test_columns_the_template_does_not_use_are_reported_and_imported(
    marketer: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    audience = AudienceFactory.create()
    template = MessageTemplateFactory.create(app=audience.app)
    response = post_import(
        marketer,
        audience,
        django_capture_on_commit_callbacks,
        template=template.pk,
        source=upload("target,name,money,coupon\nuser1,Li,8,SPRING\n"),
    )
    page = marketer.get(response["Location"]).content.decode()
    assert "Not in the template, imported as values anyway: coupon." in page
    assert audience.members.get().values == {"name": "Li", "money": "8", "coupon": "SPRING"}


def test_appending_needs_the_same_value_columns_as_the_members(marketer: Client) -> None:
    audience = AudienceFactory.create(member_count=3, value_columns=["name", "money"])
    response = marketer.post(
        reverse("audience_import", args=[audience.pk]),
        {"mode": "append", "source": upload("target,name\nuser1,Li\n")},
    )
    assert "replace the members, or give the file the same columns" in " ".join(
        response.context["form"].errors["mode"]
    )


def test_a_rule_audience_has_no_import_page(marketer: Client) -> None:
    audience = AudienceFactory.create(kind=Audience.Kind.BROADCAST, platform="android")
    assert marketer.get(reverse("audience_import", args=[audience.pk])).status_code == 404


def test_the_progress_polls_every_second_while_running_and_stops_when_done(
    viewer: Client,
) -> None:
    running = AudienceImport.objects.create(
        audience=AudienceFactory.create(),
        status=AudienceImport.Status.RUNNING,
        size_bytes=1000,
        processed_bytes=400,
        rows_read=12_345,
    )
    url = reverse("audience_import_detail", args=[running.pk])
    htmx = {"HX-Request": "true", "HX-Target": "import-progress"}

    part = viewer.get(url, headers=htmx).content.decode()
    assert part.lstrip().startswith('<section class="card stack import-progress"')
    assert 'hx-trigger="every 1s"' in part
    assert 'value="40"' in part
    assert "Reading the file: 12,345 rows so far." in part

    running.status = AudienceImport.Status.SUCCEEDED
    running.save()
    done = viewer.get(url, headers=htmx).content.decode()
    assert "hx-trigger" not in done
    assert 'value="100"' in done


def test_cancel_asks_a_running_import_to_stop_and_is_audited(marketer: Client) -> None:
    running = AudienceImport.objects.create(
        audience=AudienceFactory.create(), status=AudienceImport.Status.RUNNING
    )
    response = marketer.post(
        reverse("audience_import_cancel", args=[running.pk]),
        headers={"HX-Request": "true", "HX-Target": "import-progress"},
    )
    running.refresh_from_db()
    assert running.cancel_requested
    assert running.status == AudienceImport.Status.RUNNING  # the task stops it
    assert "Cancelling" in response.content.decode()
    assert AuditEvent.objects.get(action="cancel_import").changes == {"import": [running.pk, None]}


def test_cancel_ends_a_queued_import_at_once(marketer: Client) -> None:
    queued = AudienceImport.objects.create(audience=AudienceFactory.create())
    marketer.post(reverse("audience_import_cancel", args=[queued.pk]))
    queued.refresh_from_db()
    assert queued.status == AudienceImport.Status.CANCELLED


def test_a_viewer_follows_an_import_but_cannot_cancel_it(viewer: Client) -> None:
    running = AudienceImport.objects.create(
        audience=AudienceFactory.create(), status=AudienceImport.Status.RUNNING
    )
    page = viewer.get(reverse("audience_import_detail", args=[running.pk])).content.decode()
    assert "Cancel the import" not in page
    response = viewer.post(reverse("audience_import_cancel", args=[running.pk]))
    assert response.status_code == 403
    running.refresh_from_db()
    assert not running.cancel_requested


@pytest.mark.usefixtures("eager_tasks")
def test_the_rejected_rows_download_as_csv_with_line_numbers_and_reasons(
    marketer: Client, viewer: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    audience = AudienceFactory.create()
    text = "target,timezone\nuser1,Asia/Shanghai\nuser 2,\nuser3,Moon/Base\n"
    post_import(marketer, audience, django_capture_on_commit_callbacks, source=upload(text))
    started = AudienceImport.objects.get()

    response = viewer.get(reverse("audience_import_rejected", args=[started.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert list(csv.reader(io.StringIO(body))) == [
        ["line", "reason", "target", "timezone"],
        ["3", "A target cannot contain spaces or control characters.", "user 2", ""],
        ["4", "Moon/Base is not a time zone name such as Asia/Shanghai.", "user3", "Moon/Base"],
    ]


def test_an_import_without_rejected_rows_has_no_report(viewer: Client) -> None:
    done = AudienceImport.objects.create(
        audience=AudienceFactory.create(), status=AudienceImport.Status.SUCCEEDED
    )
    assert viewer.get(reverse("audience_import_rejected", args=[done.pk])).status_code == 404
