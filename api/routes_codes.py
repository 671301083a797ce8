"""Door codes: list, issue, change, freeze, unfreeze, resend, remove, and the PIN by an audited reveal."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from pydantic import Field

from api import pagination
from api.access import ip_of, need
from api.problems import fields_named
from api.responses import READ, WRITE, ok
from api.routes_places import Listing
from api.schemas import (
    AccessCodeOut,
    AccessCodePage,
    CodeChange,
    CodeIn,
    CodeStatus,
    PinOut,
    VersionIn,
    WeeklyScheduleSchema,
)
from locks import codes, pins
from locks.models import AccessCode, Lock
from tenants.models import ApiKey, Guest

router = Router(tags=["Door codes"])
CODE_FIELDS = {"schedule_days": "schedule.days", "schedule_start": "schedule.start", "schedule_end": "schedule.end"}


class CodeFilter(Listing):
    stay: int | None = None
    lock: int | None = None
    status: CodeStatus | None = Field(default=None)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def code_out(code: AccessCode) -> AccessCodeOut:
    schedule = None
    if code.kind == AccessCode.Kind.WEEKLY and code.schedule_start_minute is not None:
        schedule = WeeklyScheduleSchema(
            days=list(code.schedule_days),
            start=_hhmm(code.schedule_start_minute),
            end=_hhmm(code.schedule_end_minute or 1440),
        )
    return AccessCodeOut(
        id=code.pk,
        lock_id=code.lock_id,
        stay_id=code.stay_id,
        guest_id=code.guest_id,
        label=code.label,
        kind=code.kind,  # type: ignore[arg-type]
        status=code.status,  # type: ignore[arg-type]
        desired=code.desired,  # type: ignore[arg-type]
        settled=code.is_converged,
        starts_at=code.starts_at,
        ends_at=code.ends_at,
        time_zone=code.time_zone,
        schedule=schedule,
        failure_reason=code.failure_reason,
        version=code.version,
        created_at=code.created_at,
    )


def codes_out(rows: Sequence[AccessCode]) -> list[AccessCodeOut]:
    return [code_out(code) for code in rows]


def _code(request: HttpRequest, code_id: int, scope: str) -> tuple[ApiKey, AccessCode]:
    key = need(request, scope)
    return key, get_object_or_404(AccessCode.objects.for_user(key).select_related("lock__unit"), pk=code_id)


@router.get("/access-codes", response=ok(AccessCodePage, errors=READ), summary="List door codes")
def list_codes(request: HttpRequest, query: Query[CodeFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = AccessCode.objects.for_user(key)
    if query.stay is not None:
        rows = rows.filter(stay_id=query.stay)
    if query.lock is not None:
        rows = rows.filter(lock_id=query.lock)
    if query.status is not None:
        rows = rows.filter(status=query.status)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=codes_out)


@router.get("/access-codes/{code_id}", response=ok(AccessCodeOut), summary="A door code")
def get_code(request: HttpRequest, code_id: int) -> AccessCodeOut:
    return code_out(_code(request, code_id, ApiKey.Scope.READ)[1])


@router.post("/access-codes", response=ok(AccessCodeOut, 201, WRITE), summary="Issue a door code")
def issue_code(request: HttpRequest, body: CodeIn) -> Status[AccessCodeOut]:
    """A code for a window, a weekly schedule inside a window, or one use. It reaches the lock in the background:
    `status` is `requested` now and `set` once the cloud confirms it (webhook `access_code.set`)."""
    key = need(request, ApiKey.Scope.CODES)
    lock = get_object_or_404(Lock.objects.for_user(key).select_related("unit__property"), pk=body.lock)
    guest = get_object_or_404(Guest.objects.for_user(key), pk=body.guest) if body.guest is not None else None
    schedule = None
    if body.kind == "weekly" and body.schedule is not None:
        end = _minute(body.schedule.end) or 1440
        schedule = codes.WeeklySchedule(frozenset(body.schedule.days), _minute(body.schedule.start), end)
    with fields_named(CODE_FIELDS):
        code = codes.issue_access_code(
            lock=lock,
            label=body.label,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            kind=body.kind,
            schedule=schedule,
            pin=body.pin,
            guest=guest,
            actor=key,
            ip=ip_of(request),
        )
    return Status(201, code_out(code))


@router.patch("/access-codes/{code_id}", response=ok(AccessCodeOut, 200, WRITE), summary="Change a code")
def change_code(request: HttpRequest, code_id: int, body: CodeChange) -> AccessCodeOut:
    """Move its window or change its PIN; the lock gets the change in the background, the old values hold until."""
    key, code = _code(request, code_id, ApiKey.Scope.CODES)
    changed = codes.change_access_code(
        code,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        pin=body.pin,
        version=body.version,
        actor=key,
        ip=ip_of(request),
    )
    return code_out(changed)


@router.post("/access-codes/{code_id}/freeze", response=ok(AccessCodeOut, 200, WRITE), summary="Freeze a code")
def freeze_code(request: HttpRequest, code_id: int, body: VersionIn | None = None) -> AccessCodeOut:
    key, code = _code(request, code_id, ApiKey.Scope.CODES)
    version = body.version if body else None
    return code_out(codes.freeze_access_code(code, version=version, actor=key, ip=ip_of(request)))


@router.post("/access-codes/{code_id}/unfreeze", response=ok(AccessCodeOut, 200, WRITE), summary="Unfreeze a code")
def unfreeze_code(request: HttpRequest, code_id: int, body: VersionIn | None = None) -> AccessCodeOut:
    key, code = _code(request, code_id, ApiKey.Scope.CODES)
    version = body.version if body else None
    return code_out(codes.unfreeze_access_code(code, version=version, actor=key, ip=ip_of(request)))


@router.post(
    "/access-codes/{code_id}/resend", response=ok(AccessCodeOut, 200, WRITE), summary="Send a failed code again"
)
def resend_code(request: HttpRequest, code_id: int) -> AccessCodeOut:
    key, code = _code(request, code_id, ApiKey.Scope.CODES)
    return code_out(codes.resend_access_code(code, actor=key, ip=ip_of(request)))


@router.delete("/access-codes/{code_id}", response=ok(AccessCodeOut, 200, WRITE), summary="Remove a code")
def remove_code(request: HttpRequest, code_id: int, version: int | None = None) -> AccessCodeOut:
    """Take it off the lock: `desired` becomes `removed` now, `status` once the cloud confirms the lock deleted it
    (webhook `access_code.removed`)."""
    key, code = _code(request, code_id, ApiKey.Scope.CODES)
    return code_out(codes.remove_access_code(code, version=version, actor=key, ip=ip_of(request)))


@router.post("/access-codes/{code_id}/reveal", response=ok(PinOut, 200, WRITE), summary="Reveal a code's PIN")
def reveal_code(request: HttpRequest, code_id: int, response: HttpResponse) -> PinOut:
    """The PIN, for the key card printer or the guest's message. Needs the reveal-pins scope; every reveal is in
    the audit trail, and the answer is never cached."""
    key, code = _code(request, code_id, ApiKey.Scope.REVEAL_PINS)
    response["Cache-Control"] = "no-store"
    return PinOut(id=code.pk, pin=pins.reveal_pin(code, actor=key, ip=ip_of(request)))
