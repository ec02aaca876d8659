"""Importing an audience's members: the upload or paste form, the import's page with a
progress bar that polls while it runs, cancel, and the rejected rows as a CSV file.

The upload is saved to the import's file as it arrives; the ``import_audience`` task reads
it once the import's row is committed.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.audit import record
from campaigns.forms.audiences import AudienceImportForm
from campaigns.member_rules import TARGET_EXAMPLES
from campaigns.models import Audience, AudienceImport, User
from campaigns.tasks import import_audience
from campaigns.views import HtmxHttpRequest

VIEW = "campaigns.view_console"
COMPOSE = "campaigns.compose_campaign"
ACTIVE = (AudienceImport.Status.QUEUED, AudienceImport.Status.RUNNING)


def _import(pk: int) -> AudienceImport:
    imports = AudienceImport.objects.select_related("audience__app", "template", "created_by")
    return get_object_or_404(imports, pk=pk)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def audience_import(request: HttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience.objects.select_related("app"), pk=pk)
    if not audience.is_listed:
        raise Http404("A rule audience has no members to import.")
    form = AudienceImportForm(request.POST or None, request.FILES or None, audience=audience)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        with transaction.atomic():
            started = form.save(request.user)
            source = started.source_name or _("pasted list")
            record(request, "import", audience, {"members": [None, f"{started.mode}: {source}"]})
            transaction.on_commit(partial(import_audience.delay, started.pk))
        if form.extra_columns:
            messages.info(
                request,
                _("Not in the template, imported as values anyway: %(columns)s.")
                % {"columns": ", ".join(form.extra_columns)},
            )
        return redirect("audience_import_detail", pk=started.pk)
    samples = TARGET_EXAMPLES[(audience.app.provider, audience.kind)]
    context = {"audience": audience, "form": form, "samples": samples}
    return render(request, "campaigns/audience_import_form.html", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
def audience_import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    context = {"audience_import": _import(pk)}
    if request.htmx.target == "import-progress":
        return render(request, "campaigns/audience_import_detail.html#progress", context)
    return render(request, "campaigns/audience_import_detail.html", context)


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def audience_import_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Ask the import to stop; the task notices within a second and leaves the members as
    they were. An import still in the queue is cancelled at once."""
    audience_import = _import(pk)
    asked = AudienceImport.objects.filter(pk=pk, status__in=ACTIVE).update(cancel_requested=True)
    AudienceImport.objects.filter(pk=pk, status=AudienceImport.Status.QUEUED).update(
        status=AudienceImport.Status.CANCELLED, finished_at=timezone.now()
    )
    if asked:
        record(request, "cancel_import", audience_import.audience, {"import": [pk, None]})
    else:
        messages.info(request, _("The import had already ended."))
    if request.htmx:
        context = {"audience_import": _import(pk)}
        return render(request, "campaigns/audience_import_detail.html#progress", context)
    return redirect("audience_import_detail", pk=pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
def audience_import_rejected(request: HttpRequest, pk: int) -> FileResponse:
    audience_import = _import(pk)
    if not audience_import.rejected_report:
        raise Http404("This import rejected no rows.")
    name = f"{audience_import.audience.name} - rejected rows.csv"
    return FileResponse(
        audience_import.rejected_report.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="text/csv; charset=utf-8",
    )
