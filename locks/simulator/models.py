"""State of the simulated cloud and of the simulated locks. Its own tables; survives restarts."""

from __future__ import annotations

from django.db import models

from locks.simulator import conf
from locks.simulator.kinds import KIND_CHOICES


class SimProject(models.Model):
    """A cloud project besides the configured one (conf.access_id()): created through the world API (`POST
    /_sim/projects`, e.g. one per demo organisation) or by tests (the signing vectors' example)."""

    access_id = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.access_id


class SimToken(models.Model):
    access_id = models.CharField(max_length=64, db_index=True)
    uid = models.CharField(max_length=64)
    access_token = models.CharField(max_length=64, unique=True)
    refresh_token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    # Set once the refresh token has been spent (or a fault expired the pair): the pair is dead from then on.
    used = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.access_id} token …{self.access_token[-4:]}"


class SimDevice(models.Model):
    id = models.CharField(max_length=32, primary_key=True)
    # The cloud project the lock is linked to: other projects get 1106 "permission deny" for it, as on Tuya.
    access_id = models.CharField(max_length=64, default=conf.access_id, db_index=True)
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    name = models.CharField(max_length=100)
    online = models.BooleanField(default=True)
    battery = models.PositiveSmallIntegerField(default=100)
    local_key = models.CharField(max_length=16)
    time_zone = models.CharField(max_length=64, default="Europe/Amsterdam")  # IANA name
    product_id = models.CharField(max_length=32)
    uuid = models.CharField(max_length=32)
    owner_id = models.CharField(max_length=32, default="")
    ip = models.CharField(max_length=45, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_issue_password_at = models.DateTimeField(null=True, blank=True)
    # The remote-unlock switches (remote-unlock/config); Tuya ships locks with both on.
    remote_unlock_with_pwd = models.BooleanField(default=True)
    remote_unlock_without_pwd = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class SimTicket(models.Model):
    ticket_id = models.CharField(max_length=16, unique=True)
    key = models.CharField(max_length=16)  # K, the AES-128 key the client encrypts the PIN with
    access_id = models.CharField(max_length=64)
    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="tickets")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.ticket_id


class SimPassword(models.Model):
    """A temporary password: the cloud's record plus what the lock itself holds.

    pin/times/schedule/frozen are what the lock applies; a change in flight waits in `op`/`op_data` until the
    simulated gateway or lock confirms it (see locks.simulator.delivery).
    """

    class Lifecycle(models.TextChoices):
        ADDING = "adding"
        ACTIVE = "active"  # on the lock
        FAILED = "failed"  # never reached the lock
        DELETED = "deleted"

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="passwords")
    password_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    pin = models.CharField(max_length=16)
    effective_time = models.BigIntegerField()  # seconds
    invalid_time = models.BigIntegerField()
    type = models.PositiveSmallIntegerField(default=0)  # 0 multiple use, 1 once
    phone = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    schedule_list = models.JSONField(default=list, blank=True)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices, default=Lifecycle.ADDING)
    frozen = models.BooleanField(default=False)
    used = models.BooleanField(default=False)  # a one-time password that has opened the door
    sn = models.PositiveIntegerField(null=True, blank=True)  # slot on the lock
    delivery_status = models.PositiveSmallIntegerField(default=1)
    op = models.CharField(max_length=10, blank=True)  # add | modify | freeze | unfreeze | delete, "" when idle
    last_op = models.CharField(max_length=10, default="add")
    op_data = models.JSONField(default=dict, blank=True)
    op_due_at = models.DateTimeField(null=True, blank=True)  # next delivery attempt; None = waiting for online
    op_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.password_id} on {self.device_id}"


