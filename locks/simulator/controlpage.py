"""The control page at /_sim/: the whole physical world as HTML forms, and the cloud's view of each lock.

Every form posts to the page itself and redirects back (post/redirect/get) with the outcome in `?msg=`, and
`?open=<device id>` so the lock acted on stays unfolded. No JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from locks.simulator import api_logs, clock, conf, delivery, devices, dpcodes, faults, lockstate, media, offline
from locks.simulator import schedule as schedules
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimDevice, SimEvent, SimFault, SimMedia, SimPassword
from locks.simulator.world import PRESENTABLE, WorldError, advance_enrollment, ask_to_enter, latest_request

EVENTS_SHOWN = 20
USER_TYPES = {50: "owner", 10: "administrator", 20: "member"}


# --- what the page shows --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One lock as the page shows it: the physical lock, what it holds, and what it reported."""

    device: SimDevice
    kind_label: str
    sub: bool
    passwords: list[dict[str, Any]] = field(default_factory=list)
    offline_passwords: list[dict[str, Any]] = field(default_factory=list)
    advanced_passwords: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    methods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    request: dict[str, Any] | None = None
    enrollment: dict[str, Any] | None = None
    other_project: bool = False


def _local(device: SimDevice, when: datetime | int | None) -> str:
    if when is None:
        return ""
    if isinstance(when, int):
        when = datetime.fromtimestamp(when, tz=dt_timezone.utc)
    tz = schedules.parse_time_zone(device.time_zone) or schedules.parse_time_zone("UTC")
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _password(device: SimDevice, pw: SimPassword) -> dict[str, Any]:
    return {
        "password_id": pw.password_id,
        "name": pw.name,
        "pin": pw.pin,
        "lifecycle": pw.lifecycle,
        "phase": delivery.phase(pw, device.kind),
        "delivery_status": pw.delivery_status,
        "op": pw.op,
        "frozen": pw.frozen,
        "one_time": pw.type == 1,
        "used": pw.used,
        "sn": pw.sn,
        "window": f"{_local(device, pw.effective_time)} → {_local(device, pw.invalid_time)}",
        "schedule": bool(pw.schedule_list),
    }


def _event(device: SimDevice, event: SimEvent) -> dict[str, Any]:
    value = api_logs.value(event) or event.reason
    return {
        "time": _local(device, event.created_at),
        "kind": event.kind,
        "value": value,
        "who": event.user.nick_name if event.user else event.unlock_name,
        "uploaded": event.uploaded,
        "photo": f"photos/{event.media.token}.jpg" if event.media else "",
    }


