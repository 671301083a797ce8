"""Alerts worth reading (docs/product.md, "What beats the competition" 7): raised once per incident, counted after that.

An incident has a `dedup_key` ("tamper:lock:12"); the open alert holds it, and the unique (organisation,
dedup_key) constraint makes sure there is only ever one open alert per incident, even with two workers racing.
The same incident again bumps `count` and `last_seen_at`. Closing an alert renames its key ("...#<id>"), so the
next occurrence after that opens a new alert (and a new e-mail).

Where alerts come from:
- the events sync calls `on_new_events` with the events it has just stored (each exactly once): wrong-code
  bursts, pry/tamper, duress, low-battery alarms; doorbells become remote-unlock requests (locks/remote.py);
- the push consumer (locks/push.py) and the periodic scans (locks/alert_scans.py: lock health from the cloud,
  codes, cloud accounts and locks as the database says, e-mails not sent yet) call `note_lock_state`,
  `raise_alert` and `resolve_alert`.

E-mail: one per alert, claimed through a lapsing `email_claimed_at`, to ALERT_EMAIL_TO or else the organisation's
owners and managers. Alerts never carry a PIN or a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, override

from audit.services import audit
from locks import remote
from locks.models import Alert, Lock, LockEvent
from locks.templatetags.zones import local, zone_name
from locks.words import Words
from tenants.models import MANAGER_ROLES, Actor, ApiKey, Membership, role_in, user_of
from webhooks import payloads
from webhooks.emit import emit, emit_each

logger = logging.getLogger(__name__)

Kind = Alert.Kind

WRONG_CODE_WINDOW = timedelta(minutes=5)  # wrong codes this close together are one burst
WRONG_CODE_BURST = 3  # ... and this many of them make it worth an alert
INCIDENT_GAP = timedelta(minutes=30)  # a pry or duress after this long a quiet is a new incident
EVENT_MAX_AGE = timedelta(days=1)  # a first sync of a lock's history does not alert about last month
LOW_BATTERY_PERCENT = 20  # the lock pages turn amber below this too

# Alerts about something that happened (not a state that lasts): acknowledging one closes the incident.
EVENT_KINDS = frozenset({Kind.WRONG_CODE_BURST, Kind.TAMPER, Kind.DURESS, Kind.DOORBELL})
TAMPER_VALUES = frozenset({"pry", "shock"})
LOW_BATTERY_VALUES = frozenset({"low_battery", "power_off"})


# --- the core: one open alert per incident ------------------------------------------------------------------


def raise_alert(
    *,
    organisation_id: int,
    kind: str,
    key: str,
    message: str,
    message_args: dict[str, Any] | None = None,
    lock: Lock | None = None,
    event: LockEvent | None = None,
    at: datetime | None = None,
    add: int = 1,
    first_count: int = 1,
    gap: timedelta | None = None,
) -> Alert:
    """Open the incident's alert, or bump the open one by `add`; `gap`: quiet longer than this ends the incident.
    `message` is English marked with `gettext_noop`, its `%(name)s` placeholders filled from `message_args` in the
    language of whoever reads it (`Alert.text`); an argument may be `Words` or a `Moment` (locks/words.py), put in
    that language too. Without `message_args` it is finished English, as bookings' were."""
    at = at or timezone.now()
    if message_args is not None:
        message_args = Words(message, message_args).to_json()["a"]
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(organisation_id=organisation_id, dedup_key=key).first()
        if alert is not None and gap is not None and at - alert.last_seen_at > gap:
            _close(alert, at=alert.last_seen_at)
            alert = None
        if alert is None:
            try:
                with transaction.atomic():  # a savepoint: losing the race below must not spoil the outer block
                    alert = Alert.objects.create(
                        organisation_id=organisation_id,
                        lock=lock,
                        kind=kind,
                        dedup_key=key,
                        message=message[:300],
                        message_args=message_args,
                        event=event,
                        count=max(first_count, 1),
                        first_seen_at=at,
                        last_seen_at=at,
                    )
            except IntegrityError:
                # Another worker opened this incident between our read and our insert: count ours on theirs.
                alert = Alert.objects.select_for_update().get(organisation_id=organisation_id, dedup_key=key)
            else:
                alert_id = alert.pk
                transaction.on_commit(lambda: send_alert_email(alert_id))
                emit(organisation_id, "lock.alert", payloads.alert(alert), at=at)  # a new incident, told once
                return alert
        fields = ["last_seen_at"]
        alert.last_seen_at = max(alert.last_seen_at, at)
        if add:
            alert.count += add
            fields.append("count")
        if event is not None and alert.event_id is None:
            alert.event = event
            fields.append("event")
        alert.save(update_fields=fields)
        return alert


