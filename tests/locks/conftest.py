"""Fixtures for the code lifecycle: a real simulator over HTTP, real RQ queues, burst workers."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import django_rq
import pytest
import redis
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rq.serializers import JSONSerializer

from locks.models import CloudAccount, Lock
from locks.simulator import conf as sim_conf
from locks.simulator.server import build_server
from locks.workers import DjangoSimpleWorker
from tenants.models import Guest, Membership, Organisation, Property, Role, Unit


@pytest.fixture
def sim_url(transactional_db: None, settings: Any) -> Iterator[str]:
    """The standalone simulator (what `manage.py tuya_simulator` serves) on a real socket, in a thread."""
    settings.SIM_DELIVERY_SECONDS = 0.2
    settings.SIM_RATE_LIMIT = 0
    settings.CODE_POLL_SECONDS = 0.05
    settings.CODE_POLL_WINDOW_SECONDS = 5
    server = build_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def queues(redis_url: str) -> Iterator[None]:
    """Empty queues and token cache for each test."""
    redis.Redis.from_url(redis_url).flushdb()
    yield
    redis.Redis.from_url(redis_url).flushdb()


def run_workers(worker_class: type[DjangoSimpleWorker] = DjangoSimpleWorker, **work: Any) -> None:
    """Run every queued job as our worker class does (no fork: the SQLite test database lives in this process),
    on every queue in priority order (RQ_QUEUES is declared in that order)."""
    from django.conf import settings

    worker = worker_class(
        [django_rq.get_queue(n) for n in settings.RQ_QUEUES],
        connection=django_rq.get_connection("codes"),
        serializer=JSONSerializer,
    )
    worker.work(burst=True, with_scheduler=True, **work)  # burst: first moves the delayed jobs that are due


class World:
    """The physical side of the simulator: the lock's keypad and state."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def device(self, kind: str, **extra: Any) -> str:
        return self.call("POST", "/_sim/devices", {"kind": kind, "name": f"Door ({kind})", **extra})["id"]

    def opens(self, device_id: str, code: str) -> bool:
        return bool(self.call("POST", f"/_sim/devices/{device_id}/keypad", {"code": code})["opened"])

    def online(self, device_id: str, online: bool) -> None:
        self.call("PATCH", f"/_sim/devices/{device_id}", {"online": online})

    def passwords(self, device_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/_sim/devices/{device_id}/passwords")["passwords"])

    def fault(self, **spec: Any) -> None:
        self.call("POST", "/_sim/faults", spec)


@pytest.fixture
def world(sim_url: str) -> World:
    return World(sim_url)


@pytest.fixture
def org(db: None) -> Organisation:
    return Organisation.objects.create(name="Canal Hotel", slug="canal")


@pytest.fixture
def front_desk(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("desk", password="pw-desk-1")
    Membership.objects.create(user=user, organisation=org, role=Role.FRONT_DESK)
    return user


@pytest.fixture
def owner(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("owner", email="owner@example.com", password="pw-owner-1")
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


@pytest.fixture
def owner_client(client: Any, owner: Any) -> Any:
    client.force_login(owner)
    return client


@pytest.fixture
def unit(org: Organisation) -> Unit:
    prop = Property.objects.create(
        organisation=org, name="Canal Hotel", kind=Property.Kind.HOTEL, time_zone="Europe/Amsterdam"
    )
    return Unit.objects.create(property=prop, name="Room 12")


@pytest.fixture
def guest(org: Organisation) -> Guest:
    return Guest.objects.create(organisation=org, name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def account(org: Organisation, sim_url: str, queues: None) -> CloudAccount:
    return CloudAccount.objects.create(
        organisation=org,
        name="Simulated cloud",
        endpoint=sim_url,
        access_id=sim_conf.DEMO_ACCESS_ID,
        access_secret=sim_conf.DEMO_ACCESS_SECRET,
    )


@pytest.fixture
def make_lock(account: CloudAccount, world: World, unit: Unit) -> Callable[..., Lock]:
    def make(kind: str = "zigbee", **extra: Any) -> Lock:
        device_id = world.device(kind, **extra)
        return Lock.objects.create(
            organisation=account.organisation,
            cloud_account=account,
            unit=unit,
            device_id=device_id,
            name=f"Room 12 ({kind})",
            kind=kind,
        )

    return make


def window(hours_from: float = -1, hours_to: float = 24) -> tuple[Any, Any]:
    now = timezone.now()
    return now + timedelta(hours=hours_from), now + timedelta(hours=hours_to)


def event_place(lock: Lock) -> dict[str, int | None]:
    """The unit and property an event of this lock carries, as the events sync stores them (locks/event_records.py)."""
    unit = lock.unit
    return {"unit_id": unit.pk if unit else None, "property_id": unit.property_id if unit else None}


@contextmanager
def migrated_back_to(step: tuple[str, str]) -> Iterator[Apps]:
    """The database as it was at an earlier migration, with the models of then to fill it; every migration is
    applied again afterwards, whatever the test did."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([step])
    try:
        yield executor.loader.project_state([step]).apps
    finally:
        MigrationExecutor(connection).migrate(latest)


def old_room(apps: Apps) -> tuple[Any, Any, Any, Any]:
    """(organisation, property, a room of it, a cloud account), made with an earlier migration's models."""
    organisation = apps.get_model("tenants", "Organisation").objects.create(name="Alpha", slug="alpha")
    prop = apps.get_model("tenants", "Property").objects.create(
        organisation=organisation, name="Canal", kind="hotel", time_zone="UTC"
    )
    room = apps.get_model("tenants", "Unit").objects.create(property=prop, name="Room 1")
    account = apps.get_model("locks", "CloudAccount").objects.create(
        organisation=organisation, name="c", endpoint="eu", access_id="a", access_secret="x"
    )
    return organisation, prop, room, account
