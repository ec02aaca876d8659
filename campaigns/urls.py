from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from campaigns.sandbox import views as sandbox
from campaigns.views import accounts, dashboard, health
from campaigns.views import sandbox as sandbox_pages

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
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
