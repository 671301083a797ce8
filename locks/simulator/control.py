"""The physical world around the simulated cloud: create locks, take them offline, type codes, inject faults.

Plain JSON, not signed: this is not Tuya's API but the hands of whoever stands at the door. The same actions
as HTML forms are on the control page (controlpage.py).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import string
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from locks.simulator import clock, conf, delivery, devices, faults, lockstate, transport
from locks.simulator.models import SimDevice, SimEvent, SimFault, SimProject


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data
    return request.POST.dict()  # the HTML page posts forms


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _device_or_404(device_id: str) -> SimDevice | None:
    return SimDevice.objects.filter(pk=device_id).first()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def device_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse({"devices": [devices.world_json(d) for d in SimDevice.objects.order_by("created_at")]})
    try:
        data = _body(request)
        device = devices.create_device(
            kind=str(data.get("kind", "")),
            name=str(data.get("name", "")),
            online=_as_bool(data.get("online", True)),
            battery=int(data.get("battery", 100)),
            time_zone=str(data.get("time_zone") or "Europe/Amsterdam"),
            access_id=str(data.get("access_id") or ""),
        )
    except (ValueError, TypeError) as exc:
        return _error(str(exc))
    return JsonResponse(devices.world_json(device), status=201)


# What Tuya's IoT platform hands out for a cloud project: an access id of 20 and a secret of 32 letters and digits.
_ACCESS_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_SECRET = re.compile(r"[A-Za-z0-9]{32}")


def _random_text(length: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(length))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    """Cloud projects, as created on Tuya's IoT platform: each has its own credentials and sees only the devices
    linked to it (devices.create_device's access_id). The configured project (TUYA_ACCESS_ID) always exists.

    POST {"access_id", "secret"} (either may be left out to have one made) creates a project and answers 201 with
    its credentials; the same again answers 200, an existing access id with another secret 409."""
    if request.method == "GET":
        others = SimProject.objects.order_by("created_at").values_list("access_id", flat=True)
        projects = [{"access_id": conf.access_id(), "configured": True}]
        projects += [{"access_id": access_id, "configured": False} for access_id in others]
        return JsonResponse({"projects": projects})
    try:
        data = _body(request)
    except ValueError as exc:
        return _error(str(exc))
    access_id = str(data.get("access_id") or "") or _random_text(20)
    secret = str(data.get("secret") or "") or _random_text(32)
    if not _ACCESS_ID.fullmatch(access_id):
        return _error("access_id must be 1 to 64 letters or digits")
    if not _SECRET.fullmatch(secret):
        return _error("secret must be 32 letters or digits, like a Tuya access secret")
    created = False
    if transport.project_secret(access_id) is None and access_id != conf.access_id():
        try:
            with transaction.atomic():
                SimProject.objects.create(access_id=access_id, secret=secret)
            created = True
        except IntegrityError:  # created meanwhile by another request: compared below like any existing one
            pass
    if not created and not hmac.compare_digest(transport.project_secret(access_id) or "", secret):
        return _error("a project with this access_id exists, with another secret", 409)
    return JsonResponse({"access_id": access_id, "secret": secret, "created": created}, status=201 if created else 200)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"1", "true", "on", "yes"}:
        return True
    if str(value).lower() in {"0", "false", "off", "no"}:
        return False
    raise ValueError("online must be true or false")


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def device_detail(request: HttpRequest, device_id: str) -> HttpResponse:
    device = _device_or_404(device_id)
    if device is None:
        return _error("device not found", 404)
    if request.method == "PATCH":
        try:
            data = _body(request)
            _update_device(device, data)
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
    return JsonResponse(devices.world_json(device))


@transaction.atomic
def _update_device(device: SimDevice, data: dict[str, Any]) -> None:
    now = clock.now()
    battery = None
    if "battery" in data:
        battery = int(data["battery"])
        if not 0 <= battery <= 100:
            raise ValueError("battery must be 0..100")
    if "name" in data:
        device.name = str(data["name"])[:100] or device.name
    device.updated_at = now
    device.save()
    if "online" in data:
        delivery.set_online(device, _as_bool(data["online"]), now)
    if battery is not None:
        # After the online change: a lock coming back online reports its low battery at once.
        lockstate.set_battery(device, battery, now)


@csrf_exempt
@require_http_methods(["POST"])
def keypad(request: HttpRequest, device_id: str) -> HttpResponse:
    device = _device_or_404(device_id)
    if device is None:
        return _error("device not found", 404)
    try:
        code = str(_body(request).get("code", ""))
    except ValueError as exc:
        return _error(str(exc))
    if not code.isdigit():
        return _error("code must be digits")
    with transaction.atomic():
        opened, reason = lockstate.keypad(device, code, clock.now())  # enrolled passwords, then temporary ones
    return JsonResponse({"opened": opened, "reason": reason})


@require_http_methods(["GET"])
def device_passwords(request: HttpRequest, device_id: str) -> HttpResponse:
    """What the lock holds, PINs included: the world can read the lock's memory, the cloud API cannot."""
    device = _device_or_404(device_id)
    if device is None:
        return _error("device not found", 404)
    with transaction.atomic():
        passwords = delivery.all_passwords(device, clock.now())
    rows = [
        {
            "password_id": pw.password_id,
            "name": pw.name,
            "pin": pw.pin,
            "lifecycle": pw.lifecycle,
            "phase": delivery.phase(pw, device.kind),
            "delivery_status": pw.delivery_status,
            "pending_op": pw.op,
            "frozen": pw.frozen,
            "used": pw.used,
            "effective_time": pw.effective_time,
            "invalid_time": pw.invalid_time,
            "type": pw.type,
            "time_zone": pw.time_zone,
            "schedule_list": pw.schedule_list,
            "sn": pw.sn,
        }
        for pw in passwords
    ]
    return JsonResponse({"passwords": rows})


@require_http_methods(["GET"])
def device_events(request: HttpRequest, device_id: str) -> HttpResponse:
    events = SimEvent.objects.filter(device_id=device_id)
    rows = [
        {
            "kind": e.kind,
            "password_id": e.password_id,
            "sn": e.sn,
            "reason": e.reason,
            "time": int(e.created_at.timestamp() * 1000),
            "uploaded": e.uploaded,
        }
        for e in events
    ]
    return JsonResponse({"events": rows})


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def fault_list(request: HttpRequest) -> HttpResponse:
    if request.method == "DELETE":
        deleted, _ = SimFault.objects.all().delete()
        return JsonResponse({"cleared": deleted})
    if request.method == "POST":
        try:
            fault = faults.create(_body(request))
        except ValueError as exc:
            return _error(str(exc))
        return JsonResponse(faults.as_json(fault), status=201)
    return JsonResponse({"faults": [faults.as_json(f) for f in SimFault.objects.order_by("id")]})
