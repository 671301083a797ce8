"""Devices belong to one cloud project: other projects get 1106 for them and do not see them in lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from locks.simulator import conf, transport
from locks.simulator.models import SimDevice, SimProject
from tests.simulator.conftest import PREFIX, TuyaTestClient

pytestmark = pytest.mark.django_db
OTHER_ID, OTHER_SECRET = "otherproject00000001", "O" * 32


@pytest.fixture
def other() -> TuyaTestClient:
    SimProject.objects.create(access_id=OTHER_ID, secret=OTHER_SECRET)
    client = TuyaTestClient(OTHER_ID, OTHER_SECRET)
    client.connect()
    return client


def _create(**body: Any) -> dict[str, Any]:
    response = Client().post(f"{PREFIX}/_sim/devices", body, "application/json")
    assert response.status_code == 201, response.content
    return dict(json.loads(response.content))


def test_a_device_belongs_to_the_configured_project_by_default(tuya, make_device):
    device = make_device("wifi")
    assert device.access_id == conf.access_id()
    assert _create(kind="wifi")["access_id"] == conf.access_id()
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}")["id"] == device.id


def test_another_projects_device_answers_permission_deny(tuya, other):
    theirs = _create(kind="zigbee", access_id=OTHER_ID)
    assert theirs["access_id"] == OTHER_ID
    mine = _create(kind="zigbee")
    for path in (
        f"/v1.0/devices/{theirs['id']}",
        f"/v1.0/devices/{theirs['id']}/door-lock/temp-passwords",
    ):
        reply = tuya.request("GET", path)
        assert (reply["success"], reply["code"], reply["msg"]) == (False, 1106, "permission deny")
    assert tuya.request("POST", f"/v1.0/devices/{theirs['id']}/door-lock/password-ticket")["code"] == 1106
    assert other.ok("GET", f"/v1.0/devices/{theirs['id']}")["id"] == theirs["id"]
    assert other.request("GET", f"/v1.0/devices/{mine['id']}")["code"] == 1106
    # An unknown device stays 2010 for everyone.
    assert other.request("GET", "/v1.0/devices/vdevo000000000000000")["code"] == 2010


def test_user_devices_lists_only_the_projects_own(tuya, other):
    mine = _create(kind="access_control")
    theirs = _create(kind="access_control", access_id=OTHER_ID)
    query = {"page_no": 1, "page_size": 10}
    listed = tuya.ok("GET", f"/v1.0/smart-lock/users/{transport.project_uid(tuya.access_id)}/devices", query)
    assert [d["id"] for d in listed["records"]] == [mine["id"]]
    listed = other.ok("GET", f"/v1.0/smart-lock/users/{transport.project_uid(OTHER_ID)}/devices", query)
    assert [d["id"] for d in listed["records"]] == [theirs["id"]]
    assert listed["records"][0]["uid"] == transport.project_uid(OTHER_ID)


def test_the_owner_of_a_device_is_its_projects_account(other):
    theirs = _create(kind="access_control", access_id=OTHER_ID)
    me = other.ok("GET", f"/v1.1/devices/{theirs['id']}/users/0")
    assert (me["user_type"], me["uid"]) == (50, transport.project_uid(OTHER_ID))


def test_access_id_too_long_is_400():
    response = Client().post(f"{PREFIX}/_sim/devices", {"kind": "wifi", "access_id": "x" * 65}, "application/json")
    assert response.status_code == 400


def test_the_migration_gives_existing_devices_the_configured_project(transactional_db: None):
    call_command("migrate", "simulator", "0003", verbosity=0)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO simulator_simdevice (id, kind, name, online, battery, local_key, time_zone, product_id,"
                " uuid, owner_id, ip, created_at, updated_at, remote_unlock_with_pwd, remote_unlock_without_pwd)"
                " VALUES ('vdevoold', 'wifi', 'old', TRUE, 100, 'k', 'UTC', 'p', 'u', 'o', '', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00', TRUE, TRUE)"
            )
    finally:
        call_command("migrate", "simulator", verbosity=0)
    assert SimDevice.objects.get(pk="vdevoold").access_id == conf.access_id()


def _project(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = Client().post(f"{PREFIX}/_sim/projects", body, "application/json")
    return response.status_code, dict(json.loads(response.content))


def test_a_project_created_through_the_world_api_sees_only_its_own_devices(tuya):
    status, made = _project({"access_id": OTHER_ID, "secret": OTHER_SECRET})
    assert (status, made) == (201, {"access_id": OTHER_ID, "secret": OTHER_SECRET, "created": True})
    other = TuyaTestClient(OTHER_ID, OTHER_SECRET)
    other.connect()
    theirs, mine = _create(kind="wifi", access_id=OTHER_ID), _create(kind="wifi")
    query = {"page_size": 20}
    assert [d["id"] for d in other.ok("GET", "/v2.0/cloud/thing/device", query)] == [theirs["id"]]
    assert [d["id"] for d in tuya.ok("GET", "/v2.0/cloud/thing/device", query)] == [mine["id"]]
    assert other.request("GET", f"/v1.0/devices/{mine['id']}")["code"] == 1106
    listed = json.loads(Client().get(f"{PREFIX}/_sim/projects").content)["projects"]
    assert listed == [
        {"access_id": conf.access_id(), "configured": True},
        {"access_id": OTHER_ID, "configured": False},
    ]


def test_creating_a_project_again_is_idempotent_and_another_secret_is_refused():
    assert _project({"access_id": OTHER_ID, "secret": OTHER_SECRET})[0] == 201
    assert _project({"access_id": OTHER_ID, "secret": OTHER_SECRET}) == (
        200,
        {"access_id": OTHER_ID, "secret": OTHER_SECRET, "created": False},
    )
    status, reply = _project({"access_id": OTHER_ID, "secret": "X" * 32})
    assert status == 409
    assert OTHER_SECRET not in json.dumps(reply)
    assert _project({"access_id": conf.access_id(), "secret": conf.access_secret()})[0] == 200
    assert _project({"access_id": conf.access_id(), "secret": "X" * 32})[0] == 409
    assert SimProject.objects.count() == 1


def test_a_project_without_credentials_gets_them_made():
    status, made = _project({})
    assert status == 201
    assert len(made["access_id"]) == 20
    assert len(made["secret"]) == 32
    client = TuyaTestClient(made["access_id"], made["secret"])
    assert client.connect()["success"]


@pytest.mark.parametrize(
    "body", [{"access_id": "x" * 65}, {"access_id": "a b"}, {"secret": "short"}, {"secret": "é" * 32}]
)
def test_malformed_project_credentials_are_400(body):
    assert _project(body)[0] == 400
    assert not SimProject.objects.exists()
