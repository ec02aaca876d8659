"""Permissions in one query: Django's ModelBackend asks for a user's own permissions and for
their groups' (Pushdeck's roles) in two queries on every request that checks one; this
backend asks once for both. What it grants is exactly what ModelBackend grants."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class RolePermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: object = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            granted = Permission.objects.all()
            if not user_obj.is_superuser:
                granted = granted.filter(Q(user=user_obj) | Q(group__user=user_obj))
            rows = granted.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{label}.{name}" for label, name in rows.distinct()}
        permissions: set[str] = user_obj._perm_cache
        return permissions
