"""manage.py create_user USERNAME --role ROLE: a console user with exactly one role."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from campaigns.models import User
from campaigns.roles import Role, assign_role

PASSWORD_VARIABLE = "PUSHDECK_USER_PASSWORD"  # noqa: S105 - the name of a variable


class Command(BaseCommand):
    help = (
        "Create a console user with one role, or change the role of an existing one. The "
        f"password is asked for, or read from {PASSWORD_VARIABLE} with --no-input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.name.lower() for role in Role])
        parser.add_argument("--email", default="")
        parser.add_argument("--no-input", action="store_true", dest="no_input")

    def handle(self, *args: Any, **options: Any) -> None:
        role = Role[options["role"].upper()]
        user = User.objects.filter(username=options["username"]).first()
        created = user is None
        if user is None:
            user = User(username=options["username"], email=options["email"])
            password = self._password(user, no_input=options["no_input"])
            user.set_password(password)
        with transaction.atomic():
            user.save()
            assign_role(user, role)
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {user.get_username()} with role {role.label}.")
        )

    def _password(self, user: User, *, no_input: bool) -> str:
        if no_input:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"--no-input needs the password in {PASSWORD_VARIABLE}.")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        return password