def _row(device: SimDevice, now: datetime) -> Row:
    kind = KINDS[device.kind]
    row = Row(device=device, kind_label=kind.label, sub=kind.sub, other_project=device.access_id != conf.access_id())
    row.passwords = [_password(device, pw) for pw in delivery.all_passwords(device, now)]
    row.offline_passwords = [
        {
            "password_id": pw.password_id,
            "name": pw.name,
            "kind": pw.kind,
            "code": pw.code,
            "window": f"{_local(device, pw.effective_time)} → {_local(device, pw.invalid_time)}",
            "state": "cleared" if pw.revoked else "used" if pw.used else "",
        }
        for pw in device.offline_passwords.all()
    ]
    for advanced in device.advanced_passwords.order_by("advanced_type"):
        offline.settle_advanced(device, advanced, now)
        phase = {1: "configuring", 2: "set", 3: "failed"}.get(advanced.phase, str(advanced.phase))
        row.advanced_passwords.append({"type": advanced.advanced_type, "pin": advanced.pin, "phase": phase})
    row.users = [
        {
            "user_id": u.user_id,
            "nick_name": u.nick_name,
            "role": USER_TYPES.get(u.user_type, str(u.user_type)),
            "origin": "home (Tuya app)" if u.home else "device user",
            "state": u.state,
            "lock_user_id": u.lock_user_id,
            "limited": not u.permanent or bool(u.schedule_details),
        }
        for u in device.users.all()
    ]
    row.methods = [
        {
            "dp_code": m.dp_code,
            "label": lockstate.METHOD_LABELS.get(m.dp_code, m.dp_code),
            "unlock_sn": m.unlock_sn,
            "name": m.name,
            "user": m.user.nick_name if m.user else "",
            "pin": m.pin,
            "hijack": m.hijack,
            "photo": m.photo,
            "in_cloud": m.in_cloud,
        }
        for m in device.methods.select_related("user")
    ]
    latest = device.events.select_related("user", "media").order_by("-created_at", "-id")[:EVENTS_SHOWN]
    row.events = [_event(device, e) for e in latest]
    asked = latest_request(device, now)
    if asked is not None:
        left = max(0, int((asked.expires_at - now).total_seconds())) if asked.status == "pending" else 0
        row.request = {"status": asked.status, "seconds_left": left, "at": _local(device, asked.created_at)}
    enrollment = device.enrollments.select_related("user").order_by("-created_at", "-id").first()
    if enrollment is not None:
        row.enrollment = {
            "label": lockstate.METHOD_LABELS.get(enrollment.dp_code, enrollment.dp_code),
            "state": enrollment.state,
            "done": enrollment.total - enrollment.remaining,
            "total": enrollment.total,
            "user": enrollment.user.nick_name,
            "needs_code": enrollment.dp_code == "unlock_password",
        }
    return row


def _masked(secret: str) -> str:
    return f"{secret[:2]}…{secret[-2:]} ({len(secret)} characters)" if len(secret) > 4 else "(unset)"


def _context(request: HttpRequest) -> dict[str, Any]:
    now = clock.now()
    with transaction.atomic():  # reading settles deliveries that came due, as every API call does
        rows = [_row(d, now) for d in SimDevice.objects.order_by("created_at", "id")]
    prefix = request.path[: request.path.index("/_sim/") + 1]
    return {
        "rows": rows,
        "open": request.GET.get("open", ""),
        "message": request.GET.get("msg", ""),
        "error": request.GET.get("error") == "1",
        "access_id": conf.access_id(),
        "masked_secret": _masked(conf.access_secret()),
        "endpoint": request.build_absolute_uri(prefix).rstrip("/"),
        "now": now.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kinds": [(key, kind.label) for key, kind in KINDS.items()],
        "presentable": list(PRESENTABLE),
        "alarms": sorted(dpcodes.ALARM_LOCK_VALUES),
        "faults": SimFault.objects.order_by("id"),
        "fault_kinds": faults.KIND_NAMES,
    }


# --- what the forms do ----------------------------------------------------------------------------------------


