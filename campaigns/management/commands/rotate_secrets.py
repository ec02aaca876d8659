"""manage.py rotate_secrets: re-encrypt every stored secret with the newest key.

Put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
this, then the old keys can be dropped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from campaigns.encryption import EncryptedTextField, rotate
from campaigns.models import MobileApp

# (model, encrypted field) for every secret Pushdeck stores.
ENCRYPTED = ((MobileApp, "access_key_secret"),)


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        for model, field_name in ENCRYPTED:
            field = model._meta.get_field(field_name)
            assert isinstance(field, EncryptedTextField)
            column = field.column
            table = model._meta.db_table
            rotated = 0
            with transaction.atomic(), connection.cursor() as cursor:
                # The stored tokens themselves: loading the models would decrypt them.
                cursor.execute(
                    f"SELECT id, {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
                )
                for pk, token in cursor.fetchall():
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                        [rotate(token), pk],
                    )
                    rotated += 1
            self.stdout.write(f"{model._meta.verbose_name}: {rotated} secret(s) re-encrypted")
