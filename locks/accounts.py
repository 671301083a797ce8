"""Cloud accounts and their locks: connecting a Tuya cloud project, bringing in its locks (in a worker, every
failure said in plain words on the account), and putting a lock on a unit's door."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.failures import REFUSED, explain
from locks.models import AccessCode, CloudAccount, Lock
from tenants.models import Actor, Organisation, Unit, single_line

logger = logging.getLogger(__name__)

Status = AccessCode.Status


def import_locks(account: CloudAccount, *, device_ids: Iterable[str] | None = None, actor: Actor = None) -> list[Lock]:
    """Bring in the project's locks (or just `device_ids`), updating the ones already known.

    A device that is already a lock of another organisation (or of another cloud account) is left out and counted
    in `account.import_refused`: one physical lock, one organisation (the `one_organisation_per_device` constraint
    holds it in the database too, should two imports race).
    """
    # Cloud first, database after: a transaction held across HTTP calls would block every other writer.
    cloud = cloud_for(account)
    uid = cloud.account_user()
    if device_ids is None:
        device_ids = cloud.lock_ids()
    device_ids = list(dict.fromkeys(device_ids))
    elsewhere = Lock.objects.filter(device_id__in=device_ids).exclude(cloud_account=account)
    held = dict(elsewhere.values_list("device_id", "organisation_id"))  # ours through another account: listed there
    refused = {device_id for device_id, organisation_id in held.items() if organisation_id != account.organisation_id}
    # Not even read: another organisation's lock details (its local key) have no business here.
    found = [cloud.lock(device_id) for device_id in device_ids if device_id not in held]
    locks: list[Lock] = []
    with transaction.atomic():
        for details in found:
            try:
                with transaction.atomic():  # a savepoint: a race lost on the constraint skips this device only
                    lock = Lock.objects.update_or_create(
                        cloud_account=account,
                        device_id=details.device_id,
                        defaults={
                            "organisation": account.organisation,
                            "name": single_line(details.name),  # the cloud's name goes into one-line places too
                            "kind": details.kind,
                            "online": details.online,
                            "local_key": details.local_key,
                            "last_seen_at": timezone.now(),
                        },
                    )[0]
            except IntegrityError:  # taken meanwhile by another import
                refused.add(details.device_id)
            else:
                locks.append(lock)
        account.uid, account.last_error, account.import_refused = uid, "", len(refused)
        account.save(update_fields=["uid", "last_error", "import_refused"])
        summary = f"{len(locks)} locks" + (f", {len(refused)} left out (another organisation's)" if refused else "")
        audit("locks.import", actor=actor, organisation=account.organisation, obj=account, summary=summary)
    if refused:
        logger.warning("Cloud account %s: %d devices left out, locks of another organisation", account.pk, len(refused))
    return locks


# --- connecting a cloud project and putting its locks on doors ----------------------------------------------


@transaction.atomic
def connect_cloud_account(
    *,
    organisation: Organisation,
    name: str,
    endpoint: str,
    access_id: str,
    access_secret: str,
    actor: Actor = None,
    ip: str | None = None,
) -> CloudAccount:
    """Store a Tuya cloud project's credentials (the secret encrypted) and import its locks in a worker."""
    # The endpoint is checked by the model's clean() in full_clean below (endpoints.check_endpoint), before anything
    # is stored or called.
    if CloudAccount.objects.filter(organisation=organisation, endpoint=endpoint.strip(), access_id=access_id).exists():
        raise ValidationError({"access_id": "This cloud project is connected already."})
    account = CloudAccount(
        organisation=organisation,
        name=name.strip(),
        endpoint=endpoint.strip(),
        access_id=access_id.strip(),
        access_secret=access_secret.strip(),
    )
    account.full_clean()
    account.save()
    audit("cloud.connect", actor=actor, organisation=organisation, obj=account, summary=account.name, ip=ip)
    request_import(account, actor=actor, ip=ip)
    return account


@transaction.atomic
def request_import(account: CloudAccount, *, actor: Actor = None, ip: str | None = None) -> CloudAccount:
    """Ask a worker to bring in (or refresh) the project's locks."""
    account.import_requested_at = timezone.now()
    CloudAccount.objects.filter(pk=account.pk).update(import_requested_at=account.import_requested_at)
    audit("locks.import_requested", actor=actor, organisation=account.organisation, obj=account, ip=ip)
    account_id = account.pk
    transaction.on_commit(lambda: _enqueue_import(account_id))
    return account


def _enqueue_import(account_id: int) -> None:
    if not queues.enqueue_import(account_id):
        import_not_started(account_id)


IMPORT_AGAIN = "Check the region or URL and that this server can reach it, then bring in its locks again."


def import_failure(error: Exception) -> str:
    """Why an import ended without locks, and what to do: every failure says so on the page (none is left
    "bringing in its locks" for ever). An unexpected error's own text is not shown (it may quote the reply)."""
    if isinstance(error, port.CloudError) and error.code is not None:  # the cloud answered: its code and what to do
        return explain(error).english
    if isinstance(error, port.CloudError):  # no answer, or not the cloud's: our own words (its hints are about calls)
        return f"{error.message.rstrip('.')}. {IMPORT_AGAIN}"
    return f"The cloud's reply could not be understood. {IMPORT_AGAIN}"


def import_not_started(account_id: int) -> None:
    """No worker will run the import (the queue was unavailable): end it with an error rather than wait for ever."""
    message = "The import could not be started: the job queue is unavailable. Try again in a minute."
    CloudAccount.objects.filter(pk=account_id).update(last_error=message, imported_at=timezone.now())


def run_import(account_id: int) -> str:
    """The worker's side of `request_import`: any failure is kept on the account, in plain words, and ends the
    import (the client already retried what was safe to; the owner can ask again from the page)."""
    account = CloudAccount.objects.select_related("organisation").filter(pk=account_id).first()
    if account is None or not account.import_pending:  # a late job still runs a lost import
        return "nothing to do"
    try:
        found = import_locks(account)
    except Exception as error:  # noqa: BLE001 - whatever it was, the page must stop waiting and say so
        if not isinstance(error, port.CloudError):
            logger.exception("The lock import of cloud account %s failed", account_id)
        CloudAccount.objects.filter(pk=account_id).update(
            last_error=import_failure(error)[:300], imported_at=timezone.now()
        )
        return "refused" if isinstance(error, REFUSED) else "failed"
    CloudAccount.objects.filter(pk=account_id).update(imported_at=timezone.now())
    return f"{len(found)} locks"


@transaction.atomic
def attach_lock(lock: Lock, *, unit: Unit | None, actor: Actor = None, ip: str | None = None) -> Lock:
    """Put a lock on a unit's door (or take it off: unit None). Codes stay with the lock, so a lock that still
    carries live codes is not moved: they were given for the old door."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if unit is not None and unit.property.organisation_id != lock.organisation_id:
        raise ValidationError({"unit": "That unit belongs to another organisation."})
    if (unit.pk if unit is not None else None) == lock.unit_id:
        return lock
    live = lock.access_codes.exclude(status__in=[Status.REMOVED, Status.EXPIRED, Status.FAILED])
    if live.exists():  # wanted on the lock, or still being removed from it
        raise ValidationError({"unit": "This lock still has codes for its current door: remove them first."})
    lock.unit = unit
    lock.save(update_fields=["unit"])
    where = str(unit) if unit is not None else "no unit"
    audit("lock.attach", actor=actor, organisation=lock.organisation, obj=lock, summary=f"{lock} → {where}", ip=ip)
    return lock
