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
