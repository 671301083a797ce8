"""Reconciliation: comparing a lock's passwords in the cloud with the codes we want, repairing ours and flagging
the others (a periodic job per lock)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.codes import enqueue_after_commit
from locks.models import AccessCode, Lock

logger = logging.getLogger(__name__)

Status = AccessCode.Status
Desired = AccessCode.Desired


@dataclass(frozen=True)
class Reconciliation:
    foreign: list[dict[str, Any]]
    repaired: list[int]


def reconcile_lock(lock: Lock) -> Reconciliation:
    """Compare the lock's passwords in the cloud with the codes we want; repair ours, flag the rest."""
    try:
        in_cloud = cloud_for(lock.cloud_account).list_passwords(lock)
    except port.CloudError as error:
        logger.info("reconcile %s: %s", lock.pk, error)
        return Reconciliation([], [])
    codes = list(lock.access_codes.all())
    by_id = {c.cloud_password_id: c for c in codes if c.cloud_password_id is not None}
    by_marker = {c.cloud_marker: c for c in codes}
    live_in_cloud = [pw for pw in in_cloud if pw.state != "removed"]
    foreign: list[dict[str, Any]] = []
    repair: dict[int, str] = {}
    for pw in live_in_cloud:
        code = by_id.get(pw.password_id) or by_marker.get(pw.name[-13:])
        if code is None:
            foreign.append({"password_id": pw.password_id, "name": pw.name, "state": pw.state})
        elif code.desired == Desired.REMOVED and code.status == Status.REMOVED:
            repair[code.pk] = Status.REMOVING  # removed here, still on the lock: delete it again
    present = {pw.password_id for pw in live_in_cloud}
    for code in codes:
        gone = code.cloud_password_id is not None and code.cloud_password_id not in present
        if code.status == Status.SET and gone and code.ends_at > timezone.now():
            repair[code.pk] = Status.SENDING  # we think it is on the lock, the cloud does not: put it back
    for pk, status in repair.items():
        AccessCode.objects.filter(pk=pk).update(status=status, next_attempt_at=timezone.now())
        enqueue_after_commit(AccessCode(pk=pk))
    Lock.objects.filter(pk=lock.pk).update(foreign_codes=foreign, last_reconciled_at=timezone.now())
    return Reconciliation(foreign, sorted(repair))
