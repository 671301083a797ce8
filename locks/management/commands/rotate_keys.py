"""`manage.py rotate_keys`: re-encrypt every EncryptedTextField value with the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (the old ones stay after it, so everything still decrypts),
restart, run this, then drop the old keys. Safe to run again: values already under the first key are left alone,
and each row is written only if it still holds the value that was read (a concurrent change wins).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from audit.services import audit
from locks.fields import EncryptedTextField, fernet


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
        rotating = fernet()
        rotated = current = unreadable = 0
        quote = connection.ops.quote_name
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, EncryptedTextField):
                    continue
                table, column, pk = quote(model._meta.db_table), quote(field.column), quote(model._meta.pk.column)
                with connection.cursor() as cursor:
                    # Raw ciphertext: reading through the model would decrypt, and saving would encrypt it again.
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''")
                    rows = cursor.fetchall()
                for start in range(0, len(rows), options["batch_size"]):
                    with transaction.atomic(), connection.cursor() as cursor:
                        for row_pk, token in rows[start : start + options["batch_size"]]:
                            try:
                                primary.decrypt(token.encode())
                                current += 1
                                continue
                            except InvalidToken:
                                pass
                            try:
                                new_token = rotating.rotate(token.encode()).decode()
                            except InvalidToken:
                                unreadable += 1
                                self.stderr.write(f"{model._meta.label}.{field.name} #{row_pk}: no key decrypts it")
                                continue
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",
                                [new_token, row_pk, token],
                            )
                            rotated += cursor.rowcount
        summary = f"{rotated} value(s) re-encrypted with the first key, {current} already were"
        audit("keys.rotated", summary=summary + (f", {unreadable} unreadable" if unreadable else ""))
        self.stdout.write(summary + ".")
        if unreadable:
            raise CommandError(f"{unreadable} value(s) decrypt with no key in FIELD_ENCRYPTION_KEYS (listed above).")
