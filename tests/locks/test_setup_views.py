"""Setting up without the admin: connect a cloud project, its locks come in through a worker, put each on a door
(properties and units: tests/tenants/test_setup_views.py). Owners and managers only; another organisation's ids
are not found."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks import codes
from locks.models import AccessCode, CloudAccount, Lock
from locks.simulator import conf as sim_conf
from tenants.models import Membership, Organisation, Property, Role, Unit
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)


def connect(client: Client, sim_url: str, **extra: Any) -> Any:
    data = {
        "name": "Tuya EU",
        "endpoint": sim_url,
        "access_id": sim_conf.DEMO_ACCESS_ID,
        "access_secret": sim_conf.DEMO_ACCESS_SECRET,
        **extra,
    }
    return client.post(reverse("locks:cloud-connect"), data)


def test_connect_a_project_its_locks_come_in_and_one_goes_on_a_door(
    owner_client: Client, sim_url: str, world: Any, queues: None, unit: Unit
) -> None:
    device_ids = {world.device("wifi"), world.device("zigbee")}
    response = connect(owner_client, sim_url)
    assert response.status_code == 302
    account = CloudAccount.objects.get()
    assert account.importing
    assert account.access_secret == sim_conf.DEMO_ACCESS_SECRET  # stored (encrypted at rest, see test_fields)
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Bringing in its locks" in page
    assert sim_conf.DEMO_ACCESS_SECRET not in page  # never shown again
    run_workers()
    account.refresh_from_db()
    assert not account.importing
    assert account.last_error == ""
    assert device_ids <= set(Lock.objects.values_list("device_id", flat=True))

    lock = Lock.objects.get(device_id=sorted(device_ids)[0])
    response = owner_client.post(
        reverse("locks:lock-attach", args=[lock.pk]), {"unit": unit.pk}, headers={"HX-Request": "true"}
    )
    assert f"On {unit}." in response.content.decode()
    lock.refresh_from_db()
    assert lock.unit == unit
    assert AuditEvent.objects.filter(action="lock.attach", object_id=str(lock.pk)).exists()


def test_a_wrong_secret_is_said_in_plain_words(owner_client: Client, sim_url: str, world: Any, queues: None) -> None:
    connect(owner_client, sim_url, access_secret="not-the-secret-0123456789abcdef")
    run_workers()
    account = CloudAccount.objects.get()
    assert account.last_error
    assert not account.importing
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Refused" in page
    assert account.last_error.split(" (")[0] in page


def test_connect_form_errors_beside_their_fields(owner_client: Client, sim_url: str, queues: None) -> None:
    response = connect(owner_client, sim_url, endpoint="moon", access_secret="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert not CloudAccount.objects.exists()
    response = connect(owner_client, sim_url, endpoint="moon")
    assert "Unknown Tuya endpoint" in response.content.decode()
    connect(owner_client, sim_url)
    assert "connected already" in connect(owner_client, sim_url).content.decode()
    assert CloudAccount.objects.count() == 1


def test_a_lock_with_live_codes_is_not_moved_to_another_door(
    owner_client: Client, make_lock: Any, org: Organisation, django_capture_on_commit_callbacks: Any
) -> None:

    lock = make_lock("wifi")
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    other = Unit.objects.create(property=lock.unit.property, name="Room 99")
    response = owner_client.post(reverse("locks:lock-attach", args=[lock.pk]), {"unit": other.pk}, follow=True)
    assert "remove them first" in response.content.decode()
    lock.refresh_from_db()
    assert lock.unit != other
    assert AccessCode.objects.count() == 1


def test_front_desk_and_viewer_may_not_set_up(client: Client, front_desk: Any, org: Organisation,
                                              django_user_model: Any) -> None:  # fmt: skip
    viewer = django_user_model.objects.create_user("viewer")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    for user in (front_desk, viewer):
        client.force_login(user)
        assert client.get(reverse("locks:setup")).status_code == 403
        assert client.post(reverse("setup:property-create"), {"name": "x"}).status_code == 403


def test_another_organisations_accounts_and_locks_are_not_found(
    client: Client, make_lock: Any, django_user_model: Any
) -> None:
    lock = make_lock("wifi")
    stranger = django_user_model.objects.create_user("stranger")
    Membership.objects.create(
        user=stranger, organisation=Organisation.objects.create(name="Else", slug="else"), role=Role.OWNER
    )
    client.force_login(stranger)
    assert client.post(reverse("locks:cloud-import", args=[lock.cloud_account_id])).status_code == 404
    assert client.get(reverse("locks:cloud-account", args=[lock.cloud_account_id])).status_code == 404
    assert client.post(reverse("locks:lock-attach", args=[lock.pk]), {"unit": ""}).status_code == 404
    mine = Unit.objects.create(property=Property.objects.create(organisation=stranger.memberships.get().organisation,
                                                                name="Mine"), name="1")  # fmt: skip
    assert client.post(reverse("locks:lock-attach", args=[lock.pk]), {"unit": mine.pk}).status_code == 404
    lock.refresh_from_db()
    assert lock.unit is not None


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_only_owners_manage_cloud_projects_managers_see_them(
    client: Client, org: Organisation, account: CloudAccount, django_user_model: Any, sim_url: str, role: str
) -> None:
    """As in the admin (CLOUD_ROLES): owners connect projects and bring in their locks; managers see the projects'
    state without a form or button (they keep properties, units and doors); the front desk and viewers get nothing."""
    user = django_user_model.objects.create_user(f"member-{role}")
    Membership.objects.create(user=user, organisation=org, role=role)
    client.force_login(user)
    importing = CloudAccount.objects.filter(pk=account.pk)
    importing.update(import_requested_at=timezone.now())  # a row the set-up page polls
    connect_url, import_url = reverse("locks:cloud-connect"), reverse("locks:cloud-import", args=[account.pk])
    row_url = reverse("locks:cloud-account", args=[account.pk])
    page, row = client.get(reverse("locks:setup")), client.get(row_url)
    importing.update(import_requested_at=None)
    imported = client.post(import_url)
    connected = connect(client, sim_url, name="Second project", access_id="second-project-access-id")
    if role == Role.OWNER:
        assert (page.status_code, row.status_code, imported.status_code, connected.status_code) == (200, 200, 302, 302)
        assert import_url in row.content.decode()
        assert f'action="{connect_url}"' in page.content.decode()
        assert CloudAccount.objects.filter(name="Second project").exists()
        assert AuditEvent.objects.filter(action="locks.import_requested", object_id=str(account.pk)).exists()
        return
    assert imported.status_code == 403
    assert connected.status_code == 403
    assert not CloudAccount.objects.filter(name="Second project").exists()
    assert CloudAccount.objects.get(pk=account.pk).import_requested_at is None
    if role == Role.MANAGER:
        assert (page.status_code, row.status_code) == (200, 200)
        for html in (page.content.decode(), row.content.decode()):
            assert "Bringing in its locks" in html  # the state, read-only
            assert import_url not in html
            assert f'action="{connect_url}"' not in html
        assert reverse("setup:units-create") in page.content.decode()  # the rest of set-up stays theirs
    else:
        assert (page.status_code, row.status_code) == (403, 403)
