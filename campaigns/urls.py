from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from campaigns.sandbox import views as sandbox
from campaigns.views import (
    accounts,
    apps,
    audience_imports,
    audiences,
    calendar,
    campaigns,
    composer,
    dashboard,
    health,
    history,
)
from campaigns.views import campaign_results as results
from campaigns.views import campaign_sending as sending
from campaigns.views import campaign_workflow as workflow
from campaigns.views import message_templates as templates
from campaigns.views import sandbox as sandbox_pages

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("templates/", templates.template_list, name="message_template_list"),
    path("templates/new/", templates.template_create, name="message_template_create"),
    path("templates/preview/", templates.template_preview, name="message_template_preview"),
    path("templates/<int:pk>/", templates.template_detail, name="message_template_detail"),
    path("templates/<int:pk>/edit/", templates.template_edit, name="message_template_edit"),
    path("templates/<int:pk>/sync/", templates.template_sync, name="message_template_sync"),
    path(
        "templates/<int:pk>/archive/", templates.template_archive, name="message_template_archive"
    ),
    path(
        "templates/<int:pk>/restore/", templates.template_restore, name="message_template_restore"
    ),
    path("templates/<int:pk>/delete/", templates.template_delete, name="message_template_delete"),
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_export, name="history_export"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("campaigns/new/", composer.campaign_create, name="campaign_create"),
    path("campaigns/preview/", composer.campaign_preview, name="campaign_preview"),
    path("campaigns/test-send/", composer.campaign_test_send, name="campaign_test_send"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", composer.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/progress/", sending.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/batches/", results.campaign_batches, name="campaign_batches"),
    path(
        "campaigns/<int:pk>/lookup/", results.campaign_target_lookup, name="campaign_target_lookup"
    ),
    path("campaigns/<int:pk>/funnel.csv", results.campaign_funnel_csv, name="campaign_funnel_csv"),
    path(
        "campaigns/<int:pk>/targets.csv", results.campaign_targets_csv, name="campaign_targets_csv"
    ),
    path("campaigns/<int:pk>/pause/", sending.campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/resume/", sending.campaign_resume, name="campaign_resume"),
    path("campaigns/<int:pk>/cancel/", sending.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/recall/", sending.campaign_recall, name="campaign_recall"),
    path("campaigns/<int:pk>/submit/", workflow.campaign_submit, name="campaign_submit"),
    path("campaigns/<int:pk>/approve/", workflow.campaign_approve, name="campaign_approve"),
    path("campaigns/<int:pk>/reject/", workflow.campaign_reject, name="campaign_reject"),
    path("campaigns/<int:pk>/schedule/", workflow.campaign_schedule, name="campaign_schedule"),
    path(
        "campaigns/<int:pk>/unschedule/", workflow.campaign_unschedule, name="campaign_unschedule"
    ),
    path("campaigns/<int:pk>/duplicate/", workflow.campaign_duplicate, name="campaign_duplicate"),
    path("apps/", apps.app_list, name="app_list"),
    path("apps/new/", apps.app_create, name="app_create"),
    path("apps/<int:pk>/", apps.app_detail, name="app_detail"),
    path("apps/<int:pk>/edit/", apps.app_edit, name="app_edit"),
    path("apps/<int:pk>/test/", apps.app_test_connection, name="app_test_connection"),
    path("apps/<int:pk>/delete/", apps.app_delete, name="app_delete"),
    path("apps/<int:pk>/deactivate/", apps.app_deactivate, name="app_deactivate"),
    path("audiences/", audiences.audience_list, name="audience_list"),
    path("audiences/new/", audiences.audience_create, name="audience_create"),
    path("audiences/<int:pk>/", audiences.audience_detail, name="audience_detail"),
    path("audiences/<int:pk>/edit/", audiences.audience_edit, name="audience_edit"),
    path("audiences/<int:pk>/archive/", audiences.audience_archive, name="audience_archive"),
    path("audiences/<int:pk>/restore/", audiences.audience_restore, name="audience_restore"),
    path("audiences/<int:pk>/delete/", audiences.audience_delete, name="audience_delete"),
    path("audiences/<int:pk>/import/", audience_imports.audience_import, name="audience_import"),
    path(
        "audiences/imports/<int:pk>/",
        audience_imports.audience_import_detail,
        name="audience_import_detail",
    ),
    path(
        "audiences/imports/<int:pk>/cancel/",
        audience_imports.audience_import_cancel,
        name="audience_import_cancel",
    ),
    path(
        "audiences/imports/<int:pk>/rejected.csv",
        audience_imports.audience_import_rejected,
        name="audience_import_rejected",
    ),
    path("sandbox/", sandbox.gateway, name="sandbox_gateway"),
    path("sandbox/inbox/", sandbox_pages.inbox, name="sandbox_inbox"),
    path("sandbox/controls/", sandbox_pages.controls, name="sandbox_controls"),
    path("sandbox/controls/clock/", sandbox_pages.advance_clock, name="sandbox_advance_clock"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", accounts.sign_out, name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
