"""`manage.py seed_demo`: the demo organisations, logins, locks and codes, produced by the real code lifecycle
against the simulator over HTTP, and a second run that changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from locks import accounts
from locks.cloud.tuya import client as cloud
from locks.models import AccessCode, CloudAccount, Lock, LockKind
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.conftest import World, queues, sim_url  # noqa: F401 - fixtures used by name

Status = AccessCode.Status
MODELS = [Organisation, Property, Unit, Guest, Membership, Stay, CloudAccount, Lock, AccessCode, AuditEvent]


def seed(url: str, *extra: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--cloud", "--endpoint", url, "--burst", "--timeout", "60", *extra, stdout=out)
    return out.getvalue()


def snapshot(world: World) -> dict[str, Any]:
    rows = {model.__name__: model.objects.count() for model in MODELS}
    rows["users"] = sorted(get_user_model().objects.values_list("username", "password", "is_staff", "is_superuser"))
    rows["codes"] = sorted(AccessCode.objects.values_list("pk", "status", "desired", "cloud_password_id", "version"))
    rows["on_locks"] = {
        lock.device_id: sorted((p["password_id"], p["lifecycle"]) for p in world.passwords(lock.device_id))
        for lock in Lock.objects.all()
    }
    return rows


def code(label: str) -> AccessCode:
    return AccessCode.objects.select_related("lock").get(label=label)


@pytest.fixture(autouse=True)
def _debug(settings: Any) -> None:
    settings.DEBUG = True  # a development machine: production needs --force (tested below)


@pytest.fixture
def seeded(sim_url: str, queues: None) -> tuple[World, str]:  # noqa: F811 - the imported fixtures
    # Each organisation also has cloud accounts beside the demo's, which seeding must leave alone (it crashed with
    # MultipleObjectsReturned): a project of its own (one the simulator does not know, so any call to it would fail)
    # and the demo's project on another endpoint (nothing answers there).
    call_command("seed_demo", stdout=io.StringIO())
    for demo in list(CloudAccount.objects.select_related("organisation")):
        CloudAccount.objects.create(
            organisation=demo.organisation,
            name="Own project",
            endpoint=sim_url,
            access_id=f"own{demo.organisation_id:017d}",
            access_secret="s" * 32,
        )
        CloudAccount.objects.create(
            organisation=demo.organisation,
            name="Same project elsewhere",
            endpoint="http://127.0.0.1:9",
            access_id=demo.access_id,
            access_secret=demo.access_secret,
        )
    return World(sim_url), seed(sim_url)


def test_the_demo_is_seeded_through_the_lifecycle(seeded):
    # One seed for all checks: seeding runs some 25 codes through the workers and the simulator.
    world, out = seeded
    check_logins(out)
    check_places_and_locks()
    check_codes(world)
    check_projects_are_disjoint()


def check_logins(out: str) -> None:
    for username, password in [
        ("admin", "admin-doors"),
        ("owner", "owner-doors"),
        ("manager", "manager-doors"),
        ("desk", "desk-doors"),
        ("viewer", "viewer-doors"),
        ("landlord", "landlord-doors"),
    ]:
        assert f"{username:<9} / {password}" in out
        assert get_user_model().objects.get(username=username).check_password(password)
    assert get_user_model().objects.get(username="admin").is_superuser
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {
        "owner": Role.OWNER,
        "manager": Role.MANAGER,
        "desk": Role.FRONT_DESK,
        "viewer": Role.VIEWER,
        "landlord": Role.OWNER,
    }
    desk = Membership.objects.get(user__username="desk")
    assert desk.limited_to_properties
    assert [p.name for p in desk.properties.all()] == ["Canal Hotel"]
    assert Membership.objects.get(user__username="landlord").organisation.name == "Riverside Lettings"


def check_places_and_locks() -> None:
    hotel = Property.objects.get(name="Canal Hotel")
    assert (hotel.kind, hotel.time_zone, hotel.units.count()) == ("hotel", "Europe/Amsterdam", 9)
    rentals = Property.objects.filter(organisation__name="Riverside Lettings")
    assert {p.time_zone for p in rentals} == {"Europe/London", "America/New_York"}
    assert {lock.kind for lock in Lock.objects.all()} == set(LockKind.values)
    assert not Lock.objects.filter(unit=None).exists()
    for lock in Lock.objects.select_related("unit__property", "cloud_account"):
        assert lock.organisation_id == lock.unit.property.organisation_id == lock.cloud_account.organisation_id
        assert lock.cloud_account.name == "Tuya cloud (simulator)"  # the demo's account, not the org's own project


def check_projects_are_disjoint() -> None:
    """Each organisation's demo cloud project holds its doors and nothing else, as two customers' projects would:
    importing everything a project lists (what an owner's "import locks" does) brings in no other organisation's."""
    demo = CloudAccount.objects.filter(name="Tuya cloud (simulator)")
    assert len({account.access_id for account in demo}) == demo.count() == 2
    listed: dict[int, set[str]] = {}
    for account in demo:
        page, ids = cloud.api_for(account).device.list_project_devices(page_size=20), set()
        while True:
            ids |= {device.id for device in page}
            if page.next_last_id is None:
                break
            page = cloud.api_for(account).device.list_project_devices(last_id=page.next_last_id, page_size=20)
        listed[account.organisation_id] = ids
        accounts.import_locks(account)
    canal, riverside = (Organisation.objects.get(name=name).pk for name in ("Canal Hotel", "Riverside Lettings"))
    assert listed[canal]
    assert listed[riverside]
    assert not listed[canal] & listed[riverside]
    for org_id, ids in listed.items():
        assert set(Lock.objects.filter(organisation_id=org_id).values_list("device_id", flat=True)) == ids
    assert Lock.objects.count() == len(set(Lock.objects.values_list("device_id", flat=True)))


def check_codes(world: World) -> None:
    current = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Margaret Hamilton", "Donald Knuth"]
    for name in [*current, "Katherine Johnson", "Edsger Dijkstra", "Olivia Bennett", "Maya Rodriguez"]:
        assert code(name).status == Status.SET, name
        pins = [p["pin"] for p in world.passwords(code(name).lock.device_id) if p["lifecycle"] == "active"]
        assert code(name).pin in pins
    assert Stay.objects.get(guest__name="Ada Lovelace").status == Stay.Status.CHECKED_IN
    arrival = Stay.objects.get(guest__name="Katherine Johnson")
    assert arrival.status == Stay.Status.BOOKED
    assert code("Katherine Johnson").starts_at == arrival.check_in

    cleaner = code("Cleaner (Mon/Wed 09:00-12:00)")
    assert (cleaner.status, cleaner.kind, cleaner.schedule_days) == (Status.SET, "weekly", [0, 2])
    assert (cleaner.schedule_start_minute, cleaner.schedule_end_minute, cleaner.time_zone) == (
        540,
        720,
        "Europe/London",
    )
    [on_lock] = [p for p in world.passwords(cleaner.lock.device_id) if p["pin"] == cleaner.pin]
    assert on_lock["schedule_list"]

    walker = code("Dog walker")
    assert (walker.status, walker.lock.kind) == (Status.FROZEN, LockKind.ZIGBEE)
    assert code("Movers").status == Status.REMOVED
    assert Stay.objects.get(guest__name="Barbara Liskov").status == Stay.Status.CHECKED_OUT
    assert code("Barbara Liskov").status == Status.REMOVED

    refused = code("Extra guest (overlaps Ada's stay)")
    assert (refused.status, refused.lock.kind) == (Status.FAILED, LockKind.ZIGBEE_HOTEL)
    assert "overlaps" in refused.failure_reason
    assert code("Plumber (one visit)").kind == AccessCode.Kind.ONCE
    assert code("Plumber (one visit)").status == Status.SET
    # Nothing was written by hand: every code went through issue (and its audit row).
    assert AuditEvent.objects.filter(action="code.issue").count() == AccessCode.objects.count()


def test_a_second_run_changes_nothing(seeded, sim_url):  # noqa: F811
    world, _out = seeded
    before = snapshot(world)
    seed(sim_url)
    assert snapshot(world) == before


def test_without_cloud_it_creates_people_and_places_only(transactional_db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert Organisation.objects.count() == 2
    assert Unit.objects.count() == 15
    assert CloudAccount.objects.filter(endpoint="embedded").count() == 2
    # A cloud project per organisation: one shared project would show each the other's locks.
    assert CloudAccount.objects.values("access_id").distinct().count() == 2
    assert not Lock.objects.exists()
    assert "landlord" in out.getvalue()


@pytest.mark.parametrize("extra", [[], ["--cloud"]])
def test_production_is_refused_without_force(transactional_db, settings, extra):
    # It makes a superuser admin / admin-doors and other logins whose passwords are published in the README.
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off.*--force"):
        call_command("seed_demo", *extra, stdout=io.StringIO())
    assert not get_user_model().objects.exists()
    assert not Organisation.objects.exists()


def test_production_with_force_seeds(transactional_db, settings):
    settings.DEBUG = False
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    assert get_user_model().objects.get(username="admin").is_superuser
    assert Organisation.objects.count() == 2
    assert "landlord" in out.getvalue()


def test_the_logins_are_printed_only_when_asked(transactional_db):
    """#11 C.19: `dev.py run` seeds the people with --no-logins and prints them once, when the app is ready."""
    quiet, loud = io.StringIO(), io.StringIO()
    call_command("seed_demo", "--no-logins", stdout=quiet)
    call_command("seed_demo", stdout=loud)
    assert "Demo logins" not in quiet.getvalue()
    assert "landlord-doors" not in quiet.getvalue()
    assert loud.getvalue().count("Demo logins") == 1


def test_dev_py_prints_the_logins_once_after_the_seeding():
    from pathlib import Path

    dev = (Path(__file__).resolve().parents[2] / "dev.py").read_text()
    run = dev[dev.index("def run(") : dev.index("def _serve(")]
    serve = dev[dev.index("def _serve(") : dev.index("def _stop(")]
    assert 'manage("seed_demo", "--no-logins")' in run  # beside the migrations: silent
    # The logins come from the cloud seeding, right above the address (or from a plain re-run if that failed).
    assert serve.index('manage("seed_demo", "--cloud")') < serve.index("The app is at")
