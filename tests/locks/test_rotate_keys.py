"""`manage.py rotate_keys`: every encrypted value moves to the first key while the old keys still decrypt;
running it again changes nothing; a value no key decrypts is reported and the command fails."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from locks.models import CloudAccount, Lock
from tenants.models import Organisation

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.fixture
def rows(settings: Any) -> tuple[CloudAccount, Lock]:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    account = CloudAccount.objects.create(
        organisation=org, name="Cloud", endpoint="eu", access_id="id", access_secret="the-access-secret"
    )
    lock = Lock.objects.create(
        organisation=org, cloud_account=account, device_id="dev1", name="Door", kind="wifi", local_key="the-local-key"
    )
    return account, lock


def rotate() -> str:
    out = StringIO()
    call_command("rotate_keys", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rotate_keys_moves_every_value_to_the_first_key_and_is_idempotent(settings: Any, rows: Any) -> None:
    account, lock = rows
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert rotate().startswith("2 value(s) re-encrypted with the first key, 0 already were")
    for table, column, pk in (
        ("locks_cloudaccount", "access_secret", account.pk),
        ("locks_lock", "local_key", lock.pk),
    ):
        token = raw(table, column, pk).encode()
        Fernet(NEW.encode()).decrypt(token)
        with pytest.raises(InvalidToken):
            Fernet(OLD.encode()).decrypt(token)
    before = raw("locks_cloudaccount", "access_secret", account.pk)
    assert rotate().startswith("0 value(s) re-encrypted with the first key, 2 already were")
    assert raw("locks_cloudaccount", "access_secret", account.pk) == before
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key dropped: everything still reads
    assert CloudAccount.objects.get().access_secret == "the-access-secret"
    assert Lock.objects.get().local_key == "the-local-key"
    assert AuditEvent.objects.filter(action="keys.rotated").count() == 2


def test_rotate_keys_reports_values_no_key_decrypts(settings: Any, rows: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # OLD lost: nothing decrypts
    with pytest.raises(CommandError, match="2 value"):
        rotate()
    assert "unreadable" in AuditEvent.objects.get(action="keys.rotated").summary
