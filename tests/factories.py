"""factory_boy factories for Pushdeck's models, with typed helpers for the tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory, Password

from campaigns.models import User
from campaigns.roles import Role, assign_role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")  # type: ignore[attr-defined]
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")  # type: ignore[attr-defined]
    password = Password(PASSWORD)


def make_user(username: str | None = None, role: Role | None = None) -> User:
    """A saved user with the test password and, if given, one role."""
    user = UserFactory.create(**({"username": username} if username else {}))
    if role is not None:
        assign_role(user, role)
    return user
