"""Bookings that arrive by themselves: calendar feeds per unit and the stays they made, the arrival guarantee,
guest messages, the guest page and each unit's exported calendar.

This app sits above `tenants.services` and locks' services (it books, changes and cancels stays and asks for
fallback codes through them); nothing below imports it (docs/architecture.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from locks import words
from locks.fields import EncryptedTextField
from locks.models import LockOperation
from tenants.models import Organisation, Property, SingleLineFields, Stay, Unit, scoped


class BookingPolicy(models.Model):
    """A property's timings for stays that arrive by themselves. Made with the defaults on first use."""

    property = models.OneToOneField(Property, on_delete=models.CASCADE, primary_key=True, related_name="booking_policy")
    # Hours before check-in at which each upcoming stay's codes are checked on the locks (the last one issues the
    # fallback when a code is still not confirmed).
    arrival_check_hours = models.JSONField(default=list)  # e.g. [24, 2]; empty: the defaults
    code_message_hours = models.PositiveIntegerField(default=24)  # the "your code" message, hours before check-in
    checkout_reminder_hours = models.PositiveIntegerField(null=True, blank=True, default=2)  # None: not sent
    feed_alert_after_hours = models.PositiveIntegerField(default=6)  # a feed failing this long raises an alert

    objects = scoped("property__organisation", "property")

    DEFAULT_ARRIVAL_CHECK_HOURS = (24, 2)

    def __str__(self) -> str:
        return f"Booking policy of {self.property}"

    def check_hours(self) -> list[int]:
        """The check times, latest first (24 then 2): the last entry is the last check."""
        hours = self.arrival_check_hours or list(self.DEFAULT_ARRIVAL_CHECK_HOURS)
        return sorted({int(hour) for hour in hours}, reverse=True)


class CalendarFeed(SingleLineFields, models.Model):
    """One iCalendar URL of a unit (an Airbnb, Booking.com or Vrbo export link, a public Google Calendar, any .ics)
    that books, changes and cancels the unit's stays."""

    class Blocked(models.TextChoices):
        IGNORE = "ignore", _("Ignore them")
        BLOCK = "block", _("Book them as owner blocks, without codes")
        # Booking.com's export says "CLOSED - Not available" for every reservation: only this books its guests.
        BOOK = "book", _("Book them as guests (Booking.com marks every reservation this way)")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="calendar_feeds")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="calendar_feeds")
    name = models.CharField(max_length=100, blank=True)  # "Airbnb"; the host name of the URL when blank
    single_line_fields = ("name",)
    # The export links carry a secret of the channel's (anyone with it reads the bookings): encrypted at rest.
    url = EncryptedTextField()
    every_minutes = models.PositiveIntegerField(default=15)
    blocked = models.CharField(max_length=10, choices=Blocked.choices, default=Blocked.IGNORE)
    enabled = models.BooleanField(default=True)
    # Conditional GET: what the server said last time.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)  # the last body read: the same body writes nothing
    next_sync_at = models.DateTimeField(null=True, blank=True)
    sync_claimed_at = models.DateTimeField(null=True, blank=True)  # a worker's lease on this feed's sync
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)  # in English; `error_text` in the reader's language
    last_error_words = models.JSONField(null=True, blank=True)  # locks/words.py; None on rows from before
    events_found = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation", "unit__property")

    class Meta:
        ordering = ["unit", "name", "pk"]
        indexes = [
            # The periodic look-up of feeds that are due: only enabled feeds, in due order.
            models.Index(fields=["next_sync_at"], condition=Q(enabled=True), name="calendar_feed_due"),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Calendar feed'} of {self.unit}"

    @property
    def error_text(self) -> str:
        return words.shown(self.last_error_words, self.last_error)


class FeedEvent(models.Model):
    """One event (by its UID) of one feed, and what it did: the stay it booked, or why it booked none."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation", _("Reservation")
        BLOCKED = "blocked", _("Not available")

    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")  # its stay follows it
        CONFLICT = "conflict", _("Overlaps another booking")  # a double booking across feeds: not booked
        IGNORED = "ignored", _("Ignored")  # a blocked entry the feed ignores, or one that ended before it was seen
        REFUSED = "refused", _("Not booked")  # the stay could not be booked (problem says why)
        CANCELLED = "cancelled", _("Cancelled")  # gone from the feed or STATUS:CANCELLED; its future stay cancelled
        NEEDS_ATTENTION = "attention", _("Needs a person")  # gone or cancelled while the guest is in: never cut short

    feed = models.ForeignKey(CalendarFeed, on_delete=models.CASCADE, related_name="events")
    uid = models.CharField(max_length=500)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RESERVATION)
    summary = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    stay = models.ForeignKey(Stay, null=True, blank=True, on_delete=models.SET_NULL, related_name="feed_events")
    state = models.CharField(max_length=10, choices=State.choices)
    problem = models.CharField(max_length=300, blank=True)  # in English; `problem_text` in the reader's language
    problem_words = models.JSONField(null=True, blank=True)  # locks/words.py; None on rows from before
    # Airbnb's export has no contact, only "Phone Number (Last 4 Digits)": what the unit's arrival link asks for.
    phone_last_digits = models.CharField(max_length=4, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["feed", "uid"], name="one_feed_event_per_uid")]

    def __str__(self) -> str:
        return f"{self.summary or self.uid} ({self.get_state_display()})"

    @property
    def problem_text(self) -> str:
        return words.shown(self.problem_words, self.problem)


class Arrival(models.Model):
    """The arrival guarantee of one upcoming stay: its codes confirmed on every lock of the unit before the guest
    arrives, sent again when not, and a fallback issued at the last check when still not."""

    class State(models.TextChoices):
        PENDING = "pending", _("Not checked yet")
        READY = "ready", _("Ready")
        AT_RISK = "at_risk", _("At risk")
        FALLBACK = "fallback", _("On fallback")

    stay = models.OneToOneField(Stay, on_delete=models.CASCADE, primary_key=True, related_name="arrival")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    checks_done = models.JSONField(default=list)  # the hours-before-check-in already checked, e.g. [24]
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)  # why at risk, in English; `problem_text` translated
    problem_words = models.JSONField(null=True, blank=True)  # locks/words.py; None on rows from before
    # The offline passwords issued as the fallback, one per lock that supports them.
    fallback_operations = models.ManyToManyField(LockOperation, blank=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="arrival_due"),
        ]

    def __str__(self) -> str:
        return f"Arrival of {self.stay_id}: {self.get_state_display()}"

    @property
    def problem_text(self) -> str:
        return words.shown(self.problem_words, self.problem)


class MessageTemplate(models.Model):
    """A property's words for one kind of guest message in one language. `{placeholders}` are filled in."""

    class Kind(models.TextChoices):
        CODE = "code", _("Your code")
        CHECKOUT_REMINDER = "checkout", _("Check-out reminder")

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    objects = scoped("property__organisation", "property")

    class Meta:
        ordering = ["property", "kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["property", "kind", "language"], name="one_template_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language}) for {self.property}"