def _number(data: dict[str, str], name: str, *, default: int | None = None) -> int | None:
    raw = data.get(name, "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit():
        raise ValueError(f"{name.replace('_', ' ')} must be a whole number")
    return int(raw)


def _create(data: dict[str, str]) -> str:
    battery = _number(data, "battery", default=100)
    device = devices.create_device(
        kind=data.get("kind", ""),
        name=data.get("name", "").strip()[:100],
        online=data.get("online") == "on",
        battery=100 if battery is None else battery,
        time_zone=data.get("time_zone", "").strip() or "Europe/Amsterdam",
        access_id=data.get("access_id", ""),
    )
    return f"Added {device.name} ({device.id})."


def _fault(data: dict[str, str]) -> str:
    body: dict[str, Any] = {
        "kind": data.get("kind", ""),
        "endpoint": data.get("endpoint", "").strip() or "*",
        "device_id": data.get("device_id", "").strip(),
        "code": _number(data, "code"),
        "latency_ms": _number(data, "latency_ms", default=0),
        "count": _number(data, "count"),
    }
    fault = faults.create(body)
    return f"Fault added: {fault.kind} on {fault.endpoint}."


def _act(device: SimDevice, action: str, data: dict[str, str], now: datetime) -> str:
    name = device.name
    if action in ("online", "toggle"):
        online = data.get("online") == "1" if action == "online" else not device.online
        delivery.set_online(device, online, now)
        return f"{name} is {'online' if online else 'offline'}."
    if action == "battery":
        battery = _number(data, "battery")
        if battery is None or not 0 <= battery <= 100:
            raise ValueError("battery must be 0..100")
        alert = lockstate.set_battery(device, battery, now)
        return f"{name}: battery {battery} %" + (" — it raised a low-battery alarm." if alert else ".")
    if action == "keypad":
        code = data.get("code", "").strip()
        if not code.isdigit():
            raise ValueError("type digits only")
        opened, reason = lockstate.keypad(device, code, now)
        return f"{name}: {'opened' if opened else 'refused'} ({reason.replace('_', ' ')})."
    if action == "present":
        what = data.get("type", "")
        if what not in PRESENTABLE:
            raise ValueError(f"choose one of {', '.join(PRESENTABLE)}")
        number = _number(data, "number", default=1)
        assert number is not None
        opened, reason = lockstate.present(device, PRESENTABLE[what], number, now)
        return f"{name}: {what} {number} — {'opened' if opened else 'refused'} ({reason.replace('_', ' ')})."
    if action == "doorbell":
        ask_to_enter(device, now)  # a ring is a request to be let in: the lock stays awake for its countdown
        return f"{name}: the doorbell rang."
    if action == "alarm":
        value = data.get("alarm", "")
        lockstate.alarm(device, value, now)
        return f"{name}: alarm {value} raised."
    if action == "remote_request":
        ask_to_enter(device, now)
        return f"{name}: someone at the door asks to be let in."
    if action == "enroll_step":
        enrollment = advance_enrollment(device, {"code": data.get("code", "")}, now)
        done = enrollment.total - enrollment.remaining
        finished = " — done." if not enrollment.remaining else "."
        return f"{name}: enrollment step {done} of {enrollment.total}{finished}"
    raise ValueError(f"unknown action {action!r}")


def _perform(data: dict[str, str]) -> str:
    action = data.get("action", "")
    now = clock.now()
    with transaction.atomic():
        if action == "create":
            return _create(data)
        if action == "fault":
            return _fault(data)
        if action == "clear_faults":
            cleared, _ = SimFault.objects.all().delete()
            return f"Cleared {cleared} fault(s)."
        device = SimDevice.objects.filter(pk=data.get("device_id", "")).first()
        if device is None:
            raise ValueError("no such lock")
        return _act(device, action, data, now)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    """GET: the page; POST: one action from one of its forms, then back to the page with the outcome."""
    if request.method == "GET":
        return render(request, "simulator/control.html", _context(request))
    data = {key: str(value) for key, value in request.POST.items()}
    query: dict[str, str] = {}
    try:
        query["msg"] = _perform(data)
    except (WorldError, ValueError) as exc:
        query["msg"], query["error"] = str(exc), "1"
    anchor = ""
    if data.get("device_id") and data.get("action") != "fault":
        query["open"] = data["device_id"]
        anchor = f"#lock-{data['device_id']}"
    elif data.get("action") in ("fault", "clear_faults"):
        anchor = "#faults"
    return HttpResponseRedirect(f"{request.path}?{urlencode(query)}{anchor}")


@require_http_methods(["GET"])
def photo(request: HttpRequest, token: str) -> HttpResponse:
    """The plain JPEG of a captured photo, for the page's thumbnails (the cloud serves only the encrypted file)."""
    found = SimMedia.objects.filter(token=token).first()
    if found is None:
        return HttpResponse(status=404)
    return HttpResponse(media.decrypt(found.file_key, bytes(found.data)), content_type="image/jpeg")