def _close(alert: Alert, *, at: datetime) -> None:
    alert.resolved_at = at
    alert.dedup_key = f"{alert.dedup_key}#{alert.pk}"[:200]  # frees the key for the next incident
    alert.save(update_fields=["resolved_at", "dedup_key"])


def resolve_alert(*, organisation_id: int, key: str, at: datetime | None = None) -> bool:
    """The condition is over (lock back online, battery replaced, code settled): close its open alert, if any."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(organisation_id=organisation_id, dedup_key=key).first()
        if alert is None:
            return False
        _close(alert, at=at or timezone.now())
        return True


# The same, for many incidents at once (the periodic scans): a fixed number of statements however many there are.


def open_incidents(new: Sequence[Alert], *, at: datetime) -> None:
    """Open these incidents, none of which was open when the caller looked: one INSERT, their webhook events in a
    fixed number of queries, each e-mailed after commit. A state that lasts, as `raise_alert(add=0)` records it: if
    another worker opened one of them since (the unique constraint refuses the batch), each goes through `raise_alert`,
    which marks an open incident seen and opens the others."""
    if not new:
        return
    for alert in new:
        alert.message, alert.count, alert.first_seen_at, alert.last_seen_at = alert.message[:300], 1, at, at
    try:
        with transaction.atomic():  # a savepoint: the refused batch must not spoil the caller's transaction
            opened = Alert.objects.bulk_create(new)
    except IntegrityError:
        for alert in new:
            raise_alert(
                organisation_id=alert.organisation_id,
                kind=alert.kind,
                key=alert.dedup_key,
                message=alert.message,
                message_args=alert.message_args,
                lock=alert.lock,
                at=at,
                add=0,
            )
        return
    for alert in opened:
        transaction.on_commit(partial(send_alert_email, alert.pk))
    emit_each("lock.alert", [(alert.organisation_id, payloads.alert(alert), at) for alert in opened])


def close_alerts(alerts: QuerySet[Alert], *, at: datetime) -> int:
    """`resolve_alert` for every alert of `alerts` still open, in one UPDATE (each key freed as `_close` does)."""
    freed_key = Left(Concat(F("dedup_key"), Value("#"), Cast("pk", CharField())), 200)
    return alerts.filter(resolved_at__isnull=True).update(resolved_at=at, dedup_key=freed_key)


def may_acknowledge(user: Actor, alert: Alert) -> bool:
    """Owners and managers of the alert's organisation (and superusers); an API key of the organisation with the
    remote-unlock scope, for the alerts it reaches (a key limited to some properties: their locks' alerts only)."""
    if isinstance(user, ApiKey):
        if user.organisation_id != alert.organisation_id or not user.allows(ApiKey.Scope.REMOTE_UNLOCK):
            return False
        return user.limited_property_ids is None if alert.lock is None else user.may_see_lock(alert.lock)
    return role_in(user, alert.organisation_id, MANAGER_ROLES)


def acknowledge_alert(alert: Alert, *, actor: Actor, ip: str | None = None) -> Alert:
    """Someone has seen it (owners and managers, or a key allowed to): audited once; an event's alert is closed
    with it."""
    if not may_acknowledge(actor, alert):
        # Outside the transaction below: the refusal is recorded even though nothing else happens.
        audit("alert.acknowledge_refused", actor=actor, organisation=alert.organisation, obj=alert, ip=ip)
        raise PermissionDenied("Only owners and managers may acknowledge alerts.")
    return _acknowledge(alert.pk, actor=actor, ip=ip)


@transaction.atomic
def _acknowledge(alert_id: int, *, actor: Actor, ip: str | None) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.acknowledged_at is not None:
        return alert  # a second click: nothing to do twice
    alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user_of(actor)
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    if alert.kind in EVENT_KINDS and alert.resolved_at is None:
        _close(alert, at=alert.acknowledged_at)
    with override(settings.LANGUAGE_CODE):  # the audit trail is in one language, whoever acknowledges
        summary = f"{alert.get_kind_display()}: {alert.english_text}"
    audit("alert.acknowledge", actor=actor, organisation=alert.organisation, obj=alert, summary=summary, ip=ip)
    return alert


# --- e-mail -------------------------------------------------------------------------------------------------


def _recipients(organisation_id: int) -> dict[str, list[str]]:
    """The owners' and managers' addresses by the language each chose for their pages (else the site's)."""
    if settings.ALERT_EMAIL_TO:
        return {settings.LANGUAGE_CODE: list(settings.ALERT_EMAIL_TO)}
    members = Membership.objects.filter(organisation_id=organisation_id, role__in=MANAGER_ROLES)
    by_language: dict[str, set[str]] = {}
    for email, language in members.values_list("user__email", "user__preferences__language"):
        if email:
            by_language.setdefault(language or settings.LANGUAGE_CODE, set()).add(email)
    return {language: sorted(emails) for language, emails in sorted(by_language.items())}


EMAIL_CLAIM = timedelta(minutes=5)  # longer than any send; a sender killed mid-send is replaced after it


def unclaimed(now: datetime) -> Q:
    """Alerts not e-mailed yet whose claim, if any, has lapsed (also what the periodic scan re-sends)."""
    return Q(emailed_at__isnull=True) & (Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM))


