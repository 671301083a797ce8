"""One physical lock belongs to one organisation (#11 B.5): a cloud project connected by a second organisation
brings none of the first one's locks, and says so without naming anything of the other organisation; the database
holds the rule too (one_organisation_per_device), and its migration refuses data that breaks it, saying what to do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from locks import jobs
from locks.models import AccessCode, CloudAccount, EventMedia, Lock, LockEvent
from tenants.models import Membership, Organisation, Role
from tests.conftest import private_media_in
from tests.locks.conftest import run_workers
from tests.locks.test_setup_views import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    private_media_in(settings, tmp_path / "private")


@pytest.fixture
def second(django_user_model: Any) -> Client:
    """The owner of a second organisation, signed in."""
    harbour = Organisation.objects.create(name="Harbour Flats Ltd", slug="harbour")
    user = django_user_model.objects.create_user("harbour-owner")
    Membership.objects.create(user=user, organisation=harbour, role=Role.OWNER)
    client = Client()
    client.force_login(user)
    return client


def test_a_second_organisation_gets_none_of_the_first_ones_locks(
    owner_client: Client, second: Client, org: Organisation, sim_url: str, world: Any, queues: None
) -> None:
    wifi, zigbee = world.device("wifi", name="Canal 105"), world.device("zigbee", name="Canal 106")
    connect(owner_client, sim_url)
    run_workers()
    first = set(Lock.objects.filter(organisation=org).values_list("device_id", flat=True))
    assert {wifi, zigbee} <= first
    mine = Lock.objects.get(device_id=wifi)

    # Its doorbell photo, brought in for the first organisation.
    world.call("POST", f"/_sim/devices/{wifi}/doorbell")
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, mine.pk)
    run_workers()
    photo = EventMedia.objects.get(event__lock=mine)
    assert photo.status == EventMedia.Status.DONE

    # The second organisation connects the same project (same access id and secret).
    assert connect(second, sim_url, name="Our project").status_code == 302
    run_workers()
    harbour = Organisation.objects.get(slug="harbour")
    account = CloudAccount.objects.get(organisation=harbour)
    assert not account.importing
    assert account.last_error == ""
    assert not Lock.objects.filter(organisation=harbour).exists()
    assert account.import_refused == len(first)
    page = second.get(reverse("locks:setup")).content.decode()
    assert f"{len(first)} locks of this project were left out" in page
    assert "belong to another organisation" in page
    for theirs in (org.name, org.slug, "Canal 105", wifi, zigbee):
        assert theirs not in page

    # Asking again changes nothing; every periodic job runs, and still nothing of theirs arrives here.
    second.post(reverse("locks:cloud-import", args=[account.pk]))
    jobs.sync_all_lock_events()
    run_workers()
    assert not Lock.objects.filter(organisation=harbour).exists()
    assert not LockEvent.objects.filter(organisation=harbour).exists()

    # Codes issued there cannot reach the first one's doors; its photos do not open.
    starts = timezone.localtime() + timedelta(hours=1)
    response = second.post(
        reverse("locks:issue-code", args=[mine.pk]),
        {"label": "Intruder", "pin": "", "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
         "ends_at": (starts + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert response.status_code == 404
    assert not AccessCode.objects.exists()
    assert world.passwords(wifi) == []
    for variant in ("thumb", "original"):
        assert second.get(reverse("locks:event-media", args=[photo.pk, variant])).status_code == 404
        assert owner_client.get(reverse("locks:event-media", args=[photo.pk, variant])).status_code == 200

    # The first organisation's own import still refreshes its locks.
    owner_client.post(reverse("locks:cloud-import", args=[mine.cloud_account_id]))
    run_workers()
    assert set(Lock.objects.filter(organisation=org).values_list("device_id", flat=True)) == first
    assert CloudAccount.objects.get(pk=mine.cloud_account_id).import_refused == 0


def test_the_database_refuses_a_device_in_two_organisations(org: Organisation) -> None:
    other = Organisation.objects.create(name="Else", slug="else")
    accounts = [
        CloudAccount.objects.create(organisation=o, name="c", endpoint="eu", access_id="a", access_secret="s")
        for o in (org, other)
    ]
    Lock.objects.create(organisation=org, cloud_account=accounts[0], device_id="vdev1", name="1", kind="wifi")
    for account in accounts:  # another organisation, or another account of the same one
        with pytest.raises(IntegrityError), transaction.atomic():
            Lock.objects.create(
                organisation=account.organisation, cloud_account=account, device_id="vdev1", name="2", kind="wifi"
            )


def test_an_import_that_loses_a_race_for_a_device_leaves_it_out(
    org: Organisation, account: CloudAccount, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another organisation's import takes the device between this one's look and its write: the constraint
    decides, this import leaves that device out and keeps the others."""
    from locks import accounts
    from locks.tuya.api.device import DeviceApi

    taken, kept = world.device("wifi"), world.device("wifi")
    rival = Organisation.objects.create(name="Rival", slug="rival")
    rival_account = CloudAccount.objects.create(
        organisation=rival, name="c", endpoint=account.endpoint, access_id="other", access_secret="s"
    )
    read = DeviceApi.get_device

    def read_while_the_rival_writes(self: DeviceApi, device_id: str) -> Any:
        details = read(self, device_id)
        if device_id == taken:
            Lock.objects.create(organisation=rival, cloud_account=rival_account, device_id=taken, name="x", kind="wifi")
        return details

    monkeypatch.setattr(DeviceApi, "get_device", read_while_the_rival_writes)
    locks = accounts.import_locks(account, device_ids=[taken, kept])
    assert [lock.device_id for lock in locks] == [kept]
    account.refresh_from_db()
    assert account.import_refused == 1
    assert Lock.objects.get(device_id=taken).organisation == rival


def test_the_migration_refuses_a_device_already_in_two_organisations(transactional_db: None) -> None:
    call_command("migrate", "locks", "0012", verbosity=0)
    try:
        first = Organisation.objects.create(name="First", slug="first")
        second = Organisation.objects.create(name="Second", slug="second")
        with connection.cursor() as cursor:
            for org_id, account_id in ((first.pk, 901), (second.pk, 902)):
                cursor.execute(
                    "INSERT INTO locks_cloudaccount (id, organisation_id, name, endpoint, access_id, access_secret,"
                    " uid, last_error, created_at) VALUES (%s, %s, 'c', 'eu', 'a', 'x', '', '', %s)",
                    [account_id, org_id, timezone.now()],
                )
                cursor.execute(
                    "INSERT INTO locks_lock (organisation_id, cloud_account_id, device_id, name, kind, online,"
                    " local_key, failure_streak, foreign_codes, created_at) VALUES (%s, %s, 'vdevshared', 'Door',"
                    " 'wifi', TRUE, '', 0, '[]', %s)",
                    [org_id, account_id, timezone.now()],
                )
        with pytest.raises(RuntimeError) as refused:
            call_command("migrate", "locks", verbosity=0)
        message = str(refused.value)
        assert "vdevshared" in message
        assert "'first'" in message
        assert "'second'" in message
        assert "run migrate again" in message
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM locks_lock WHERE cloud_account_id = 902")
    finally:
        # Every app back to its latest: going back in locks also took back what depends on it (the audit trail's
        # table moved out of locks), which `migrate locks` alone would leave behind.
        call_command("migrate", verbosity=0)
    assert list(Lock.objects.values_list("device_id", flat=True)) == ["vdevshared"]
