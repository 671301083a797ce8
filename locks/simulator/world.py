"""The physical world, continued: fingers, cards, faces and keys at the reader, the doorbell, alarms, enrollment
steps, the people of the home, and the simulated storage serving captured photos.

Plain JSON, not signed, like control.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from locks.simulator import clock, dpcodes, lockstate, media
from locks.simulator.kinds import ACCESS_CONTROL, BLE_GATEWAY, WIFI_KEEPALIVE, WIFI_VIDEO
from locks.simulator.models import (
    SimDevice,
    SimEnrollment,
    SimEvent,
    SimMedia,
    SimRemoteRequest,
    SimUnlockMethod,
    SimUser,
)

# Kinds whose locally enrolled methods reach the cloud only through opmodes/actions/sync (the spec lists sync
# for exactly these); the others report a new method at once.
SYNC_KINDS = frozenset({BLE_GATEWAY, WIFI_KEEPALIVE, WIFI_VIDEO, ACCESS_CONTROL})
PRESENTABLE = {
    "fingerprint": "unlock_fingerprint",
    "card": "unlock_card",
    "face": "unlock_face",
    "key": "unlock_key",
    "hand": "unlock_hand",
    "finger_vein": "unlock_finger_vein",
    "remoteControl": "unlock_telecontrol_kit",
}


class WorldError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    if request.content_type != "application/json":
        return request.POST.dict()
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorldError("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise WorldError("body must be a JSON object")
    return data


def _int(data: dict[str, Any], name: str, default: int | None = None) -> int:
    raw = data.get(name, default)
    if raw is None or isinstance(raw, bool) or not str(raw).strip().isdigit():
        raise WorldError(f"{name} must be a non-negative integer")
    return int(raw)


def _base_url(request: HttpRequest) -> str:
    # The mount prefix: whatever precedes "_sim/" in this request's path (/tuya-sim/ in the app, / standalone).
    return request.build_absolute_uri(request.path[: request.path.index("/_sim/") + 1])


def event_json(request: HttpRequest, event: SimEvent) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": event.kind,
        "value": event.dp_value,
        "user_id": event.user.user_id if event.user else None,
        "time": int(event.created_at.timestamp() * 1000),
        "uploaded": event.uploaded,
    }
    if event.media is not None:
        row["file_url"] = media.url(_base_url(request), event.media)
        row["file_key"] = event.media.file_key
    return row


def _new_events(request: HttpRequest, device: SimDevice, after: int) -> list[dict[str, Any]]:
    return [event_json(request, e) for e in device.events.filter(pk__gt=after).select_related("user", "media")]


def _last_event_pk(device: SimDevice) -> int:
    return device.events.order_by("-pk").values_list("pk", flat=True).first() or 0


def _device_action(
    methods: list[str],
) -> Callable[[Callable[[HttpRequest, SimDevice, dict[str, Any]], dict[str, Any]]], Any]:
    """Wrap an action on one device: 404 for an unknown lock, 400 for bad input, everything in one transaction."""

    def wrap(action: Callable[[HttpRequest, SimDevice, dict[str, Any]], dict[str, Any]]) -> Any:
        @csrf_exempt
        @require_http_methods(methods)
        def view(request: HttpRequest, device_id: str, **kwargs: str) -> HttpResponse:
            device = SimDevice.objects.filter(pk=device_id).first()
            if device is None:
                return JsonResponse({"error": "device not found"}, status=404)
            try:
                data = _body(request) if request.method in ("POST", "PATCH") else {}
                with transaction.atomic():
                    result = action(request, device, {**data, **kwargs})
            except WorldError as exc:
                return JsonResponse({"error": str(exc)}, status=exc.status)
            except ValueError as exc:
                return JsonResponse({"error": str(exc)}, status=400)
            return JsonResponse(result, status=201 if request.method == "POST" else 200)

        view.__name__ = action.__name__
        return view

    return wrap


# --- at the door --------------------------------------------------------------------------------------------


@_device_action(["POST"])
def present(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """Hold a finger / card / face to the reader, or turn a mechanical key: {"type": "fingerprint", "number": 1}."""
    kind = str(data.get("type", ""))
    if kind not in PRESENTABLE:
        raise WorldError(f"type must be one of {', '.join(PRESENTABLE)}")
    before = _last_event_pk(device)
    opened, reason = lockstate.present(device, PRESENTABLE[kind], _int(data, "number", 1), clock.now())
    return {"opened": opened, "reason": reason, "events": _new_events(request, device, before)}


@_device_action(["POST"])
def doorbell(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """Someone rings: the same as asking to be let in (see ask_to_enter)."""
    now = clock.now()
    bell, asked = ask_to_enter(device, now)
    return {"request": _request_json(asked, now), "events": [event_json(request, bell)]}


@_device_action(["POST", "GET"])
def remote_request(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """POST: someone at the door asks to be let in (the doorbell rings, camera locks take a photo, and the
    lock stays awake for the countdown); GET: the state of the latest request."""
    now = clock.now()
    if request.method == "POST":
        bell, asked = ask_to_enter(device, now)
        return {"request": _request_json(asked, now), "events": [event_json(request, bell)]}
    latest = latest_request(device, now)
    return {"request": _request_json(latest, now) if latest else None}


def ask_to_enter(device: SimDevice, now: datetime) -> tuple[SimEvent, SimRemoteRequest]:
    """Someone at the door rings and asks to be let in: the doorbell event and the pending request.

    A ring is the request: the spec's doorbell alert record (with its photo) is how a client learns that someone
    waits (album event 18 "Report doorbell request", alarm-logs codes=doorbell&showMediaInfo=true), and the lock
    stays awake for its unlock_request countdown so that a password-free open can reach it."""
    from locks.simulator import api_remote

    return lockstate.ring(device, now), api_remote.open_request(device, now)


def latest_request(device: SimDevice, now: datetime) -> SimRemoteRequest | None:
    from locks.simulator import api_remote

    api_remote.pending_request(device, now)  # lapses an unanswered request whose countdown ended
    return device.remote_requests.order_by("-created_at", "-id").first()


def _request_json(asked: Any, now: Any) -> dict[str, Any]:
    return {
        "status": asked.status,
        "created_at": int(asked.created_at.timestamp() * 1000),
        "seconds_left": max(0, int((asked.expires_at - now).total_seconds())) if asked.status == "pending" else 0,
    }


@_device_action(["POST"])
def alarm(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """Raise an alarm_lock alert: {"alarm": "pry" | "low_battery" | …} (duress comes from a hijack method)."""
    return {"events": [event_json(request, lockstate.alarm(device, str(data.get("alarm", "")), clock.now()))]}


# --- enrollment ---------------------------------------------------------------------------------------------


def _enrollment_json(enrollment: SimEnrollment | None) -> dict[str, Any]:
    if enrollment is None:
        return {"enrollment": None}
    method = enrollment.method
    return {
        "enrollment": {
            "dp_code": enrollment.dp_code,
            "user_id": enrollment.user.user_id,
            "state": enrollment.state,
            "total": enrollment.total,
            "remaining": enrollment.remaining,
            "messages": [{"bizCode": "doorUnlockMethodStatus", "bizData": m} for m in enrollment.messages],
            "unlock_sn": method.unlock_sn if method else None,
        }
    }


@_device_action(["POST"])
def enroll_step(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """Press the finger (or show the card, face, type the password: {"code": "…"}) once more for the enrollment."""
    return _enrollment_json(advance_enrollment(device, data, clock.now()))


def advance_enrollment(device: SimDevice, data: dict[str, Any], now: datetime) -> SimEnrollment:
    """One more press / entry for the enrollment in progress (WorldError when there is none or the code is bad)."""
    enrollment = lockstate.active_enrollment(device)
    if enrollment is None:
        raise WorldError("no enrollment in progress", 409)
    if enrollment.dp_code == "unlock_password":
        code = str(data.get("code", ""))
        if not code.isdigit() or not 6 <= len(code) <= 10:
            raise WorldError("code must be 6 to 10 digits")
        if enrollment.remaining == enrollment.total:
            enrollment.pin = code
        elif code != enrollment.pin:
            raise WorldError("the confirmation differs from the first entry")
    enrollment.remaining -= 1
    finished = enrollment.remaining == 0
    if finished:
        enrollment.method = lockstate.add_method(
            device, enrollment.dp_code, now, user=enrollment.user, pin=enrollment.pin
        )
        enrollment.state = SimEnrollment.State.DONE
    enrollment.messages = [*enrollment.messages, lockstate.enrollment_message(enrollment, finish=finished)]
    enrollment.updated_at = now
    enrollment.save()
    return enrollment


@_device_action(["GET"])
def enrollment(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """The latest enrollment and its doorUnlockMethodStatus messages, as the cloud would push them."""
    return _enrollment_json(device.enrollments.order_by("-created_at", "-id").first())


# --- the people of the home, and what the lock holds --------------------------------------------------------


def _user_json(user: SimUser) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "nick_name": user.nick_name,
        "user_type": user.user_type,
        "home": user.home,
        "state": user.state,
        "lock_user_id": user.lock_user_id,
        "uid": user.uid,
    }


@_device_action(["GET", "POST"])
def home_users(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """A member joins the owner's home in the Tuya app: {"nick_name": "Ann", "role": "admin" | "normal"}."""
    now = clock.now()
    lockstate.owner(device, now)
    if request.method == "POST":
        name = str(data.get("nick_name", "")).strip()
        role = str(data.get("role", "normal"))
        if not name or role not in ("admin", "normal"):
            raise WorldError("nick_name is required and role must be admin or normal")
        user = lockstate.create_user(
            device,
            now,
            home=True,
            nick_name=name[:100],
            user_type=10 if role == "admin" else 20,
            contact=str(data.get("contact", ""))[:100],
            uid=lockstate.home_uid(),
        )
        return _user_json(user)
    return {"users": [_user_json(u) for u in device.users.all()]}


