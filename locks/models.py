"""Cloud accounts, locks, door codes and the audit trail."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locks.cloud import endpoints
from locks.display import DAY_NAMES, hours_text
from locks.fields import EncryptedTextField
from locks.templatetags.zones import local
from locks.words import Words, columns
from tenants.models import Guest, Organisation, Property, SingleLineFields, Stay, Unit, scoped


class LockKind(models.TextChoices):
    # The kinds the cloud port speaks of (locks/cloud/port.py); the spec's "Applicable lock types" decide what each
    # can do, and the adapter picks the calls by them.
    WIFI = "wifi", _("Wi-Fi lock")
    ZIGBEE = "zigbee", _("Zigbee lock")
    BLE = "ble", _("Bluetooth lock")
    BLE_GATEWAY = "ble_gateway", _("Bluetooth lock with gateway")
    ZIGBEE_HOTEL = "zigbee_hotel", _("Zigbee hotel lock")
    WIFI_KEEPALIVE = "wifi_keepalive", _("Keepalive Wi-Fi lock")
    WIFI_VIDEO = "wifi_video", _("Wi-Fi video lock")
    ACCESS_CONTROL = "access_control", _("Wi-Fi access control")


# Wi-Fi locks take seven-digit codes, Zigbee and Bluetooth locks six (the spec's temporary-password section).
WIFI_KINDS = frozenset({LockKind.WIFI, LockKind.WIFI_KEEPALIVE, LockKind.WIFI_VIDEO, LockKind.ACCESS_CONTROL})


class FailureWords(models.Model):
    """Why a row's last step failed, kept twice: `failure_reason` (each model's own column) in English for the API,
    webhooks, alerts' records and the admin, and `failure_words` (locks/words.py) for pages, in the reader's
    language. A worker sets both with `failed(...)`; rows written before the words were kept show the English."""

    failure_words = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def failure(self) -> Words | None:
        reason: str = getattr(self, "failure_reason", "")
        if not reason:
            return None
        return Words.from_json(self.failure_words) if self.failure_words else Words("%(reason)s", {"reason": reason})

    @property
    def failure_text(self) -> str:
        failure = self.failure
        return failure.text if failure is not None else ""

    def note_failure(self, reason: Words | None) -> None:
        """Set both columns on this instance (saving is the caller's); None clears them."""
        for name, value in failed(reason).items():
            setattr(self, name, value)


def failed(reason: Words | None) -> dict[str, Any]:
    """The two failure columns for `reason` (none: cleared), to save or update with."""
    english, words = columns(reason)
    return {"failure_reason": english, "failure_words": words}


NO_FAILURE: dict[str, Any] = {"failure_reason": "", "failure_words": None}


class CloudAccount(SingleLineFields, models.Model):
    """A project on a lock cloud (Tuya's, through locks/cloud/): the access id and secret that sign every call for its
    locks."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cloud_accounts")
    name = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=200, help_text="A region (eu, us, us-east, eu-west, cn, in) or a URL.")
    access_id = models.CharField(max_length=64)
    access_secret = EncryptedTextField()
    uid = models.CharField(max_length=64, blank=True)  # the project's user, from the token
    last_error = models.CharField(max_length=300, blank=True)
    # An import of the project's locks runs in a worker: asked for at, finished at (the page polls until then).
    import_requested_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # Locks of the project the last import left out because another organisation has them (one_organisation_per_device).
    import_refused = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "endpoint", "access_id"], name="one_account_per_project")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Wherever an account is made or changed (the dashboard, the admin): only an endpoint this server may call.
        reason = endpoints.refusal(self.endpoint)
        if reason is not None:
            raise ValidationError({"endpoint": reason})

    # An import not done this long after it was asked for was lost (a worker killed mid-job; the sync queue's
    # job timeout is 10 minutes): the page stops waiting and says so.
    IMPORT_GIVE_UP = timedelta(minutes=15)

    @property
    def import_pending(self) -> bool:
        requested, done = self.import_requested_at, self.imported_at
        return requested is not None and (done is None or done < requested)

    @property
    def importing(self) -> bool:
        return self.import_pending and not self.import_lost

    @property
    def import_lost(self) -> bool:
        requested = self.import_requested_at
        return self.import_pending and requested is not None and requested < timezone.now() - self.IMPORT_GIVE_UP


class Lock(SingleLineFields, models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="locks")
    cloud_account = models.ForeignKey(CloudAccount, on_delete=models.PROTECT, related_name="locks")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="locks")
    device_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=LockKind.choices)
    online = models.BooleanField(default=True)
    battery = models.PositiveSmallIntegerField(null=True, blank=True)
    local_key = EncryptedTextField(blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Circuit breaker: a lock that keeps failing is left alone for a while to spare its battery and our quota.
    failure_streak = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    # Reconciliation: passwords on the lock that no code of ours explains (set in the Tuya app, or left over).
    foreign_codes = models.JSONField(default=list, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation", "unit__property")

    class Meta:
        ordering = ["name"]
        constraints = [
            # One physical lock, one organisation: a project connected by two organisations (or twice) must not
            # let the second one issue codes on, or see the photos of, the first one's doors.
            models.UniqueConstraint(fields=["device_id"], name="one_organisation_per_device"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "unit" in update_fields:
            self.property_id = property_of_unit(self)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "property"}
        super().save(*args, **kwargs)

    @property
    def time_zone(self) -> str:
        """Its property's zone; a lock on no door yet (imported with 30 days of events) has none, so its times are
        in the server's zone (settings.TIME_ZONE), which the pages name beside them."""
        unit = self.unit  # None, without a query, for a lock on no door
        return unit.property.time_zone if unit is not None else settings.TIME_ZONE

    @property
    def pin_length(self) -> int:
        """Seven digits for Wi-Fi locks, six for Zigbee and Bluetooth locks."""
        return 7 if self.kind in WIFI_KINDS else 6

    @property
    def can_freeze(self) -> bool:
        return self.kind == LockKind.ZIGBEE  # the spec lists freeze/unfreeze for Zigbee locks only

    # The unit's property, kept by save() and by the unit's own moves and deletion (locks.signals), so a portfolio
    # counts each property's locks without joining every lock to its unit (100,000 locks: bench/fleet_bench.py).
    # Declared last: as a class attribute it hides the `property` decorator from the lines below it.
    property = models.ForeignKey(  # noqa: DJ012
        Property, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )


def property_of_unit(lock: Lock) -> int | None:
    """The property of the lock's unit: from the unit if it is loaded, else one query (a lock on no door: None)."""
    if lock.unit_id is None:
        return None
    if Lock.unit.is_cached(lock):
        return lock.unit.property_id  # type: ignore[union-attr]
    return Unit.objects.filter(pk=lock.unit_id).values_list("property_id", flat=True).first()


class CodeDesired(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    REMOVED = "removed", _("Removed")


class CodeStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SENDING = "sending", _("Sending to the lock")
    SET = "set", _("On the lock")
    FAILED = "failed", _("Failed")
    FROZEN = "frozen", _("Frozen")
    REMOVING = "removing", _("Removing")
    REMOVED = "removed", _("Removed")
    EXPIRED = "expired", _("Expired")
    UNKNOWN = "unknown", _("Unknown")


# What the periodic jobs look for among door codes. Each condition is shared by its query and by the partial index
# that serves it: the index holds only the rows the condition can match, so a run costs what is due, not what years
# of history have stored (issue 15). PostgreSQL uses a partial index only when the query repeats its predicate, so
# the queries use these very objects.
CODE_STUCK_ATTEMPTS = 5  # failed tries (about five minutes of back-off) before a code still not settled is "stuck"
CODE_NEEDS_WORK = (
    Q(status__in=[CodeStatus.REQUESTED, CodeStatus.SENDING, CodeStatus.REMOVING, CodeStatus.UNKNOWN])
    | (Q(desired=CodeDesired.REMOVED) & ~Q(status=CodeStatus.REMOVED))
    | Q(desired=CodeDesired.FROZEN, status=CodeStatus.SET)
    | Q(desired=CodeDesired.ACTIVE, status=CodeStatus.FROZEN)
    | Q(needs_modify=True)
)
# PostgreSQL estimates the condition above from each column alone and guesses a quarter of all codes need work (most
# history is desired removed, status removed, which it takes for independent); the plan it then picks reads far more
# than it needs. As one expression with an index on it, ANALYZE keeps the expression's own statistics: 1 for the few
# codes that need work, NULL for the rest (left out of the index, which is partial on it).
CODE_NEEDS_WORK_FLAG = Case(When(CODE_NEEDS_WORK, then=Value(1)))
CODE_NEEDS_WORK_NOW: Exact[int] = Exact(CODE_NEEDS_WORK_FLAG, 1)
CODE_ON_LOCK = Q(status=CodeStatus.SET)  # until it expires
CODE_PIN_KEPT = Q(status__in=[CodeStatus.REMOVED, CodeStatus.EXPIRED, CodeStatus.FAILED], pin_purged_at__isnull=True)
# What reconciliation compares with the lock's passwords in the cloud: every code but those whose PIN was erased,
# which happens only to finished codes (removed, expired, failed) 30 days after they ended (CODE_PIN_KEPT,
# locks/pins.py): those are off the lock for good, and they are what years of history are made of. One column, not
# "finished and erased": a predicate that `status = 'set'` implies would offer the index to the expiry's look-up,
# whose estimate (every code on a lock taken for ended) then picks it over `code_on_lock_ends`.
CODE_MAY_BE_ON_LOCK = Q(pin_purged_at__isnull=True)
CODE_SUSPECT = (Q(status=CodeStatus.FAILED) | Q(attempts__gte=CODE_STUCK_ATTEMPTS)) & ~Q(
    status__in=[CodeStatus.REMOVED, CodeStatus.EXPIRED]
)


class AccessCode(SingleLineFields, FailureWords):
    """A door code and its lifecycle on the lock (docs/reliability.md, "Desired state and convergence").

    `desired` is what we want; `status` is what the lock is known to have. Jobs move status towards
    desired one confirmed step at a time; "set" means the cloud's own per-password status said so.
    """

    class Kind(models.TextChoices):
        WINDOW = "window", _("Time window")
        WEEKLY = "weekly", _("Weekly schedule")
        ONCE = "once", _("One time")

    Desired = CodeDesired
    Status = CodeStatus

    SETTLED = frozenset({Status.SET, Status.FAILED, Status.FROZEN, Status.REMOVED, Status.EXPIRED})

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="access_codes")
    lock = models.ForeignKey(Lock, on_delete=models.PROTECT, related_name="access_codes")
    stay = models.ForeignKey(Stay, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_codes")
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_codes")
    label = models.CharField(max_length=100)
    single_line_fields = ("label",)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WINDOW)
    pin = EncryptedTextField()
    pin_purged_at = models.DateTimeField(null=True, blank=True)  # emptied 30 days after the code ended
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Weekly codes: Python weekdays (Monday = 0) and minutes of the day in the property's time zone.
    schedule_days = models.JSONField(default=list, blank=True)
    schedule_start_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    schedule_end_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    time_zone = models.CharField(max_length=64)

    desired = models.CharField(max_length=10, choices=Desired.choices, default=Desired.ACTIVE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    cloud_password_id = models.BigIntegerField(null=True, blank=True)
    # The current operation. Its id goes into the password's name on the lock, so a create whose reply was
    # lost is found before any re-create.
    operation_id = models.UUIDField(default=uuid.uuid4)
    pending_op = models.CharField(max_length=10, blank=True)  # create | modify | freeze | unfreeze | delete
    op_started_at = models.DateTimeField(null=True, blank=True)
    needs_modify = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is on it until then
    failure_reason = models.CharField(max_length=300, blank=True)
    failure_code = models.IntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # bumped on every change, so stale pages are caught
    # The issuing form's one-time token: a double submit (or two racing ones) issues one code.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lock", "status"]),
            # The periodic jobs' conditions (above the class), each over the column its query ranges on.
            models.Index(
                CODE_NEEDS_WORK_FLAG, "next_attempt_at", condition=Q(CODE_NEEDS_WORK_NOW), name="code_needs_work"
            ),
            models.Index(fields=["ends_at"], condition=CODE_ON_LOCK, name="code_on_lock_ends"),
            models.Index(fields=["lock"], condition=CODE_MAY_BE_ON_LOCK, name="code_may_be_on_lock"),
            models.Index(fields=["ends_at"], condition=CODE_PIN_KEPT, name="code_pin_kept_ends"),
            models.Index(fields=["ends_at"], condition=CODE_SUSPECT, name="code_suspect_ends"),
            # A property page counts each lock's codes that failed lately: its recent ones, not every failed code the
            # lock kept from years of stays (through `lock, status` those grew with history: bench/fleet_bench.py).
            models.Index(fields=["lock", "ends_at"], condition=CODE_SUSPECT, name="code_suspect_lock_ends"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="code_ends_after_it_starts"),
            models.UniqueConstraint(
                fields=["lock", "cloud_password_id"],
                condition=Q(cloud_password_id__isnull=False),
                name="one_code_per_cloud_password",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} on {self.lock}"

    @property
    def masked_pin(self) -> str:
        return "(purged)" if self.pin_purged_at else "•" * len(self.pin or "")

    @property
    def cloud_marker(self) -> str:
        """What ends the password's name on the lock: finds a create whose reply was lost."""
        return f"#{self.operation_id.hex[:12]}"

    @property
    def cloud_name(self) -> str:
        return f"{self.label[:40]} {self.cloud_marker}"

    @property
    def is_settled(self) -> bool:
        return self.status in self.SETTLED

    @property
    def wanted_status(self) -> str:
        """The status the lock should end up in for what we want."""
        wanted: dict[str, str] = {
            self.Desired.ACTIVE: self.Status.SET,
            self.Desired.FROZEN: self.Status.FROZEN,
            self.Desired.REMOVED: self.Status.REMOVED,
        }
        return wanted[self.desired]

    @property
    def is_converged(self) -> bool:
        """Nothing more will happen without someone acting: the page can stop polling this code."""
        if self.status in (self.Status.FAILED, self.Status.EXPIRED) and self.desired != self.Desired.REMOVED:
            return True
        return self.status == self.wanted_status and not self.needs_modify

    @property
    def clock_change(self) -> Any:
        """The first day the property's clocks change (DST) while this code is still to be used, or None: the page
        says so, because a guest's "09:00" stays 09:00 local time across it (docs/product.md: time zones done right)."""
        zone = zoneinfo.ZoneInfo(self.time_zone)
        start = max(self.starts_at, timezone.now()).astimezone(zone)
        end = min(self.ends_at, start + timedelta(days=400)).astimezone(zone)
        offset = start.utcoffset()
        # Local noons: clocks change at night, so the first noon with another offset is the day of the change.
        noon = start.replace(hour=12, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
        step = timedelta(days=7)  # week by week, then day by day inside the week where the offset changed
        while True:
            later = noon + step
            moment = later.replace(tzinfo=zone)
            if moment.utcoffset() != offset:
                if step.days == 1:
                    return later.date() if moment - timedelta(hours=12) <= end else None
                step = timedelta(days=1)
                continue
            if moment > end:
                return None
            noon = later

    @property
    def schedule_text(self) -> str:
        """'Mon, Wed 09:00–12:00' for weekly codes, '' otherwise."""
        if self.kind != self.Kind.WEEKLY or self.schedule_start_minute is None or self.schedule_end_minute is None:
            return ""
        days = ", ".join(str(DAY_NAMES[d]) for d in sorted(self.schedule_days))
        return f"{days} {hours_text(self.schedule_start_minute, self.schedule_end_minute)}"


class LockOperation(SingleLineFields, FailureWords):
    """A one-off request to a lock that is not a managed code: an offline or dynamic password, an advanced
    password, clearing a hotel lock, syncing pending passwords. A worker carries it out; the page polls it."""

    class Kind(models.TextChoices):
        OFFLINE_PASSWORD = "offline", _("Offline password")
        DYNAMIC_PASSWORD = "dynamic", _("Dynamic password")
        ADVANCED_PASSWORD = "advanced", _("Advanced password")
        CLEAR_ALL = "clear_all", _("Clear all codes")
        SYNC_PENDING = "sync", _("Sync pending codes")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="lock_operations")
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=100, blank=True)
    single_line_fields = ("label",)
    params = models.JSONField(default=dict, blank=True)  # never a secret
    secret = EncryptedTextField(blank=True)  # the code it produced, or the PIN it sets
    result = models.JSONField(default=dict, blank=True)  # never a secret: rounded window, password id, phase
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # a worker took it: a run, not a wait in the queue
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["-created_at"]
        # The sweeper's look-ups (locks/operations.py `stalled_operations`): the few waiting or running, not the years
        # of finished ones.
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="requested"), name="operation_waiting"),
            models.Index(fields=["started_at"], condition=Q(status="running"), name="operation_running"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.lock}"

    @property
    def offline_window(self) -> tuple[Any, Any] | None:
        """When an offline password works: as the cloud answered (rounded to whole hours), else as we asked."""
        if self.kind != self.Kind.OFFLINE_PASSWORD:
            return None
        source = self.result if self.result.get("effective_time") else self.params
        start, end = source.get("effective_time"), source.get("invalid_time")
        if not start or not end:
            return None
        seconds = [int(t) // 1000 if int(t) > 10**11 else int(t) for t in (start, end)]  # the cloud may answer in ms
        return tuple(datetime.fromtimestamp(t, tz=dt_timezone.utc) for t in seconds)  # type: ignore[return-value]


# --- what happened at the door: events, their photos, alerts, remote-unlock requests (issue #6) ---------------


class LockEvent(models.Model):
    """One unlock or alert record of a lock, stored exactly once (`natural_key` is unique per lock).

    Synced from the cloud's open-logs / alarm-logs (v1.1 with media infos, v1.0 for legacy locks) or
    `records` (access-control devices), and linked where we can: a temporary password to our code, its
    guest and stay; a fingerprint, card, face or password to the lock user who owns it."""

    class Category(models.TextChoices):
        UNLOCK = "unlock", _("Unlock")
        ALARM = "alarm", _("Alert")

    # No index of their own: each is the first column of the indexes below (a table of millions of rows, written
    # by every sync, keeps the indexes it needs and no more).
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="lock_events", db_index=False)
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="events", db_index=False)
    # Where the lock was when it happened (a lock moved later keeps its history where it was): the unit's and the
    # property's timelines, and a front desk limited to some properties, read these columns through their own
    # indexes instead of joining every event to its lock and unit (a property's share of 10M events, sorted).
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    property = models.ForeignKey(
        "tenants.Property", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    category = models.CharField(max_length=10, choices=Category.choices)
    dp_code = models.CharField(max_length=64, blank=True)  # unlock_fingerprint, unlock_temporary, alarm_lock, ...
    dp_value = models.CharField(max_length=128, blank=True)  # the method's number, or the alarm's kind
    # What a person reads: "fingerprint", "temporary code", "wrong code", "pry", "duress", "doorbell", ...
    classification = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    natural_key = models.CharField(max_length=200)  # from the cloud's record: a re-sync finds it again
    actor_name = models.CharField(max_length=200, blank=True)  # the cloud's nick/unlock/user name
    cloud_user_id = models.CharField(max_length=64, blank=True)
    access_code = models.ForeignKey(
        "AccessCode", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    stay = models.ForeignKey(Stay, null=True, blank=True, on_delete=models.SET_NULL, related_name="lock_events")
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="lock_events")
    lock_user = models.ForeignKey("LockUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    # The fingerprint, card, face ... that opened, when we know it (by type and the lock's number for it).
    unlock_method = models.ForeignKey(
        "UnlockMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    raw = models.JSONField(default=dict, blank=True)  # the record as received, media keys removed
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation", "property")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lock", "natural_key"], name="one_event_per_record")]
        indexes = [
            # Keyset pagination of the timelines: (occurred_at, id) descending, per organisation and per lock.
            models.Index(fields=["organisation", "-occurred_at", "-id"], name="event_org_timeline"),
            models.Index(fields=["lock", "-occurred_at", "-id"], name="event_lock_timeline"),
            models.Index(fields=["unit", "-occurred_at", "-id"], name="event_unit_timeline"),
            models.Index(fields=["property", "-occurred_at", "-id"], name="event_property_timeline"),
            # The API's keyset pages (id order), per organisation and per lock: without them a page of a quiet lock
            # or a small organisation walks the whole table's primary key.
            models.Index(fields=["organisation", "id"], name="event_org_keyset"),
            models.Index(fields=["lock", "id"], name="event_lock_keyset"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} on {self.lock} at {local(self.occurred_at, self):%Y-%m-%d %H:%M %Z}"


class EventMedia(FailureWords):
    """A photo (or video) a lock captured with an event. Downloaded and decrypted on the `media` queue; the
    original and a thumbnail live in private storage, served only through a permission-checked view."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="event_media")
    event = models.ForeignKey(LockEvent, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)  # its place in the record's media list
    is_video = models.BooleanField(default=False)
    file_url = models.TextField()  # signed and short-lived: fetched soon after the sync
    file_key = EncryptedTextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    original = models.CharField(max_length=300, blank=True)  # path in private storage
    thumbnail = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=50, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped("organisation", "event__lock__unit__property")

    class Meta:
        ordering = ["event", "position"]
        constraints = [models.UniqueConstraint(fields=["event", "position"], name="one_media_per_slot")]
        # Photos whose job was lost or must be tried again (locks/media.py `due_media_ids`): the pending ones only.
        indexes = [models.Index(fields=["updated_at"], condition=Q(status="pending"), name="media_pending")]

    def __str__(self) -> str:
        return f"{'Video' if self.is_video else 'Photo'} of {self.event}"


# A stream read without failing since (a failing one has its own error and back-off): the alert scan's "is the safety
# net behind?" looks among these, through the partial index of the same condition.
CURSOR_READ_OK = Q(failures=0)


class SyncCursor(models.Model):
    """How far a lock's records have been read, per stream: a crashed sync resumes here."""

    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="sync_cursors")
    stream = models.CharField(max_length=20)  # open-logs | alarm-logs | records
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)  # failed syncs in a row: the back-off grows with it
    retry_at = models.DateTimeField(null=True, blank=True)  # not before then, after a failure

    objects = scoped("lock__organisation", "lock__unit__property")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lock", "stream"], name="one_cursor_per_stream")]
        indexes = [
            # The alert scan's "is the safety net behind?": streams read without failing, but too long ago. It walks
            # only those (none at steady state), not every lock's cursors each minute.
            models.Index(fields=["last_synced_at"], condition=CURSOR_READ_OK, name="cursor_read_ok"),
        ]

    def __str__(self) -> str:
        return f"{self.stream} of {self.lock}"


