"""The periodic alert scans: what the cloud and the database say now, turned into alerts (locks/alerts.py).

- `check_lock_health` (periodic through `check_all_locks`, a round of chunk jobs on the maintenance queue) reads
  each lock's online flag and battery from the cloud: offline and low battery, resolved when the lock is back or
  the battery replaced;
- `scan` (periodic, every minute) looks at what the database says: codes that failed to be set or removed (or
  are stuck trying), cloud accounts refused (`CloudAccount.last_error`), offline locks and low batteries however
  they were found, and re-sends e-mails that could not be sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from locks import events, queues, remote, rounds
from locks.alerts import (
    LOW_BATTERY_PERCENT,
    Message,
    close_alerts,
    lock_conditions,
    open_incidents,
    send_alert_emails,
    store_lock_state,
)
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.models import (
    CODE_STUCK_ATTEMPTS,
    CODE_SUSPECT,
    CURSOR_READ_OK,
    AccessCode,
    Alert,
    CloudAccount,
    Lock,
    SyncCursor,
)
from locks.words import Words

logger = logging.getLogger(__name__)

Kind = Alert.Kind

EMAIL_RETRY_FOR = timedelta(days=1)

# --- the lock's state from the cloud: online, battery -------------------------------------------------------


def check_lock_health(lock_id: int) -> str:
    """Read the lock's online flag and battery from the cloud (device details), store them, alert on them."""
    lock = Lock.objects.select_related("cloud_account").filter(pk=lock_id).first()
    if lock is None:
        return "gone"
    try:
        details = cloud_for(lock.cloud_account).lock(lock.device_id)
    except port.CloudError as error:
        # Not the lock's fault (network, permission): the cloud-refused alert covers the account.
        logger.info("health check of lock %s: %s", lock_id, type(error).__name__)
        return "unknown"
    now = timezone.now()
    fields: dict[str, object] = {"online": details.online}
    if details.battery is not None:
        fields["battery"] = details.battery
    if details.online:
        fields["last_seen_at"] = now
    store_lock_state(lock, fields, at=now)
    return "online" if details.online else "offline"


def check_all_locks() -> int:
    """Periodic: the health round, one job per chunk of locks on the maintenance queue (locks/rounds.py)."""
    with rounds.starting(rounds.HEALTH, queues.MAINTENANCE_QUEUE):
        lock_ids = health_due_lock_ids()
        return rounds.start(rounds.HEALTH, queues.MAINTENANCE_QUEUE, "locks.alert_scans.check_locks_health", lock_ids)


def health_due_lock_ids(now: datetime | None = None) -> list[int]:
    """Every lock of a project with no live push connection; of the others (push tells us when a lock goes offline
    or comes back, and its battery), only those not seen online for EVENTS_SAFETY_NET_SECONDS: the safety net."""
    now = now or timezone.now()
    locks = Lock.objects.all()
    pushed = events.pushed_account_ids(locks.values_list("cloud_account_id", flat=True).distinct())
    if pushed:
        unseen_since = now - timedelta(seconds=int(settings.EVENTS_SAFETY_NET_SECONDS))
        locks = locks.filter(
            ~Q(cloud_account_id__in=pushed) | Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=unseen_since)
        )
    return list(locks.order_by("pk").values_list("pk", flat=True))


def check_locks_health(round_name: str, lock_ids: list[int]) -> int:
    """One chunk of the health round; returns how many locks answered."""
    return rounds.run_chunk(round_name, queues.MAINTENANCE_QUEUE, lock_ids, _answered, "health check")


def _answered(lock_id: int) -> int:
    return int(check_lock_health(lock_id) in ("online", "offline"))


# --- codes and cloud accounts (the periodic scan) -----------------------------------------------------------

Status = AccessCode.Status
Desired = AccessCode.Desired


