"""Pushdeck's URLs: the console, its accounts pages, health and Django's admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("campaigns.urls")),
    path("django-admin/", admin.site.urls),
]