def send_alert_email(alert_id: int) -> bool:
    """E-mail a new alert once: the row is claimed first (a lease), released if sending fails (retried later),
    and a claim whose sender died lapses, so a killed worker delays the e-mail but never loses it."""
    return send_alert_emails(Alert.objects.filter(pk=alert_id)) == 1


def send_alert_emails(alerts: QuerySet[Alert], *, limit: int = 100) -> int:
    """E-mail up to `limit` of these alerts that nobody has e-mailed or is e-mailing: claimed together, sent, and
    marked sent (or released for a later try) together, with each organisation's readers looked up once; returns
    how many were sent. A few queries per call, whatever the number of alerts (the periodic scan re-sends 100)."""
    now = timezone.now()
    # The claim's time is its token: rows this call claimed are those stamped with exactly this microsecond.
    ids = list(alerts.filter(unclaimed(now)).order_by().values_list("pk", flat=True)[:limit])
    if not ids or not Alert.objects.filter(unclaimed(now), pk__in=ids).update(email_claimed_at=now):
        return 0  # already sent (or being sent) by someone else
    claimed = Alert.objects.select_related("organisation", "lock__unit__property").filter(
        pk__in=ids, email_claimed_at=now
    )
    readers: dict[int, dict[str, list[str]]] = {}
    sent: list[int] = []
    unsent: list[int] = []
    for alert in claimed:
        if alert.organisation_id not in readers:
            readers[alert.organisation_id] = _recipients(alert.organisation_id)
        (sent if _deliver(alert, readers[alert.organisation_id]) else unsent).append(alert.pk)
    if sent:
        Alert.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    if unsent:  # no reader with an address yet, or the mail server refused: free for a later try
        Alert.objects.filter(pk__in=unsent).update(email_claimed_at=None)
    return len(sent)


def _deliver(alert: Alert, recipients: dict[str, list[str]]) -> bool:
    if not recipients:
        return False
    try:
        for language, addresses in recipients.items():
            with override(language):  # each reader gets it in the language of their pages
                send_mail(*_alert_email(alert), None, addresses)
    except Exception as error:  # SMTP down, refused, timeout: keep the alert, try again later
        logger.warning("alert %s: e-mail not sent (%s); will retry", alert.pk, type(error).__name__)
        return False
    return True