class SimEvent(models.Model):
    """Something that happened at a lock (keypad unlock or failed attempt), for the log endpoints later."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)  # unlock_temporary | wrong_password
    password_id = models.BigIntegerField(null=True, blank=True)
    sn = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    # The log fields (locks.simulator.world): `kind` is the DP code the lock reports (unlock_* | alarm_lock |
    # hijack | doorbell); a bare "wrong_password" is one failed keypad attempt, not itself a log entry.
    dp_value = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey("SimUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    method = models.ForeignKey("SimUnlockMethod", null=True, blank=True, on_delete=models.SET_NULL)
    unlock_name = models.CharField(max_length=100, blank=True)
    media = models.ForeignKey("SimMedia", null=True, blank=True, on_delete=models.SET_NULL)
    # False while the entry exists only in the lock's memory (it happened while the lock was offline); set when
    # the lock is back online and uploads it. created_at stays the time it happened.
    uploaded = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.device_id}"


class SimFault(models.Model):
    """A failure to inject into matching API calls, until `remaining` runs out (None = until cleared)."""

    class Kind(models.TextChoices):
        LATENCY = "latency"
        HTTP_500 = "http_500"
        TUYA_CODE = "tuya_code"
        LOST_REPLY = "lost_reply"

    endpoint = models.CharField(max_length=200, default="*")  # route name, "METHOD /template", or "*"
    device_id = models.CharField(max_length=32, blank=True)  # empty = any device
    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.IntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    remaining = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} on {self.endpoint}"


class SimUser(models.Model):
    """A person the lock knows: a home member (from the Tuya app) or a device user (added through the API)."""

    class State(models.TextChoices):
        ACTIVE = "active"
        ABSENT = "absent"  # removed from the home, still held by the lock until delete-users-issue

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=20, unique=True)
    home = models.BooleanField(default=False)  # user_type 1 (home user) vs 2 (device user) in the method APIs
    user_type = models.PositiveSmallIntegerField(default=20)  # 50 owner, 10 administrator, 20 common user
    nick_name = models.CharField(max_length=100)
    sex = models.PositiveSmallIntegerField(default=0)
    birthday = models.BigIntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    weight = models.IntegerField(null=True, blank=True)
    contact = models.CharField(max_length=100, blank=True)
    avatar_url = models.CharField(max_length=300, blank=True)
    uid = models.CharField(max_length=64, blank=True)
    lock_user_id = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    permanent = models.BooleanField(default=True)
    effective_time = models.BigIntegerField(null=True, blank=True)  # seconds
    expired_time = models.BigIntegerField(null=True, blank=True)
    schedule_details = models.JSONField(default=list, blank=True)
    schedule_operate = models.CharField(max_length=10, default="ADD")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["lock_user_id", "id"]

    def __str__(self) -> str:
        return f"{self.nick_name} ({self.user_id}) on {self.device_id}"


class SimUnlockMethod(models.Model):
    """A fingerprint, card, face, password or remote enrolled on a lock; `in_cloud` False until a sync."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="methods")
    opmode_id = models.BigIntegerField(unique=True)
    user = models.ForeignKey(SimUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="methods")
    dp_code = models.CharField(max_length=40)  # unlock_fingerprint | unlock_card | unlock_password | …
    unlock_sn = models.PositiveIntegerField()
    name = models.CharField(max_length=100, blank=True)
    pin = models.CharField(max_length=16, blank=True)  # unlock_password only
    hijack = models.BooleanField(default=False)
    photo = models.BooleanField(default=False)
    voice = models.BooleanField(default=False)
    in_cloud = models.BooleanField(default=True)
    ever_allocated = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["dp_code", "unlock_sn"]
        constraints = [
            models.UniqueConstraint(fields=["device", "dp_code", "unlock_sn"], name="sim_method_unique_sn"),
        ]

    def __str__(self) -> str:
        return f"{self.dp_code}-{self.unlock_sn} on {self.device_id}"


class SimEnrollment(models.Model):
    """An enrollment started by door-lock/actions/entry, advanced by the world (a finger pressed N times)."""

    class State(models.TextChoices):
        ACTIVE = "active"
        DONE = "done"
        CANCELLED = "cancelled"

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(SimUser, on_delete=models.CASCADE, related_name="enrollments")
    dp_code = models.CharField(max_length=40)
    total = models.PositiveSmallIntegerField()
    remaining = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    pin = models.CharField(max_length=16, blank=True)  # a password's first entry, to compare the confirmation
    messages = models.JSONField(default=list)  # the doorUnlockMethodStatus pushes, in order
    method = models.ForeignKey(SimUnlockMethod, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.dp_code} enrollment on {self.device_id}"


