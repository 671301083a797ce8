"""Who owns what: organisations and their members, properties, units, guests and stays."""

from __future__ import annotations

import unicodedata
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    FRONT_DESK = "front_desk", "Front desk"
    VIEWER = "viewer", "Viewer"


# Who may issue, change and remove codes, and see their PINs (the front desk only for its properties).
CODE_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.FRONT_DESK})
# Who may set the organisation up (cloud projects, properties) and acknowledge its alerts.
MANAGER_ROLES = frozenset({Role.OWNER, Role.MANAGER})


class ScopedQuerySet(models.QuerySet):
    """Rows reachable from an organisation; `org_path` names the lookup from the model to it."""

    org_path = "organisation"

    def for_organisation(self, organisation: Organisation | int) -> ScopedQuerySet:
        return self.filter(**{self.org_path or "pk": organisation})

    def for_user(self, user: Any) -> ScopedQuerySet:
        """Only what the user's memberships reach; superusers reach everything."""
        if getattr(user, "is_superuser", False):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        prefix = f"{self.org_path}__" if self.org_path else ""
        return self.filter(**{f"{prefix}memberships__user": user}).distinct()


def scoped(path: str) -> Any:
    """A manager whose queryset scopes through `path` (e.g. "property__organisation")."""
    queryset_class = type(f"ScopedQuerySet_{path}", (ScopedQuerySet,), {"org_path": path})
    return queryset_class.as_manager()


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Amsterdam.")


# Line breaks, tabs and every other control character (Unicode Cc, plus the line and paragraph separators). Names
# end up in e-mail subjects, outbox files and one-line displays, where a line break starts something else.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in value)


def validate_single_line(value: Any) -> None:
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(
            "Use one line of plain text, without line breaks, tabs or other control characters.",
            code="control_characters",
        )


def single_line(value: str) -> str:
    """A name from elsewhere (the Tuya cloud, rows saved before names were checked) made fit for one line: every
    control character becomes a space."""
    return "".join(" " if unicodedata.category(char) in _CONTROL_CATEGORIES else char for char in value)


class SingleLineFields:
    """Model mixin: these free-text fields refuse control characters in full_clean (model forms, the admin and the
    services, which clean what they create), beside each field's own validators. A mixin rather than field
    validators so that the rule is one place and needs no migration."""

    single_line_fields: tuple[str, ...] = ("name",)

    def clean_fields(self, exclude: Any = None) -> None:
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)  # type: ignore[misc]
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in self.single_line_fields:
            if (exclude and name in exclude) or name in errors:
                continue
            try:
                validate_single_line(getattr(self, name))
            except ValidationError as error:
                errors[name] = error.error_list
        if errors:
            raise ValidationError(errors)


class Organisation(SingleLineFields, models.Model):
    """A landlord's business or a hotel: everything else belongs to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    single_line_fields = ("name", "slug")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    # A front desk may be limited to some properties; empty means all of the organisation's.
    properties = models.ManyToManyField("Property", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.organisation}"


class Property(SingleLineFields, models.Model):
    class Kind(models.TextChoices):
        HOTEL = "hotel", "Hotel"
        RENTAL = "rental", "Rental"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RENTAL)
    address = models.CharField(max_length=300, blank=True)
    single_line_fields = ("name", "address")
    # Codes, schedules and stays are in this zone; Tuya gets it with every periodic password.
    time_zone = models.CharField(max_length=64, default="Europe/Amsterdam", validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Unit(SingleLineFields, models.Model):
    """A flat, a house or a hotel room."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="units")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("property__organisation")

    class Meta:
        ordering = ["property__name", "name"]
        constraints = [models.UniqueConstraint(fields=["property", "name"], name="unit_name_unique_per_property")]

    def __str__(self) -> str:
        return f"{self.property} · {self.name}"


class Guest(SingleLineFields, models.Model):
    """A tenant, a hotel guest, a cleaner or a contractor: anyone who gets a door code."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    single_line_fields = ("name", "phone")  # the phone number is an outbox file's To:
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return self.name


class Stay(models.Model):
    """A hotel stay or a lease: its window drives the guest's door codes."""

    class Kind(models.TextChoices):
        HOTEL = "hotel", "Hotel stay"
        LONG_TERM = "long_term", "Long-term lease"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        CHECKED_OUT = "checked_out", "Checked out"
        CANCELLED = "cancelled", "Cancelled"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="stays")
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="stays")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HOTEL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    check_in = models.DateTimeField()
    check_out = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The front desk's check-in form carries a one-time token: a second submit of the same form finds this
    # stay instead of booking another (unique, so two racing requests cannot both book).
    booking_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = scoped("unit__property__organisation")

    class Meta:
        ordering = ["-check_in"]
        indexes = [models.Index(fields=["unit", "check_in"]), models.Index(fields=["status", "check_in"])]
        constraints = [
            models.CheckConstraint(condition=Q(check_out__gt=models.F("check_in")), name="stay_ends_after_it_starts")
        ]

    def __str__(self) -> str:
        return f"{self.guest} in {self.unit} ({self.check_in:%Y-%m-%d} → {self.check_out:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.BOOKED, self.Status.CHECKED_IN)