def _code_problem(code: AccessCode) -> tuple[str, Message] | None:
    """(kind, message) when a code failed to reach or leave its lock, or is stuck trying. The failure's reason is
    the cloud's or the worker's words (read in each reader's language)."""
    failure = code.failure
    args = {"label": code.label, "lock": code.lock.name, "tries": code.attempts, "reason": failure or ""}
    reason = failure is not None
    if code.desired == Desired.REMOVED:
        if code.status in (Status.REMOVED, Status.EXPIRED):
            return None
        if code.status == Status.FAILED or code.attempts >= CODE_STUCK_ATTEMPTS:
            if reason:
                return Kind.CODE_NOT_REMOVED, (
                    gettext_noop("Code “%(label)s” could not be removed from %(lock)s: %(reason)s"),
                    args,
                )
            return Kind.CODE_NOT_REMOVED, (gettext_noop("Code “%(label)s” could not be removed from %(lock)s."), args)
        return None
    if code.status == Status.FAILED:
        if reason:
            return Kind.CODE_NOT_SET, (gettext_noop("Code “%(label)s” could not be set on %(lock)s: %(reason)s"), args)
        return Kind.CODE_NOT_SET, (gettext_noop("Code “%(label)s” could not be set on %(lock)s."), args)
    if code.status in (Status.REQUESTED, Status.SENDING, Status.UNKNOWN) and code.attempts >= CODE_STUCK_ATTEMPTS:
        if reason:
            return Kind.CODE_NOT_SET, (
                gettext_noop("Code “%(label)s” is still not on %(lock)s after %(tries)s tries: %(reason)s"),
                args,
            )
        return Kind.CODE_NOT_SET, (
            gettext_noop("Code “%(label)s” is still not on %(lock)s after %(tries)s tries."),
            args,
        )
    return None


CODE_KINDS = (Kind.CODE_NOT_SET, Kind.CODE_NOT_REMOVED)


def scan_codes(now: datetime | None = None) -> int:
    """Raise an alert per code that failed or is stuck; close the alerts of codes that have settled since.

    It costs what is suspect (the `code_suspect_ends` index: failed or stuck codes that have not ended a day ago) and
    what is open, however many codes history keeps. Every suspect is looked at, however many: an alert is resolved
    only when its code is no longer a problem, never because a cap left the code unseen (alerts would flap)."""
    now = now or timezone.now()
    suspects = AccessCode.objects.filter(CODE_SUSPECT, ends_at__gt=now - timedelta(days=1)).order_by()
    problems: dict[tuple[int, str], tuple[AccessCode, str, Message]] = {}
    for code in suspects.select_related("lock").iterator(chunk_size=500):
        problem = _code_problem(code)
        if problem is not None:
            kind, message = problem
            problems[(code.organisation_id, f"{kind}:code:{code.pk}")] = (code, kind, message)
    open_alerts = Alert.objects.filter(kind__in=CODE_KINDS, resolved_at__isnull=True).order_by()  # `alert_open`
    _settle(open_alerts, problems={key: (code.lock, kind, message) for key, (code, kind, message) in problems.items()},
            now=now)  # fmt: skip
    return len(problems)


def scan_accounts(now: datetime | None = None) -> int:
    """A cloud account the cloud refuses (credentials, API permission, subscription) is one alert until fixed."""
    now = now or timezone.now()
    refused = CloudAccount.objects.exclude(last_error="").only("pk", "organisation_id", "name", "last_error")
    problems: dict[tuple[int, str], tuple[Lock | None, str, Message]] = {
        (account.organisation_id, f"cloud_refused:account:{account.pk}"): (
            None,
            Kind.CLOUD_REFUSED,
            (
                gettext_noop("The Tuya cloud refused the account “%(account)s”: %(error)s"),
                {"account": account.name, "error": account.last_error},
            ),
        )
        for account in refused
    }
    _settle(Alert.objects.filter(kind=Kind.CLOUD_REFUSED, resolved_at__isnull=True).order_by(), problems, now=now)
    return len(problems)


EVENTS_BEHIND = gettext_noop(  # the template is stored in Alert.message: 300 characters at most
    "Event sync of the project “%(account)s” is behind: some locks were last read over %(hours)s hours ago. Door "
    "codes and busier locks go first within its call budget: raise TUYA_CALLS_PER_SECOND to the project's quota, or "
    "add workers. The set-up page shows how far behind it is."
)


def scan_events_behind(now: datetime | None = None) -> int:
    """A cloud project whose locks' records are read later than the safety net promises (its call budget or its
    workers do not keep up: deferred polls pile up) is one alert until it has caught up. Costs the streams that are
    behind (the `cursor_read_ok` index), none at steady state."""
    now = now or timezone.now()
    behind = (
        SyncCursor.objects.filter(CURSOR_READ_OK, last_synced_at__lt=events.safety_net_deadline(now))
        .values("lock__cloud_account_id", "lock__cloud_account__organisation_id", "lock__cloud_account__name")
        .distinct()
        .order_by()
    )
    hours = int(settings.EVENTS_SAFETY_NET_SECONDS) // 3600
    problems: dict[tuple[int, str], tuple[Lock | None, str, Message]] = {
        (row["lock__cloud_account__organisation_id"], f"events_behind:account:{row['lock__cloud_account_id']}"): (
            None,
            Kind.EVENTS_BEHIND,
            (EVENTS_BEHIND, {"account": row["lock__cloud_account__name"], "hours": hours}),
        )
        for row in behind
    }
    _settle(Alert.objects.filter(kind=Kind.EVENTS_BEHIND, resolved_at__isnull=True).order_by(), problems, now=now)
    return len(problems)


