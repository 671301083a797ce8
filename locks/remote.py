"""Remote unlocking (docs/product.md journey 7): someone rings, a person looks at the photo and opens or refuses.

A doorbell record from the events sync becomes a RemoteUnlockRequest (with the event, hence its photo). The lock
waits for an answer for a short while (its `unlock_request` countdown; a battery Wi-Fi lock sleeps again after
it). Approving claims the request under select_for_update (pending → approving), and a job on the `unlock`
queue sends the spec's password-free unlock: a smart-lock ticket, then open-door with it. The door is opened
only when the cloud answers true ("approved"); anything else is "failed" with the reason. Rejecting tells the
lock through "Revoke a password-free unlocking" with type 1 (reject). An unanswered request expires.

Never twice: a decision is taken only from "pending" (a second click finds it decided), and the job claims the
call through `sent_at` before sending it, so a re-run job or a retry never opens the door again. A job that
starts after the lock's window has closed does not open the door at all: the person has gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import audit
from locks import failures, queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.models import Lock, LockEvent, LockKind, RemoteUnlockRequest, failed
from locks.pins import may_see_pins
from locks.words import Words
from tenants.models import MANAGER_ROLES, Actor, ApiKey, role_in, user_of
from webhooks import payloads
from webhooks.emit import emit

logger = logging.getLogger(__name__)

Status = RemoteUnlockRequest.Status
# How long a lock waits for an answer (the simulator's and common Tuya Wi-Fi locks' unlock_request countdown).
WINDOW = timedelta(seconds=60)
# An approval whose call went out but never came back is "failed, outcome unknown" after this long.
OUTCOME_TIMEOUT = timedelta(seconds=60)
REQUEST_WORDS = frozenset({"doorbell", "remote unlock request", "unlock request"})
REQUEST_CODES = frozenset({"doorbell", "unlock_request"})
# "Revoke a password-free unlocking" lists Wi-Fi locks only; the others are simply left to time out.
CANCEL_KINDS = frozenset({LockKind.WIFI})
# Kinds whose password-free unlock the cloud can send whenever they are online (the spec's "Unlock without password"
# kinds, and access control's v1.1 call), so the lock page offers it. Battery Wi-Fi locks sleep: they are opened
# only while someone at the door rang (failures.SLEEPING_KINDS), from the remote-unlock panel.
LOCK_PAGE_KINDS = frozenset(
    {
        LockKind.ZIGBEE,
        LockKind.ZIGBEE_HOTEL,
        LockKind.BLE,
        LockKind.BLE_GATEWAY,
        LockKind.WIFI_KEEPALIVE,
        LockKind.ACCESS_CONTROL,
    }
)
# "Get the remote unlocking methods supported by a lock" lists Zigbee and Bluetooth locks: for them the switch is
# read before opening, so a lock whose owner switched it off gets a plain answer instead of a refused call.
SWITCH_KINDS = frozenset({LockKind.ZIGBEE, LockKind.BLE, LockKind.BLE_GATEWAY})
SWITCHED_OFF = gettext_noop(
    "Remote unlocking without a password is switched off on this lock (in the Tuya app): the door stayed shut."
)
NEVER_SENT = gettext_noop("The approval did not reach the lock in time: the door stayed shut.")
NO_ANSWER = gettext_noop("No answer from the cloud: the door may or may not have opened. Check the lock's activity.")
DECIDED = frozenset({Status.APPROVED, Status.REJECTED, Status.EXPIRED, Status.FAILED})


def is_remote_request(event: LockEvent) -> bool:
    return event.dp_code in REQUEST_CODES or event.classification.strip().lower() in REQUEST_WORDS


def deadline(request: RemoteUnlockRequest) -> datetime:
    return request.requested_at + WINDOW


def request_from_event(event: LockEvent, *, now: datetime | None = None) -> RemoteUnlockRequest:
    """The request a doorbell record stands for; once per event (its one-to-one), already expired if it is old."""
    now = now or timezone.now()
    late = event.occurred_at + WINDOW <= now
    with transaction.atomic():  # the request and its webhook event together
        request, created = RemoteUnlockRequest.objects.get_or_create(
            event=event,
            defaults={
                "organisation_id": event.organisation_id,
                "lock_id": event.lock_id,
                "requested_at": event.occurred_at,
                "status": Status.EXPIRED if late else Status.PENDING,
            },
        )
        if created and not late:  # one that can still be answered (an old record is history, not a request)
            request_id, delay = request.pk, deadline(request) - now
            transaction.on_commit(
                lambda: queues.enqueue_remote_unlock("locks.remote.expire_request", request_id, delay=delay)
            )
            data = payloads.remote_unlock(request, deadline(request))
            emit(event.organisation_id, "remote_unlock.requested", data, at=event.occurred_at)
    return request


# --- decisions (views call these) ---------------------------------------------------------------------------


def may_answer(user: Actor, lock: Lock) -> bool:
    """The roles that manage the lock's codes (`locks.pins.may_see_pins`); an API key with the remote-unlock scope,
    for the locks it reaches."""
    if isinstance(user, ApiKey):
        return user.allows(ApiKey.Scope.REMOTE_UNLOCK) and user.may_see_lock(lock)
    return may_see_pins(user, lock)


def _allowed(request_id: int, *, actor: Actor, ip: str | None, action: str) -> None:
    """Only those who may answer for the lock decide; a refusal is audited (outside the decision's transaction)."""
    request = RemoteUnlockRequest.objects.select_related("lock__unit", "lock__organisation").get(pk=request_id)
    if not may_answer(actor, request.lock):
        audit(f"{action}_refused", actor=actor, organisation=request.lock.organisation, obj=request, ip=ip)
        raise PermissionDenied("Your role may not open doors remotely.")


def _decide(
    request_id: int, *, actor: Actor, ip: str | None, action: str, status: str
) -> tuple[RemoteUnlockRequest, bool]:
    """Move a pending request to `status` under its row lock; (request, whether this call decided it)."""
    request = (
        RemoteUnlockRequest.objects.select_for_update(of=("self",)).select_related("lock__unit").get(pk=request_id)
    )
    lock = request.lock
    now = timezone.now()
    if request.status == Status.PENDING and deadline(request) <= now:
        request.status = Status.EXPIRED
        request.save(update_fields=["status"])
    if request.status != Status.PENDING:
        return request, False  # already decided (a second click, another person) or expired: nothing twice
    request.status, request.decided_by, request.decided_at = status, user_of(actor), now
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit(action, actor=actor, organisation=lock.organisation, obj=request, summary=lock.name, ip=ip)
    return request, True


def approve_request(request_id: int, *, actor: Actor, ip: str | None = None) -> RemoteUnlockRequest:
    """Open the door for the person at it (password-free remote unlock), once."""
    _allowed(request_id, actor=actor, ip=ip, action="lock.remote_unlock")
    with transaction.atomic():
        return _approve(request_id, actor=actor, ip=ip)


def _approve(request_id: int, *, actor: Actor, ip: str | None) -> RemoteUnlockRequest:
    request, decided = _decide(request_id, actor=actor, ip=ip, action="lock.remote_unlock", status=Status.APPROVING)
    if decided:
        transaction.on_commit(lambda: queues.enqueue_remote_unlock("locks.remote.open_door", request_id))
    return request


def reject_request(request_id: int, *, actor: Actor, ip: str | None = None) -> RemoteUnlockRequest:
    """Refuse: the lock is told (cancel with reason 1, reject) and the door stays shut."""
    _allowed(request_id, actor=actor, ip=ip, action="lock.remote_unlock_rejected")
    with transaction.atomic():
        return _reject(request_id, actor=actor, ip=ip)


def _reject(request_id: int, *, actor: Actor, ip: str | None) -> RemoteUnlockRequest:
    request, decided = _decide(
        request_id, actor=actor, ip=ip, action="lock.remote_unlock_rejected", status=Status.REJECTED
    )
    if decided:
        transaction.on_commit(lambda: queues.enqueue_remote_unlock("locks.remote.tell_rejected", request_id))
    return request


# --- from the lock page: open a door nobody rang at -------------------------------------------------------------


def may_open_from_lock_page(user: Actor, lock: Lock) -> bool:
    """Owners and managers (and superusers): opening a door nobody asked at is theirs to decide."""
    return role_in(user, lock.organisation_id, MANAGER_ROLES)


def open_from_lock_page(lock: Lock, *, actor: Actor, ip: str | None = None) -> RemoteUnlockRequest:
    """Open the door now (password-free remote unlock), audited, through the same job as an approved request."""
    if not may_open_from_lock_page(actor, lock):
        audit("lock.remote_unlock_refused", actor=actor, organisation=lock.organisation, obj=lock, ip=ip)
        raise PermissionDenied("Only owners and managers may open doors remotely from here.")
    if lock.kind not in LOCK_PAGE_KINDS:
        raise PermissionDenied("This lock opens remotely only when someone at the door rings.")
    now = timezone.now()
    with transaction.atomic():
        request = RemoteUnlockRequest.objects.create(
            organisation_id=lock.organisation_id,
            lock=lock,
            requested_at=now,
            status=Status.APPROVING,
            decided_by=user_of(actor),
            decided_at=now,
        )
        audit("lock.remote_unlock", actor=actor, organisation=lock.organisation, obj=request, summary=lock.name, ip=ip)
        transaction.on_commit(lambda: queues.enqueue_remote_unlock("locks.remote.open_door", request.pk))
    return request


# --- jobs (unlock queue): load, check it is still wanted, call the cloud once -------------------------------


def _claim(request_id: int, status: str) -> RemoteUnlockRequest | None:
    """Take the one cloud call this request may make; None if it was made (or is being made) already."""
    now = timezone.now()
    if not RemoteUnlockRequest.objects.filter(pk=request_id, status=status, sent_at__isnull=True).update(sent_at=now):
        return None
    return RemoteUnlockRequest.objects.select_related("lock__cloud_account").get(pk=request_id)


def _finish(request: RemoteUnlockRequest, status: str, reason: Words | None = None) -> None:
    request.status = status
    request.note_failure(reason)
    request.save(update_fields=["status", "failure_reason", "failure_words"])


def open_door(request_id: int) -> str:
    """Send the password-free unlock for an approved request; "approved" only when the cloud says it opened."""
    request = _claim(request_id, Status.APPROVING)
    if request is None:
        return "done already"
    if timezone.now() > deadline(request):
        too_late = gettext_noop("Too late: the lock stopped waiting before the door could be opened.")
        _finish(request, Status.FAILED, Words(too_late))
        return Status.FAILED
    lock = request.lock
    cloud = cloud_for(lock.cloud_account)
    try:
        # For these kinds the owner's switch is read first: a lock switched off gets a plain answer, not a refusal.
        if lock.kind in SWITCH_KINDS and not cloud.remote_unlock_allowed(lock):
            _finish(request, Status.FAILED, Words(SWITCHED_OFF))
            return Status.FAILED
        opened = cloud.open_door(lock)
    except port.CloudError as error:
        _finish(request, Status.FAILED, failures.explain(error, lock))
        return Status.FAILED
    if not opened:
        _finish(request, Status.FAILED, Words(gettext_noop("The cloud answered that the door did not open.")))
        return Status.FAILED
    _finish(request, Status.APPROVED)
    return Status.APPROVED


def tell_rejected(request_id: int) -> str:
    """Tell the lock the request was refused; the door stays shut whatever the cloud answers."""
    request = _claim(request_id, Status.REJECTED)
    if request is None:
        return "done already"
    lock = request.lock
    if lock.kind not in CANCEL_KINDS:
        return Status.REJECTED  # no revoke call for this kind: the lock stops waiting by itself
    try:
        cloud_for(lock.cloud_account).refuse_remote_unlock(lock)
    except port.CloudError as error:
        not_told = gettext_noop("The door stays shut, but the lock was not told: %(reason)s")
        _finish(request, Status.REJECTED, Words(not_told, {"reason": failures.explain(error, lock)}))
        return "not told"
    return Status.REJECTED


def expire_request(request_id: int) -> str:
    """The lock's window has closed: an unanswered request expires."""
    expire_requests(only=request_id)
    return RemoteUnlockRequest.objects.filter(pk=request_id).values_list("status", flat=True).first() or "gone"


def expire_requests(now: datetime | None = None, *, only: int | None = None) -> int:
    """Unanswered requests past their window expire; approvals whose call never came back fail as unknown."""
    now = now or timezone.now()
    rows = RemoteUnlockRequest.objects.all()
    if only is not None:
        rows = rows.filter(pk=only)
    expired = rows.filter(status=Status.PENDING, requested_at__lte=now - WINDOW).update(status=Status.EXPIRED)
    stale = rows.filter(status=Status.APPROVING, requested_at__lte=now - WINDOW - OUTCOME_TIMEOUT)
    stale.filter(sent_at__isnull=True).update(status=Status.FAILED, **failed(Words(NEVER_SENT)))
    stale.update(status=Status.FAILED, **failed(Words(NO_ANSWER)))
    return expired
