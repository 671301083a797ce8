"""Reconciliation: comparing a lock's passwords in the cloud with the codes we want, repairing ours and flagging
the others (a periodic job per lock)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.codes import enqueue_after_commit
from locks.models import CODE_MAY_BE_ON_LOCK, AccessCode, Lock

logger = logging.getLogger(__name__)

Status = AccessCode.Status
Desired = AccessCode.Desired

# What the comparison reads of a code: never its PIN, which no comparison needs (each would be decrypted).
COMPARED_FIELDS = ("cloud_password_id", "operation_id", "desired", "status", "ends_at")


@dataclass(frozen=True)
class Reconciliation:
    foreign: list[dict[str, Any]]
    repaired: list[int]


def codes_that_may_be_on(lock: Lock) -> QuerySet[AccessCode]:
    """The lock's codes the cloud's passwords are compared with (the `code_may_be_on_lock` index): what a run costs
    follows the codes that can still be on the lock, not the thousands it has had over the years."""
    return AccessCode.objects.filter(CODE_MAY_BE_ON_LOCK, lock=lock).order_by().only(*COMPARED_FIELDS)


def reconcile_lock(lock: Lock) -> Reconciliation:
    """Compare the lock's passwords in the cloud with the codes we want; repair ours, flag the rest."""
    try:
        in_cloud = cloud_for(lock.cloud_account).list_passwords(lock)
    except port.CloudError as error:
        logger.info("reconcile %s: %s", lock.pk, error)
        return Reconciliation([], [])
    live_in_cloud = [pw for pw in in_cloud if pw.state != "removed"]
    codes = list(codes_that_may_be_on(lock))
    known = {c.cloud_password_id for c in codes}
    unknown = [pw.password_id for pw in live_in_cloud if pw.password_id not in known]
    if unknown:
        # The cloud keeps listing passwords whose time is long over: one of a code ended long ago is still ours, not
        # a foreign code (the `one_code_per_cloud_password` index; none when every password is accounted for).
        older = AccessCode.objects.filter(lock=lock, cloud_password_id__in=unknown).order_by()
        codes += older.only(*COMPARED_FIELDS)
    by_id = {c.cloud_password_id: c for c in codes if c.cloud_password_id is not None}
    by_marker = {c.cloud_marker: c for c in codes}
    foreign: list[dict[str, Any]] = []
    repair: dict[int, str] = {}
    for pw in live_in_cloud:
        code = by_id.get(pw.password_id) or by_marker.get(pw.name[-13:])
        if code is None:
            foreign.append({"password_id": pw.password_id, "name": pw.name, "state": pw.state})
        elif code.desired == Desired.REMOVED and code.status == Status.REMOVED:
            repair[code.pk] = Status.REMOVING  # removed here, still on the lock: delete it again
    present = {pw.password_id for pw in live_in_cloud}
    now = timezone.now()
    for code in codes:
        gone = code.cloud_password_id is not None and code.cloud_password_id not in present
        if code.status == Status.SET and gone and code.ends_at > now:
            repair[code.pk] = Status.SENDING  # we think it is on the lock, the cloud does not: put it back
    by_status: dict[str, list[int]] = defaultdict(list)
    for pk, status in repair.items():
        by_status[status].append(pk)
    for status, pks in by_status.items():  # one UPDATE per repair, however many codes it takes
        AccessCode.objects.filter(pk__in=pks).update(status=status, next_attempt_at=now)
    for pk in repair:
        enqueue_after_commit(AccessCode(pk=pk))
    Lock.objects.filter(pk=lock.pk).update(foreign_codes=foreign, last_reconciled_at=now)
    return Reconciliation(foreign, sorted(repair))
