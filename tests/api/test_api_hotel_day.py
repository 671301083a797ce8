"""Done means (issue 13): a script holding only an API key runs a hotel's day — registers its webhook receiver,
checks a guest in, hears that the code is on the lock, prints the PIN, hears the guest open the door (code → guest
→ stay), checks them out and hears the code come off — against the simulated cloud, real workers and a real
receiver on 127.0.0.1. Every delivery is verified with the Standard Webhooks reference library and its body checked
against the webhooks section of the API's own document."""

from __future__ import annotations

import json
from typing import Any

import django_rq
import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from locks import jobs
from locks.models import Lock
from tenants.models import Unit
from tests.api.conftest import ApiClient, document, hours
from tests.locks.conftest import World, run_workers
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def told(receiver: Receiver, secret: str) -> list[dict[str, Any]]:  # noqa: F811
    """Every delivery so far, verified and checked against the document; in the order received."""
    bodies = []
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)
        body = json.loads(request.body)
        schema = {**document(), "$ref": f"#/webhooks/{body['type']}/post/requestBody/content/application~1json/schema"}
        jsonschema.Draft202012Validator(schema).validate(body)
        bodies.append(body)
    return bodies


def test_a_script_with_only_a_key_runs_the_day(
    api: ApiClient,
    make_lock: Any,
    world: World,
    unit: Unit,
    receiver: Receiver,  # noqa: F811
    settings: Any,
) -> None:
    lock: Lock = make_lock("wifi")
    hook = api.post("/webhook-endpoints", {"url": receiver.url, "event_types": [
        "stay.created", "stay.checked_out", "access_code.set", "access_code.removed", "lock.unlocked"]})  # fmt: skip
    assert hook.status_code == 201
    secret = hook.json()["secret"]

    stay = api.post(
        "/stays",
        {"unit": unit.pk, "guest": {"name": "Grace Hopper"}, "check_in": hours(-1), "check_out": hours(20)},
        headers={"Idempotency-Key": "pms-1"},
    ).json()
    run_workers()  # the code to the lock; then the deliveries
    run_workers()
    types = [body["type"] for body in told(receiver, secret)]
    assert types[:2] == ["stay.created", "access_code.set"]
    code_id = stay["access_codes"][0]["id"]
    assert told(receiver, secret)[1]["data"]["id"] == code_id

    pin = api.post(f"/access-codes/{code_id}/reveal").json()["pin"]
    assert world.opens(lock.device_id, pin)
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()
    run_workers()
    [unlocked] = [b for b in told(receiver, secret) if b["type"] == "lock.unlocked"]
    assert (unlocked["data"]["access_code_id"], unlocked["data"]["stay_id"]) == (code_id, stay["id"])
    assert unlocked["data"]["guest_name"] == "Grace Hopper"

    api.post(f"/stays/{stay['id']}/check-out")
    run_workers()
    run_workers()
    types = [body["type"] for body in told(receiver, secret)]
    assert types.count("stay.checked_out") == 1
    assert types.count("access_code.removed") == 1
    assert not world.opens(lock.device_id, pin)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids))  # one delivery each, none twice

    log = api.get(f"/webhook-endpoints/{hook.json()['id']}/deliveries").json()["items"]
    assert {d["status"] for d in log} == {"delivered"}
    again = api.post(f"/webhook-deliveries/{log[0]['id']}/send-again")
    assert again.status_code == 200
    run_workers()
    assert receiver.requests[-1].headers["webhook-id"] == log[0]["webhook_id"]  # the same id: receivers dedupe