class SimMedia(models.Model):
    """A captured photo, stored encrypted exactly as served (spec media format), under an unguessable token."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="media")
    token = models.CharField(max_length=64, unique=True)
    file_key = models.CharField(max_length=16)
    data = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"media {self.pk} of {self.device_id}"


class SimMediaView(models.Model):
    """One counted video view (media-view-times counts them per lock)."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="media_views")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"view of {self.device_id} media"


class SimOfflinePassword(models.Model):
    """An offline password the cloud computed; the lock accepts it with no network (see offline.py)."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="offline_passwords")
    password_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10)  # multiple | once | clear_one | clear_all
    code = models.CharField(max_length=16)
    effective_time = models.BigIntegerField()  # seconds, rounded down to the hour
    invalid_time = models.BigIntegerField()
    target_password_id = models.BigIntegerField(null=True, blank=True)  # what a clear_one code clears
    used = models.BooleanField(default=False)  # a one-time or clearing code that has been typed
    revoked = models.BooleanField(default=False)  # cleared at the keypad by a clearing code
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"offline {self.kind} {self.password_id} on {self.device_id}"


class SimAdvancedPassword(models.Model):
    """A hotel lock's admin or emergency password; phase 1 configuring, 2 done, 3 failed."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="advanced_passwords")
    advanced_type = models.CharField(max_length=10)  # admin | emergency
    pin = models.CharField(max_length=16)
    phase = models.PositiveSmallIntegerField(default=1)
    set_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "advanced_type"], name="sim_one_advanced_per_type")]

    def __str__(self) -> str:
        return f"{self.advanced_type} password on {self.device_id}"


class SimRemoteRequest(models.Model):
    """Someone at the door asked to be let in; the lock stays awake for the countdown (DP unlock_request)."""

    device = models.ForeignKey(SimDevice, on_delete=models.CASCADE, related_name="remote_requests")
    status = models.CharField(max_length=10, default="pending")  # pending | approved | rejected | cancelled | expired
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"remote unlock request on {self.device_id} ({self.status})"


class SimPushMessage(models.Model):
    """One message of a project's message-service topic (locks.simulator.push): kept until the consumer acks it."""

    access_id = models.CharField(max_length=64)
    protocol = models.PositiveSmallIntegerField()  # 4 status report, 20 device event
    data = models.JSONField()  # the message before encryption
    created_at = models.DateTimeField()
    deliveries = models.PositiveIntegerField(default=0)  # sent this many times (Pulsar's redeliveryCount + 1)
    tamper = models.CharField(max_length=10, blank=True)  # "sign": sent with a wrong sign (tests of the consumer)
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["access_id", "id"], condition=models.Q(acked_at=None), name="sim_push_unacked"),
            models.Index(fields=["acked_at"], condition=models.Q(acked_at__isnull=False), name="sim_push_acked"),
        ]

    def __str__(self) -> str:
        return f"push {self.pk} to {self.access_id}"


class SimPushCursor(models.Model):
    """How far the message service has read the simulator's tables for one project's subscription.

    Created when the project's consumer first subscribes (like a Pulsar subscription, it sees what happens from
    then on). An event an offline lock keeps in its memory waits in `held` until the lock uploads it.
    """

    access_id = models.CharField(max_length=64, unique=True)
    event_pk = models.BigIntegerField(default=0)
    held = models.JSONField(default=list)  # ids of events read but not yet uploaded by their (offline) lock
    enrollment_pk = models.BigIntegerField(default=0)
    enrollments = models.JSONField(default=dict)  # enrollment id -> messages pushed, while it may still grow
    devices = models.JSONField(default=dict)  # device id -> the online state last pushed
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"push cursor of {self.access_id}"