def _alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body in the active language."""
    kind = alert.get_kind_display()
    if alert.lock:
        subject = gettext("[%(organisation)s] %(kind)s at %(lock)s") % {
            "organisation": alert.organisation.name, "kind": kind, "lock": alert.lock.name,
        }  # fmt: skip
    else:
        subject = gettext("[%(organisation)s] %(kind)s") % {"organisation": alert.organisation.name, "kind": kind}
    seen = gettext("First seen: %(when)s (%(zone)s)") % {
        "when": f"{local(alert.first_seen_at, alert):%Y-%m-%d %H:%M %Z}", "zone": zone_name(alert),
    }  # fmt: skip
    advice = gettext(
        "Open the alerts page of your dashboard to acknowledge it; it will not be e-mailed again while it lasts."
    )
    return subject, f"{alert.text}\n\n{seen}\n{advice}\n"


# --- from events --------------------------------------------------------------------------------------------


def _words(event: LockEvent) -> str:
    return event.classification.strip().lower()


def is_wrong_code(event: LockEvent) -> bool:
    return event.dp_value.startswith("wrong_") or _words(event).startswith("wrong")


WRONG_CODE_EVENTS = Q(dp_value__startswith="wrong_") | Q(classification__istartswith="wrong")


def is_tamper(event: LockEvent) -> bool:
    return (event.dp_code == "alarm_lock" and event.dp_value in TAMPER_VALUES) or _words(event) in (
        "pry",
        "tamper",
        "shock",
    )


def is_duress(event: LockEvent) -> bool:
    return event.dp_code == "hijack" or _words(event) == "duress"


def is_low_battery(event: LockEvent) -> bool:
    return (event.dp_code == "alarm_lock" and event.dp_value in LOW_BATTERY_VALUES) or _words(event) in (
        "low battery",
        "power off",
    )


def on_new_events(events: Sequence[LockEvent]) -> None:
    """Raise or bump the alerts these newly stored events call for, and turn doorbells into remote-unlock requests.

    Called by the events sync after it stored them. One event that cannot be handled is logged and skipped:
    the sync must go on (the events themselves are already stored)."""
    cutoff = timezone.now() - EVENT_MAX_AGE
    for event in sorted(events, key=lambda e: (e.occurred_at, e.pk or 0)):
        try:
            if remote.is_remote_request(event):
                remote.request_from_event(event)
            elif event.occurred_at >= cutoff:
                _alert_for_event(event)
        except Exception:
            logger.exception("alerts: event %s could not be handled", event.pk)


def _alert_for_event(event: LockEvent) -> None:
    lock = event.lock
    common: dict[str, Any] = {"organisation_id": event.organisation_id, "lock": lock, "event": event}
    at = event.occurred_at
    if is_duress(event):
        if event.actor_name:
            message = gettext_noop("Duress unlock by %(actor)s at %(lock)s: someone may be forced to open the door.")
        else:
            message = gettext_noop("Duress unlock at %(lock)s: someone may be forced to open the door.")
        raise_alert(
            kind=Kind.DURESS,
            key=f"duress:lock:{lock.pk}",
            message=message,
            message_args={"actor": event.actor_name, "lock": lock.name},
            at=at,
            gap=INCIDENT_GAP,
            **common,
        )
    elif is_tamper(event):
        raise_alert(
            kind=Kind.TAMPER,
            key=f"tamper:lock:{lock.pk}",
            message=gettext_noop("%(lock)s reported a pry or tamper alarm."),
            message_args={"lock": lock.name},
            at=at,
            gap=INCIDENT_GAP,
            **common,
        )
    elif is_low_battery(event):
        raise_alert(
            kind=Kind.LOW_BATTERY,
            key=f"low_battery:lock:{lock.pk}",
            message=gettext_noop("The battery of %(lock)s is low: replace it before codes stop reaching the lock."),
            message_args={"lock": lock.name},
            at=at,
            **common,
        )
    elif is_wrong_code(event):
        _wrong_code(event, common)


def _wrong_code(event: LockEvent, common: dict[str, Any]) -> None:
    lock, at = event.lock, event.occurred_at
    key = f"wrong_codes:lock:{lock.pk}"
    ongoing = Alert.objects.filter(
        organisation_id=event.organisation_id, dedup_key=key, last_seen_at__gte=at - WRONG_CODE_WINDOW
    ).exists()
    first_count = 1
    if not ongoing:
        recent = LockEvent.objects.filter(
            WRONG_CODE_EVENTS, lock=lock, occurred_at__gt=at - WRONG_CODE_WINDOW, occurred_at__lte=at
        ).count()
        # The lock's own wrong_password alarm already means several wrong codes in a row.
        if recent < WRONG_CODE_BURST and event.dp_value != "wrong_password":
            return
        first_count = max(recent, 1)
    raise_alert(
        kind=Kind.WRONG_CODE_BURST,
        key=key,
        message=gettext_noop("Wrong codes, cards or fingerprints were tried again and again at %(lock)s."),
        message_args={"lock": lock.name},
        at=at,
        first_count=first_count,
        gap=WRONG_CODE_WINDOW,
        **common,
    )


# --- the lock's state: online, battery ----------------------------------------------------------------------


def store_lock_state(lock: Lock, fields: dict[str, object], *, at: datetime) -> None:
    """Save what was just learnt of the lock (`online`, battery, last seen: push and the health scan) with its alerts,
    in one transaction; a change of the online flag is a webhook event (lock.offline, lock.online), told once however
    many processes learn it (the flip is a conditional UPDATE)."""
    online = fields.get("online")
    with transaction.atomic():
        flipped = isinstance(online, bool) and bool(
            Lock.objects.filter(pk=lock.pk).exclude(online=online).update(online=online)
        )
        Lock.objects.filter(pk=lock.pk).update(**fields)
        for name, value in fields.items():
            setattr(lock, name, value)
        note_lock_state(lock, at=at)
        if flipped:
            emit(
                lock.organisation_id, "lock.online" if online else "lock.offline", payloads.lock_state(lock, at), at=at
            )


# An alert's words: English marked with gettext_noop and the values of its placeholders (see `raise_alert`).
Message = tuple[str, dict[str, Any]]


def lock_conditions(lock: Lock) -> list[tuple[str, str, Message | None]]:
    """The offline and low-battery incidents of what we know of the lock now: (kind, key, message), the message None
    when the condition is over (its alert, if open, is resolved). A battery not known says nothing either way."""
    offline: Message | None = None
    if not lock.online:
        offline = (
            gettext_noop("%(lock)s is offline: new codes cannot reach it (offline passwords still work)."),
            {"lock": lock.name},
        )
    conditions: list[tuple[str, str, Message | None]] = [(Kind.OFFLINE, f"offline:lock:{lock.pk}", offline)]
    if lock.battery is not None:
        low: Message | None = None
        if lock.battery < LOW_BATTERY_PERCENT:
            low = (
                gettext_noop("The battery of %(lock)s is at %(percent)s %%: replace it soon."),
                {"lock": lock.name, "percent": lock.battery},
            )
        conditions.append((Kind.LOW_BATTERY, f"low_battery:lock:{lock.pk}", low))
    return conditions


def note_lock_state(lock: Lock, *, at: datetime | None = None) -> None:
    """Raise or resolve the offline and low-battery alerts for what we know of the lock now."""
    for kind, key, message in lock_conditions(lock):
        if message is None:
            resolve_alert(organisation_id=lock.organisation_id, key=key, at=at)
        else:
            template, args = message
            raise_alert(
                organisation_id=lock.organisation_id,
                kind=kind,
                key=key,
                message=template,
                message_args=args,
                lock=lock,
                at=at,
                add=0,
            )