@_device_action(["DELETE"])
def home_user_remove(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """A member leaves the home: the lock still holds them (absent-users) until delete-users-issue."""
    user = device.users.filter(user_id=data["user_id"], home=True, state=SimUser.State.ACTIVE).first()
    if user is None or user.user_type == 50:
        raise WorldError("no such home member (the owner cannot leave)", 404)
    user.state = SimUser.State.ABSENT
    user.save(update_fields=["state"])
    return _user_json(user)


def _method_json(method: SimUnlockMethod) -> dict[str, Any]:
    return {
        "opmode_id": method.opmode_id,
        "dp_code": method.dp_code,
        "unlock_sn": method.unlock_sn,
        "name": method.name,
        "user_id": method.user.user_id if method.user else None,
        "hijack": method.hijack,
        "photo": method.photo,
        "in_cloud": method.in_cloud,
        "pin": method.pin,
    }


@_device_action(["GET", "POST"])
def methods(request: HttpRequest, device: SimDevice, data: dict[str, Any]) -> dict[str, Any]:
    """What the lock holds; POST enrolls one at the lock itself: {"type": "card", "unlock_sn": 3, "code": …}."""
    if request.method == "GET":
        return {"methods": [_method_json(m) for m in device.methods.select_related("user")]}
    try:
        code = dpcodes.method_code(str(data.get("type", "")))
    except Exception as exc:  # TuyaError: a world request gets a plain 400
        raise WorldError(f"type must be one of {', '.join(dpcodes.SHORT_TYPES)}") from exc
    pin = str(data.get("code", ""))
    if code == "unlock_password" and not (pin.isdigit() and 6 <= len(pin) <= 10):
        raise WorldError("a password needs a code of 6 to 10 digits")
    unlock_sn = _int(data, "unlock_sn") if data.get("unlock_sn") not in (None, "") else None
    if unlock_sn is not None and device.methods.filter(dp_code=code, unlock_sn=unlock_sn).exists():
        raise WorldError("that slot is taken", 409)
    user = None
    if data.get("user_id"):
        user = device.users.filter(user_id=str(data["user_id"]), state=SimUser.State.ACTIVE).first()
        if user is None:
            raise WorldError("no such user", 404)
    method = lockstate.add_method(
        device, code, clock.now(), user=user, unlock_sn=unlock_sn, pin=pin, in_cloud=device.kind not in SYNC_KINDS
    )
    return _method_json(method)


# --- simulated storage --------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def media_file(request: HttpRequest, token: str) -> HttpResponse:
    """The encrypted photo, as the storage bucket serves it: whoever has the URL may read it, so it is unguessable."""
    found = SimMedia.objects.filter(token=token).first()
    if found is None:
        return HttpResponse(status=404)
    return HttpResponse(bytes(found.data), content_type="application/octet-stream")
