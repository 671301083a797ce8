"""One-off lock operations: offline codes (for a lock that is offline) and dynamic codes, carried out by a worker,
followed by polling, and their code shown by an audited reveal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from pydantic import Field

from api import pagination
from api.access import ip_of, need
from api.responses import READ, WRITE, ok
from api.routes_places import Listing
from api.schemas_events import CodeOut, LockOperationOut, LockOperationPage, OfflineCodeIn, OperationStatus
from locks import operations, pins
from locks.models import Lock, LockOperation
from tenants.models import ApiKey

router = Router(tags=["Lock operations"])
DYNAMIC_VALID_FOR = timedelta(minutes=5)  # a dynamic code works for five minutes from when the cloud made it


class OperationFilter(Listing):
    lock: int | None = None
    status: OperationStatus | None = Field(default=None)


def operation_out(operation: LockOperation) -> LockOperationOut:
    window = operation.offline_window
    if window is None and operation.kind == LockOperation.Kind.DYNAMIC_PASSWORD and operation.finished_at:
        window = (operation.finished_at, operation.finished_at + DYNAMIC_VALID_FOR)
    offline_kind = operation.params.get("type") if operation.kind == LockOperation.Kind.OFFLINE_PASSWORD else None
    return LockOperationOut(
        id=operation.pk,
        lock_id=operation.lock_id,
        kind=operation.kind,  # type: ignore[arg-type]
        offline_kind=offline_kind,
        label=operation.label,
        status=operation.status,  # type: ignore[arg-type]
        valid_from=window[0] if window else None,
        valid_until=window[1] if window else None,
        has_code=bool(operation.secret),
        failure_reason=operation.failure_reason,
        created_at=operation.created_at,
        finished_at=operation.finished_at,
    )


def _operations(rows: Sequence[LockOperation]) -> list[LockOperationOut]:
    return [operation_out(operation) for operation in rows]


def _operation_rows(key: ApiKey) -> QuerySet[LockOperation]:
    return LockOperation.objects.for_user(key).select_related("lock__unit", "lock__organisation")


def _lock(key: ApiKey, lock_id: int) -> Lock:
    return get_object_or_404(Lock.objects.for_user(key).select_related("unit__property", "organisation"), pk=lock_id)


@router.post(
    "/locks/{lock_id}/offline-codes", response=ok(LockOperationOut, 201, WRITE), summary="Ask for an offline code"
)
def offline_code(request: HttpRequest, lock_id: int, body: OfflineCodeIn) -> Status[LockOperationOut]:
    """A code the lock checks by itself, for when it is offline (scope codes). The cloud makes it in the
    background: poll the operation until `status` is `done`, then reveal the code (scope reveal-pins). Windows are
    whole hours: the lock rounds them down."""
    key = need(request, ApiKey.Scope.CODES)
    lock = _lock(key, lock_id)
    clears = None
    if body.clears is not None:
        clears = get_object_or_404(LockOperation.objects.for_user(key), pk=body.clears)
    operation = operations.request_offline_password(
        lock=lock,
        kind=body.kind,
        label=body.label,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        clears=clears,
        actor=key,
        ip=ip_of(request),
    )
    return Status(201, operation_out(operation))


@router.post(
    "/locks/{lock_id}/dynamic-code", response=ok(LockOperationOut, 201, WRITE), summary="Ask for a dynamic code"
)
def dynamic_code(request: HttpRequest, lock_id: int) -> Status[LockOperationOut]:
    """A code that works for five minutes from when the cloud makes it (scope codes); poll, then reveal."""
    key = need(request, ApiKey.Scope.CODES)
    operation = operations.request_dynamic_password(lock=_lock(key, lock_id), actor=key, ip=ip_of(request))
    return Status(201, operation_out(operation))


@router.get("/lock-operations", response=ok(LockOperationPage, errors=READ), summary="List lock operations")
def list_operations(request: HttpRequest, query: Query[OperationFilter]) -> dict[str, object]:
    rows = _operation_rows(need(request, ApiKey.Scope.READ))
    if query.lock is not None:
        rows = rows.filter(lock_id=query.lock)
    if query.status is not None:
        rows = rows.filter(status=query.status)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=_operations)


@router.get("/lock-operations/{operation_id}", response=ok(LockOperationOut), summary="A lock operation")
def get_operation(request: HttpRequest, operation_id: int) -> LockOperationOut:
    rows = _operation_rows(need(request, ApiKey.Scope.READ))
    return operation_out(get_object_or_404(rows, pk=operation_id))


@router.post(
    "/lock-operations/{operation_id}/reveal", response=ok(CodeOut, 200, WRITE), summary="Reveal an operation's code"
)
def reveal_operation(request: HttpRequest, operation_id: int, response: HttpResponse) -> CodeOut:
    """The offline or dynamic code, to pass on to whoever needs to open the door. Needs the reveal-pins scope;
    every reveal is in the audit trail, and the answer is never cached. 409 while there is no code yet."""
    key = need(request, ApiKey.Scope.REVEAL_PINS)
    operation = get_object_or_404(_operation_rows(key), pk=operation_id)
    response["Cache-Control"] = "no-store"
    return CodeOut(id=operation.pk, code=pins.reveal_operation_secret(operation, actor=key, ip=ip_of(request)))
