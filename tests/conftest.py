"""Personas: each is a logged-in test client of a user with one role (or none)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import Settings

from campaigns.roles import Role
from tests.factories import make_user

PERSONAS = ("anonymous", "outsider", "viewer", "marketer", "admin")


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> Path:
    """Uploads and reports of a test go to its own folder, never to var/media."""
    folder = tmp_path / "media"
    settings.MEDIA_ROOT = folder
    return folder


@pytest.fixture
def client_as(db: None) -> Callable[[str], Client]:
    """A client signed in as the named persona ("anonymous" is not signed in)."""
    roles = {
        "outsider": None,
        "viewer": Role.VIEWER,
        "marketer": Role.MARKETER,
        "admin": Role.ADMIN,
    }

    def make(persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            client.force_login(make_user(username=persona, role=roles[persona]))
        return client

    return make


@pytest.fixture
def admin(client_as: Callable[[str], Client]) -> Client:
    return client_as("admin")


@pytest.fixture
def marketer(client_as: Callable[[str], Client]) -> Client:
    return client_as("marketer")


@pytest.fixture
def viewer(client_as: Callable[[str], Client]) -> Client:
    return client_as("viewer")


@pytest.fixture
def outsider(client_as: Callable[[str], Client]) -> Client:
    """Signed in, but with no role: sees nothing of the console."""
    return client_as("outsider")