class Alert(models.Model):
    """Something a person should look at, raised once per incident (`dedup_key`) and counted after that."""

    class Kind(models.TextChoices):
        WRONG_CODE_BURST = "wrong_code_burst", _("Wrong codes tried")
        TAMPER = "tamper", _("Pry or tamper")
        DURESS = "duress", _("Duress unlock")
        LOW_BATTERY = "low_battery", _("Low battery")
        OFFLINE = "offline", _("Lock offline")
        CODE_NOT_SET = "code_not_set", _("Code failed to reach the lock")
        CODE_NOT_REMOVED = "code_not_removed", _("Code failed to be removed")
        CLOUD_REFUSED = "cloud_refused", _("Cloud account refused")
        EVENTS_BEHIND = "events_behind", _("Event sync behind")
        DOORBELL = "doorbell", _("Doorbell")
        # Raised by bookings (calendar feeds, the arrival guarantee, the guest page), on a lock of the unit when it
        # has one so that a desk limited to the property sees them.
        FEED_FAILING = "feed_failing", _("Calendar feed failing")
        DOUBLE_BOOKING = "double_booking", _("Double booking")
        STAY_NEEDS_ATTENTION = "stay_attention", _("Stay needs a person")
        ARRIVAL_AT_RISK = "arrival_at_risk", _("Arrival at risk")
        DOOR_DID_NOT_OPEN = "door_not_open", _("Guest says the door did not open")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="alerts")
    lock = models.ForeignKey(Lock, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    dedup_key = models.CharField(max_length=200)
    # English with `%(name)s` placeholders, filled from `message_args` in the reader's language (`text`); rows
    # written before the alerts spoke other languages hold finished English and no arguments (None).
    message = models.CharField(max_length=300)
    message_args = models.JSONField(null=True, blank=True)
    event = models.ForeignKey(LockEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A sender's claim on the e-mail; one that died mid-send lets it lapse, and the scan sends again.
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [models.UniqueConstraint(fields=["organisation", "dedup_key"], name="one_alert_per_incident")]
        indexes = [
            models.Index(fields=["organisation", "resolved_at", "-last_seen_at"]),
            # The scans' look-ups of open incidents (of some kinds), whatever number were resolved over the years.
            models.Index(fields=["kind"], condition=Q(resolved_at__isnull=True), name="alert_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.english_text}"

    @property
    def text(self) -> str:
        """The message in the active language (the page's, or the e-mail's recipient's)."""
        return self.message if self.message_args is None else self.words.text

    @property
    def english_text(self) -> str:
        """For machines and records (API, webhooks, audit), which speak English whoever reads them."""
        return self.message if self.message_args is None else self.words.english

    @property
    def words(self) -> Words:
        return Words.from_json({"t": self.message, "a": self.message_args})


class RemoteUnlockRequest(FailureWords):
    """A doorbell or remote-unlock request from the lock, with its photo: someone approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        APPROVING = "approving", _("Opening")
        APPROVED = "approved", _("Opened")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="remote_unlock_requests")
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="remote_unlock_requests")
    event = models.OneToOneField(
        LockEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="remote_unlock_request"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the open-door (or cancel) call was claimed by a worker: a door is never opened twice for one request.
    sent_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["organisation", "status", "-requested_at"]),
            # The periodic expiry (locks/remote.py `expire_requests`): requests still waiting or opening, not every
            # doorbell ever rung.
            models.Index(
                fields=["requested_at"], condition=Q(status__in=["pending", "approving"]), name="remote_unlock_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Remote unlock at {self.lock} ({self.get_status_display()})"


# --- lock users and their unlock methods (issue #6) -----------------------------------------------------------


class LockUser(SingleLineFields, FailureWords):
    """A user registered on the lock (the cloud's device user), optionally one of our guests."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="lock_users")
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="lock_users")
    cloud_user_id = models.CharField(max_length=64, blank=True)  # empty until the cloud has created it
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, blank=True)  # the cloud's user type/role (admin, normal, ...)
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="lock_users")
    valid_from = models.DateTimeField(null=True, blank=True)  # access-control devices: validity
    valid_until = models.DateTimeField(null=True, blank=True)
    # Access-control and keepalive devices: [{"days": [0 = Monday ...], "start_minute", "end_minute"}]
    schedule = models.JSONField(default=list, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)  # gone from the cloud (synced) or deleted here
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A change on its way to the cloud ({"action": "add" | "modify" | "delete", ...}); empty once the cloud has it.
    pending = models.JSONField(default=dict, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # an add was sent: a retry looks for it before re-adding

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lock", "cloud_user_id"], condition=~Q(cloud_user_id=""), name="one_lock_user_per_cloud_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.lock}"


# Each kind of unlock method (port.METHOD_TYPES), as the pages name it.
UNLOCK_TYPE_LABELS = {
    "fingerprint": _("Fingerprint"),
    "card": _("Card"),
    "face": _("Face"),
    "password": _("Password"),
    "remoteControl": _("Remote control"),
    "hand": _("Palm"),
    "finger_vein": _("Finger vein"),
}


class UnlockMethod(SingleLineFields, FailureWords):
    """A fingerprint, card, face, password ... enrolled on the lock, assigned to a lock user or not yet."""

    class Status(models.TextChoices):
        ENROLLING = "enrolling", _("Enrolling")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        DELETING = "deleting", _("Deleting")
        DELETED = "deleted", _("Deleted")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="unlock_methods")
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="unlock_methods")
    lock_user = models.ForeignKey(
        LockUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="unlock_methods"
    )
    unlock_type = models.CharField(max_length=30)  # fingerprint | card | password | face | ... (port.METHOD_TYPES)
    unlock_sn = models.IntegerField(null=True, blank=True)  # the lock's number for it, once enrolled
    name = models.CharField(max_length=100, blank=True)
    duress = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ENROLLING)
    progress = models.PositiveSmallIntegerField(default=0)  # enrollment progress, 0..100
    failure_reason = models.CharField(max_length=300, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Enrollment: presses in all and still to go (from the doorUnlockMethodStatus pushes), when the entry call
    # went out (a retry that meets "already enrolling" is then our own), and the numbers the user had before.
    steps_total = models.PositiveSmallIntegerField(default=0)
    steps_left = models.PositiveSmallIntegerField(default=0)
    entry_sent_at = models.DateTimeField(null=True, blank=True)
    known_numbers = models.JSONField(default=list, blank=True)
    # A rename, duress, assign or delete on its way to the cloud; empty once the cloud has it.
    pending = models.JSONField(default=dict, blank=True)

    objects = scoped("organisation", "lock__unit__property")

    class Meta:
        ordering = ["unlock_type", "unlock_sn"]
        constraints = [
            models.UniqueConstraint(
                fields=["lock", "unlock_type", "unlock_sn"],
                condition=Q(unlock_sn__isnull=False),
                name="one_method_per_lock_number",
            )
        ]
        # The enrollment sweeper's look-up: the few enrolling now, not every method ever enrolled.
        indexes = [models.Index(fields=["id"], condition=Q(status="enrolling"), name="method_enrolling")]

    def __str__(self) -> str:
        return f"{self.name or self.unlock_type} on {self.lock}"

    @property
    def type_label(self) -> str:
        return str(UNLOCK_TYPE_LABELS.get(self.unlock_type, self.unlock_type))
