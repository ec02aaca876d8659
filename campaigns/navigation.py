"""The console's navigation: one entry per page family, shown to those allowed to use it.

An entry without a URL name is a page family that is planned but not built yet; it is
shown as "coming soon" instead of linking to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    permission: str
    url_name: str | None = None


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("dashboard", _("Dashboard"), "campaigns.view_console", "dashboard"),
    NavItem("campaigns", _("Campaigns"), "campaigns.view_console", "campaign_list"),
    NavItem("calendar", _("Calendar"), "campaigns.view_console", "calendar"),
    NavItem("templates", _("Templates"), "campaigns.view_console", "message_template_list"),
    NavItem("audiences", _("Audiences"), "campaigns.view_console", "audience_list"),
    NavItem("apps", _("Apps"), "campaigns.manage_credentials", "app_list"),
    NavItem("history", _("History"), "campaigns.view_console", "history"),
    NavItem("sandbox", _("Sandbox inbox"), "campaigns.send_campaign", "sandbox_inbox"),
)


@dataclass(frozen=True)
class VisibleNavItem:
    item: NavItem
    href: str | None
    active: bool


def _in_family(url_name: str, current: str | None) -> bool:
    """Whether ``current`` is a page of the family ``url_name`` leads to: app_detail and
    app_edit are pages of app_list's family, audience_import_detail of audience_list's."""
    if current is None:
        return False
    return current == url_name or current.startswith(url_name.rsplit("_", 1)[0] + "_")


def visible_navigation(request: HttpRequest) -> list[VisibleNavItem]:
    current = request.resolver_match.url_name if request.resolver_match else None
    return [
        VisibleNavItem(
            item=item,
            href=reverse(item.url_name) if item.url_name else None,
            active=item.url_name is not None and _in_family(item.url_name, current),
        )
        for item in NAVIGATION
        if request.user.has_perm(item.permission)
    ]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the navigation the signed-in user may see."""
    if not request.user.is_authenticated:
        return {"navigation": []}
    return {"navigation": visible_navigation(request)}