def _settle(
    open_alerts: QuerySet[Alert], problems: dict[tuple[int, str], tuple[Lock | None, str, Message]], *, now: datetime
) -> None:
    """Make the open alerts of one scan match the problems it found, keyed by (organisation, dedup key): those
    still seen are marked so, those over closed, the new opened; a fixed number of statements however many (the
    scan used to raise or resolve each alert in its own transaction, every minute)."""
    already = {(a.organisation_id, a.dedup_key): a.pk for a in open_alerts.only("organisation_id", "dedup_key")}
    over = [pk for key, pk in already.items() if key not in problems]
    new = [
        Alert(
            organisation_id=organisation_id,
            lock=lock,
            kind=kind,
            dedup_key=key,
            message=template,
            message_args=Words(template, args).to_json()["a"],  # an argument may be Words (a code's failure)
        )
        for (organisation_id, key), (lock, kind, (template, args)) in problems.items()
        if (organisation_id, key) not in already
    ]
    with transaction.atomic():
        open_alerts.filter(last_seen_at__lt=now).exclude(pk__in=over).update(last_seen_at=now)
        if over:
            close_alerts(Alert.objects.filter(pk__in=over), at=now)
        open_incidents(new, at=now)


LOCK_STATE_KINDS = (Kind.OFFLINE, Kind.LOW_BATTERY)


def scan_locks(now: datetime | None = None) -> int:
    """Offline locks and low batteries as the database knows them (whoever refreshed them): the alerts
    `note_lock_state` would raise and resolve, lock by lock, in a fixed number of queries however many locks are
    flagged: the flagged locks and those with an open alert, their open alerts, then one statement each for the
    alerts still seen, those over and the new incidents. Returns how many locks are flagged."""
    now = now or timezone.now()
    flagged = Q(online=False) | Q(battery__lt=LOW_BATTERY_PERCENT)
    open_rows = Alert.objects.filter(kind__in=LOCK_STATE_KINDS, resolved_at__isnull=True).order_by()  # `alert_open`
    open_alerts = {(a.organisation_id, a.dedup_key): a.pk for a in open_rows.only("organisation_id", "dedup_key")}
    locks = Lock.objects.filter(flagged | Q(pk__in=open_rows.values("lock_id"))).order_by()
    seen, over, new = [], [], []
    flagged_count = 0
    for lock in locks.only("organisation_id", "name", "online", "battery"):
        conditions = lock_conditions(lock)
        flagged_count += any(message is not None for _, _, message in conditions)
        for kind, key, message in conditions:
            open_alert = open_alerts.get((lock.organisation_id, key))
            if message is None:
                if open_alert is not None:
                    over.append(open_alert)
            elif open_alert is not None:
                seen.append(open_alert)
            else:
                template, args = message
                new.append(
                    Alert(
                        organisation_id=lock.organisation_id,
                        lock=lock,
                        kind=kind,
                        dedup_key=key,
                        message=template,
                        message_args=args,
                    )
                )
    with transaction.atomic():
        if seen:
            Alert.objects.filter(pk__in=seen, last_seen_at__lt=now).update(last_seen_at=now)
        if over:
            close_alerts(Alert.objects.filter(pk__in=over), at=now)
        open_incidents(new, at=now)
    return flagged_count


def email_unsent(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return send_alert_emails(Alert.objects.filter(resolved_at__isnull=True, first_seen_at__gte=now - EMAIL_RETRY_FOR))


def scan() -> int:
    """Periodic (every minute): codes, cloud accounts, event sync behind, locks, e-mails not sent yet, remote unlocks
    that lapsed."""
    now = timezone.now()
    found = scan_codes(now) + scan_accounts(now) + scan_events_behind(now) + scan_locks(now)
    email_unsent(now)
    remote.expire_requests(now)
    return found
