"""Django's admin, for superusers: a way into the rows when the console has no page for it.

The console is where people work; it writes the audit trail and takes the AccessKey
secret. Here the secret is neither shown nor editable, apps are registered only in the
console (the admin cannot take a secret), and audit events can only be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from campaigns.models import (
    Audience,
    AudienceImport,
    AuditEvent,
    MessageTemplate,
    MobileApp,
    TemplateVersion,
)

if TYPE_CHECKING:  # ModelAdmin and its inlines are generic only in django-stubs
    AppAdmin = admin.ModelAdmin[MobileApp]
    TemplateAdmin = admin.ModelAdmin[MessageTemplate]
    VersionAdmin = admin.ModelAdmin[TemplateVersion]
    VersionInline = admin.TabularInline[TemplateVersion, MessageTemplate]
    AudienceModelAdmin = admin.ModelAdmin[Audience]
    ImportAdmin = admin.ModelAdmin[AudienceImport]
    EventAdmin = admin.ModelAdmin[AuditEvent]
else:
    AppAdmin = TemplateAdmin = VersionAdmin = admin.ModelAdmin
    AudienceModelAdmin = ImportAdmin = EventAdmin = admin.ModelAdmin
    VersionInline = admin.TabularInline


@admin.register(MobileApp)
class MobileAppAdmin(AppAdmin):
    exclude = ("access_key_secret",)
    list_display = ("name", "provider", "endpoint", "access_key_id", "is_active", "updated_at")
    list_filter = ("provider", "is_active")
    search_fields = ("name", "mpaas_app_id", "emas_app_key_android", "emas_app_key_ios")
    readonly_fields = ("created_at", "updated_at", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an app needs its secret, which only the console's form takes


class TemplateVersionInline(VersionInline):
    model = TemplateVersion
    extra = 0
    readonly_fields = ("number", "title", "body", "created_at", "created_by")
    can_delete = False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(TemplateAdmin):
    list_display = ("name", "app", "version", "sync_state", "is_archived", "updated_at")
    list_filter = ("app", "sync_state", "is_archived")
    list_select_related = ("app",)
    search_fields = ("name", "title")
    inlines = (TemplateVersionInline,)
    # The console's form keeps the version history; the admin must not change content
    # behind it.
    readonly_fields = ("title", "body", "version")


@admin.register(TemplateVersion)
class TemplateVersionAdmin(VersionAdmin):
    list_display = ("template", "number", "created_at", "created_by")
    list_select_related = ("template", "created_by")
    search_fields = ("template__name", "title")


@admin.register(Audience)
class AudienceAdmin(AudienceModelAdmin):
    # Members can be millions: they are browsed in the console, never listed here.
    list_display = ("name", "app", "kind", "member_count", "is_archived", "updated_at")
    list_filter = ("app", "kind", "is_archived")
    list_select_related = ("app",)
    search_fields = ("name",)
    readonly_fields = ("member_count",)
    raw_id_fields = ("template", "owner")


@admin.register(AudienceImport)
class AudienceImportAdmin(ImportAdmin):
    list_display = ("audience", "status", "mode", "rows_imported", "rows_rejected", "created_at")
    list_filter = ("status", "mode")
    list_select_related = ("audience",)
    raw_id_fields = ("audience", "created_by")


@admin.register(AuditEvent)
class AuditEventAdmin(EventAdmin):
    """Append-only: read, never added, changed or deleted."""

    list_display = ("created_at", "actor_name", "action", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
