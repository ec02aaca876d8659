"""Message templates: the list, create and edit with a live preview, the detail page with
its versions and remote state, sync to the provider's store, archive, restore and delete.

Everyone with the console reads templates; those who compose campaigns change them.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import template_store
from campaigns.audit import form_changes, record
from campaigns.forms.message_templates import MessageTemplateFilter, MessageTemplateForm
from campaigns.models import MessageTemplate, MobileApp, User
from campaigns.providers.errors import ProviderError
from campaigns.template_preview import Preview, build_preview
from campaigns.template_usage import sync_would_change, usage_of

PAGE_SIZE = 25
VIEW = "campaigns.view_console"
COMPOSE = "campaigns.compose_campaign"


def _template(pk: int, *, lock: bool = False) -> MessageTemplate:
    """The template with its app; locked for the rest of the transaction when ``lock``."""
    templates = MessageTemplate.objects.select_related("app")
    if lock:
        templates = templates.select_for_update(of=("self",))
    return get_object_or_404(templates, pk=pk)


def _app(app_id: object) -> MobileApp | None:
    """The app a preview is for, when the page has chosen one."""
    if not str(app_id or "").isdigit():
        return None
    return MobileApp.objects.filter(pk=str(app_id)).only("name", "provider").first()


def _panel(title: str, body: str, data: Mapping[str, str], app: MobileApp | None) -> Preview:
    return build_preview(title, body, data, app.provider if app is not None else None)


def _form_page(request: HttpRequest, form: MessageTemplateForm) -> HttpResponse:
    """The create/edit page, its live panel built from what the form holds now."""
    template = form.instance
    data: Mapping[str, str] = request.POST if form.is_bound else {}
    title = data.get("title", template.title or "")
    body = data.get("body", template.body or "")
    app = template.app if template.pk else _app(data.get("app", form.initial.get("app")))
    context = {
        "form": form,
        "message_template": template if template.pk else None,
        "preview": _panel(title, body, data, app),
        "app_name": app.name if app is not None else "",
    }
    return render(request, "campaigns/messagetemplate_form.html", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    filters = MessageTemplateFilter(
        request.GET, queryset=MessageTemplate.objects.select_related("app")
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filters, "page": page}
    if not page.object_list:
        context["has_templates"] = MessageTemplate.objects.exists()
        context["has_apps"] = MobileApp.objects.exists()
    return render(request, "campaigns/messagetemplate_list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def template_create(request: HttpRequest) -> HttpResponse:
    form = MessageTemplateForm(request.POST or None, initial={"app": request.GET.get("app")})
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        assert isinstance(request.user, User)
        with transaction.atomic():
            template = form.save_as(request.user)
            record(request, "create", template, form_changes(form))
        messages.success(request, _("Template “%(name)s” created.") % {"name": template.name})
        return redirect("message_template_detail", pk=template.pk)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    if template.is_archived:
        messages.error(request, _("This template is archived; restore it to change it."))
        return redirect("message_template_detail", pk=pk)
    if request.method == "GET" or "preview" in request.POST:
        return _form_page(request, MessageTemplateForm(request.POST or None, instance=template))
    assert isinstance(request.user, User)
    with transaction.atomic():
        form = MessageTemplateForm(request.POST, instance=_template(pk, lock=True))
        if not form.is_valid():
            return _form_page(request, form)
        if form.has_changed():
            template = form.save_as(request.user)
            record(request, "change", template, form_changes(form))
            version = {"version": template.version}
            messages.success(request, _("Saved as version %(version)d.") % version)
        else:
            messages.info(request, _("Nothing changed, so nothing was saved."))
    return redirect("message_template_detail", pk=pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    context = {
        "message_template": template,
        "versions": template.versions.select_related("created_by"),
        "usage": usage_of(template),
        "has_store": template_store.has_store(template.app),
        "failure_advice": template_store.failure_advice(template),
        "preview": _panel(template.title, template.body, request.GET, template.app),
    }
    return render(request, "campaigns/messagetemplate_detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def template_preview(request: HttpRequest) -> HttpResponse:
    """The live panel's changing parts, for what is typed (or for a saved ``template``)."""
    data = request.POST if request.method == "POST" else request.GET
    saved = data.get("template", "")
    if saved.isdigit():
        template = _template(int(saved))
        app: MobileApp | None = template.app
        preview = _panel(template.title, template.body, data, app)
    else:
        app = _app(data.get("app"))
        preview = _panel(data.get("title", ""), data.get("body", ""), data, app)
    context = {"preview": preview, "oob": True, "app_name": app.name if app else ""}
    return render(request, "campaigns/_messagetemplate_preview.html#changes", context)


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def template_sync(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    if not template_store.has_store(template.app):
        messages.info(request, _("EMAS has no template store: Pushdeck fills templates in itself."))
        return redirect("message_template_detail", pk=pk)
    if template.is_archived:
        messages.error(request, _("This template is archived; restore it to sync it."))
        return redirect("message_template_detail", pk=pk)
    waiting = sync_would_change(template)
    if waiting:
        messages.error(
            request,
            _(
                "Not synced: %(campaigns)s will be sent with the version of this template "
                "that was approved, and mPaaS sends the text its store holds. Sync once they "
                "have been sent, or unschedule them first."
            )
            % {"campaigns": ", ".join(f"“{campaign.name}”" for campaign in waiting)},
        )
        return redirect("message_template_detail", pk=pk)
    # The row stays locked for the provider's calls: two clicks cannot make two copies.
    with transaction.atomic():
        template = _template(pk, lock=True)
        record(request, "sync", template, template_store.sync(template))
    if template.sync_state == MessageTemplate.SyncState.SYNCED:
        messages.success(
            request,
            _("Synced: the provider's store holds version %(version)d.")
            % {"version": template.version},
        )
    else:
        messages.error(
            request,
            _("The sync failed; the provider's answer is under “Provider's template store”."),
        )
    return redirect("message_template_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    if request.method == "POST" and not template.is_archived:
        template.is_archived = True
        template.save(update_fields=["is_archived", "updated_at"])
        record(request, "archive", template, {"is_archived": [False, True]})
        messages.success(
            request,
            _("Template “%(name)s” archived: it can no longer be chosen for new work.")
            % {"name": template.name},
        )
        return redirect("message_template_list")
    context = {"message_template": template, "action": "archive", "usage": usage_of(template)}
    return render(request, "campaigns/messagetemplate_confirm.html", context)


@require_POST
@permission_required(COMPOSE, raise_exception=True)
def template_restore(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    if template.is_archived:
        template.is_archived = False
        template.save(update_fields=["is_archived", "updated_at"])
        record(request, "restore", template, {"is_archived": [True, False]})
        messages.success(request, _("Template restored: it can be chosen again."))
    return redirect("message_template_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@permission_required(COMPOSE, raise_exception=True)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    usage = usage_of(template)
    if request.method == "POST" and not usage.in_use:
        try:
            with transaction.atomic():
                template = _template(pk, lock=True)
                template_store.remove(template)
                record(request, "delete", template, _content_before_delete(template))
                template.delete()
        except ProviderError as error:
            messages.error(
                request,
                _("The provider's store kept its copy (%(error)s), so nothing was deleted.")
                % {"error": error},
            )
            return redirect("message_template_detail", pk=pk)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("message_template_list")
    context = {"message_template": template, "action": "delete", "usage": usage}
    return render(request, "campaigns/messagetemplate_confirm.html", context)


def _content_before_delete(template: MessageTemplate) -> dict[str, list[object]]:
    """A deleted template's last words, kept in the audit trail."""
    return {name: [getattr(template, name), None] for name in ("name", "title", "body", "version")}
