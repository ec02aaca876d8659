"""manage.py load_demo: demo users, the demo catalog (sandbox apps, templates, audiences)
and demo pushes in the sandbox. Idempotent."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.demo_campaigns import load_demo_campaigns
from campaigns.demo_catalog import load_catalog
from campaigns.demo_results import load_finished_campaigns
from campaigns.models import User
from campaigns.roles import Role, assign_role
from campaigns.sandbox.demo import send_demo_pushes

DEFAULT_DEMO_PASSWORD = "pushdeck-demo"  # noqa: S105 - a demo password, refused in production
DEMO_USERS = (
    ("admin", Role.ADMIN),
    ("marketer", Role.MARKETER),
    ("viewer", Role.VIEWER),
)


class Command(BaseCommand):
    help = (
        "Create the demo users admin, marketer and viewer (password from DEMO_PASSWORD), "
        "two sandbox apps with templates, audiences and campaigns, and send a few demo pushes "
        "to the sandbox gateway."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "")
        shown_password = "(the password in DEMO_PASSWORD)" if password else DEFAULT_DEMO_PASSWORD
        if not password:
            if not settings.DEBUG:
                raise CommandError(
                    "Refusing to create demo users with the default password while DEBUG is "
                    "off. Set DEMO_PASSWORD to load demo data into this installation."
                )
            password = DEFAULT_DEMO_PASSWORD
        with transaction.atomic():
            for username, role in DEMO_USERS:
                user, _ = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.save()
                assign_role(user, role)
        admin = User.objects.get(username="admin")
        members = load_catalog(owner=admin)
        if members is None:
            self.stdout.write("No SANDBOX_ACCESS_KEYS: the demo apps were not created.")
        elif members:
            self.stdout.write(f"Created the demo apps, templates and {members:,} audience members.")
        campaigns = load_demo_campaigns()
        if campaigns:
            self.stdout.write(f"Created {campaigns} demo campaigns of every kind.")
        sent = send_demo_pushes()
        if sent:
            self.stdout.write(f"Sent {sent} demo pushes to the sandbox (see Sandbox inbox).")
        finished = load_finished_campaigns()
        if finished:
            self.stdout.write(
                f"Sent {finished} demo campaigns to the sandbox and collected their results."
            )
        self.stdout.write("Demo logins (username / password):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {shown_password}   {role.label}")