class StayMessage(models.Model):
    """A message sent (or tried) to a stay's guest. The automatic kinds are sent once per stay, never twice."""

    class Kind(models.TextChoices):
        CODE = "code", _("Your code")
        CHECKOUT_REMINDER = "checkout", _("Check-out reminder")

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")  # claimed by a worker; a lapsed claim is retried
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        NO_CONTACT = "no_contact", _("No e-mail or phone")

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    automatic = models.BooleanField(default=True)  # False: sent again by a person from the stay page
    channel = models.CharField(max_length=10, blank=True)  # "email" or "sms"
    to = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    error = models.CharField(max_length=300, blank=True)  # the failure's type and words; never the body
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Never twice: one automatic message of each kind per stay (a retry updates it).
            models.UniqueConstraint(
                fields=["stay", "kind"], condition=Q(automatic=True), name="one_automatic_message_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to or 'nobody'} ({self.get_status_display()})"


class GuestPass(models.Model):
    """A stay's guest page link: an unguessable token (stored hashed, and encrypted so the desk can show the link
    again), valid from a day before check-in to check-out, revoked on cancel or check-out."""

    stay = models.OneToOneField(Stay, on_delete=models.CASCADE, primary_key=True, related_name="guest_pass")
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Guest page of stay {self.stay_id}"


class UnitCalendarExport(models.Model):
    """A unit's stays as an iCalendar feed at a token URL, for cleaners and channel managers (no contact details,
    no PINs). A new token replaces the old one."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, primary_key=True, related_name="calendar_export")
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("unit__property__organisation", "unit__property")

    def __str__(self) -> str:
        return f"Calendar export of {self.unit}"


class UnitArrivalLink(models.Model):
    """A unit's arrival link (`/u/<token>/`), pasted once into a channel's check-in instructions: the guest types
    the last 4 digits of their phone and is sent on to their own stay's guest page. Stored like a guest pass (hashed
    to look up, encrypted to show again); a new token replaces the old one, revoking stops it."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, primary_key=True, related_name="arrival_link")
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = scoped("unit__property__organisation", "unit__property")

    def __str__(self) -> str:
        return f"Arrival link of {self.unit}"
