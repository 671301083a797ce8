"""Who owns what: organisations and their members, properties, units, guests and stays."""

from __future__ import annotations

import datetime
import unicodedata
import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # settings.AUTH_USER_MODEL


class Role(models.TextChoices):
    OWNER = "owner", pgettext_lazy("role", "Owner")
    MANAGER = "manager", pgettext_lazy("role", "Manager")
    FRONT_DESK = "front_desk", pgettext_lazy("role", "Front desk")
    VIEWER = "viewer", pgettext_lazy("role", "Viewer")


# Who may issue, change and remove codes, and see their PINs (the front desk only for its properties).
CODE_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.FRONT_DESK})
# Who may set the organisation up (properties, units, which door a lock is on) and acknowledge its alerts.
MANAGER_ROLES = frozenset({Role.OWNER, Role.MANAGER})
# Who may connect cloud projects, change their credentials and import their locks (dashboard and admin alike).
CLOUD_ROLES = frozenset({Role.OWNER})


# Which idle timeout each role has (owners and managers share one), and what an organisation may set it to.
IDLE_GROUP: dict[str, str] = {
    Role.OWNER: "manager",
    Role.MANAGER: "manager",
    Role.FRONT_DESK: "front_desk",
    Role.VIEWER: "viewer",
}
IDLE_MINUTES_VALIDATORS = [
    MinValueValidator(settings.SESSION_IDLE_MINUTES_RANGE[0]),
    MaxValueValidator(settings.SESSION_IDLE_MINUTES_RANGE[1]),
]


_M = TypeVar("_M", bound=models.Model)

# The user of a request: signed in, or the anonymous user.
RequestUser: TypeAlias = AbstractBaseUser | AnonymousUser
# Who did something: the request's user, an API key (a script acting for its organisation), or None for the app
# itself (jobs, the sweeper).
Actor: TypeAlias = "RequestUser | ApiKey | None"


def user_of(actor: Actor) -> User | None:
    """The user row behind an actor, for a foreign key or a lookup: None for the app itself, an API key, and an
    anonymous visitor (whom the views turn away before any service runs)."""
    return actor if isinstance(actor, get_user_model()) else None


class Reach(Protocol):
    """Who reads through the scoped managers: a membership or an API key. One organisation, and possibly only some
    of its properties; `user_id` is whose own rows a limited reach also sees (an API key: nobody's)."""

    @property
    def organisation_id(self) -> int: ...

    @property
    def user_id(self) -> int | None: ...

    @property
    def limited_property_ids(self) -> frozenset[int] | None: ...


def lock_in_reach(reach: Reach, lock: Any) -> bool:
    """Whether a lock is within a member's or a key's reach: its organisation, and, when limited to some
    properties, a lock on the door of one of them (a lock on no door is on none)."""
    if lock.organisation_id != reach.organisation_id:
        return False
    limited = reach.limited_property_ids
    return limited is None or (lock.unit_id is not None and lock.unit.property_id in limited)


class ScopedQuerySet(models.QuerySet[_M]):
    """Rows reachable from an organisation; `org_path` names the lookup from the model to it, `property_path` the
    one to the property a row belongs to (None: the row belongs to the whole organisation, not to a property).

    The one place the front desk's property limit is applied (`Membership.limited_property_ids`): every view,
    fragment, admin page and download reads through `for_membership` or `for_user`."""

    org_path = "organisation"
    property_path: str | None = None

    def for_organisation(self, organisation: Organisation | int) -> ScopedQuerySet[_M]:
        return self.filter(**{self.org_path or "pk": organisation})

    def for_membership(self, membership: Reach) -> ScopedQuerySet[_M]:
        """What one member (or API key) sees of their organisation: a limited front desk only its properties' rows
        (a lock on no door, and what hangs off it, belongs to no property it was given)."""
        return self.filter(self._reach(membership))

    def for_user(self, user: RequestUser | ApiKey) -> ScopedQuerySet[_M]:
        """Only what the user's memberships reach (an API key: its organisation, or its properties there);
        superusers reach everything."""
        if isinstance(user, ApiKey):
            return self.for_membership(user)
        if getattr(user, "is_superuser", False):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        reach = Q(pk__in=[])
        for membership in Membership.objects.filter(user=user_of(user)).prefetch_related("properties"):
            reach |= self._reach(membership)
        return self.filter(reach)

    def _reach(self, membership: Reach) -> Q:
        reach = Q(**{self.org_path or "pk": membership.organisation_id})
        limited = membership.limited_property_ids
        if limited is not None and self.property_path is not None:
            reach &= Q(**{f"{self.property_path}__in": sorted(limited)})
        return reach


class ScopedManager(models.Manager[_M]):
    """The default manager of organisation-owned models (made by `scoped`)."""

    _queryset_class = ScopedQuerySet

    def get_queryset(self) -> ScopedQuerySet[_M]:
        return cast("ScopedQuerySet[_M]", super().get_queryset())  # an instance of _queryset_class

    def for_organisation(self, organisation: Organisation | int) -> ScopedQuerySet[_M]:
        return self.get_queryset().for_organisation(organisation)

    def for_membership(self, membership: Reach) -> ScopedQuerySet[_M]:
        return self.get_queryset().for_membership(membership)

    def for_user(self, user: RequestUser | ApiKey) -> ScopedQuerySet[_M]:
        return self.get_queryset().for_user(user)


def scoped(path: str, property_path: str | None = None) -> ScopedManager[Any]:
    """A manager whose queryset scopes through `path` (e.g. "property__organisation") and, for a front desk
    limited to some properties, through `property_path` (e.g. "unit__property")."""
    queryset_class = type(
        f"ScopedQuerySet_{path}", (ScopedQuerySet,), {"org_path": path, "property_path": property_path}
    )
    # A class per path, as QuerySet.as_manager() makes, since Django builds related managers from the class.
    # Its qualified name is its base's: django-stubs finds a model's manager type by that name.
    manager_class = type(
        f"ScopedManager_{path}", (ScopedManager,), {"_queryset_class": queryset_class, "__qualname__": "ScopedManager"}
    )
    return cast("ScopedManager[Any]", manager_class())


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
    # How long a member's session lasts without a request, by role, in minutes; empty: the server's default
    # (settings.SESSION_IDLE_TIMEOUT_<ROLE>_MINUTES). The front desk's shared screens idle out first.
    idle_minutes_front_desk = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=IDLE_MINUTES_VALIDATORS, verbose_name="front desk idle timeout (minutes)"
    )
    idle_minutes_manager = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=IDLE_MINUTES_VALIDATORS,
        verbose_name="owners' and managers' idle timeout (minutes)",
    )
    idle_minutes_viewer = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=IDLE_MINUTES_VALIDATORS, verbose_name="viewers' idle timeout (minutes)"
    )
    # Owners and managers must enrol and pass a second sign-in factor (signin/). On for organisations created from
    # now on; the migration left those from before off, so an upgrade locks nobody out.
    # The database default too, so code that inserts without the column (an older migration's state) still works.
    require_second_factor = models.BooleanField(
        default=True, db_default=True, help_text="Owners and managers must sign in with a second factor."
    )

    objects = scoped("")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def idle_minutes(self, role: str) -> int:
        """A member's idle timeout in this organisation: its own setting for the role, else the server's default."""
        group = IDLE_GROUP[role]
        own: int | None = getattr(self, f"idle_minutes_{group}")
        return own if own is not None else int(getattr(settings, f"SESSION_IDLE_TIMEOUT_{group.upper()}_MINUTES"))


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    # A front desk may be limited to some properties. The limit is this flag, not the set: deleting a property deletes
    # its link rows, and a desk limited to it alone must then see nothing, not everything.
    limited_to_properties = models.BooleanField(
        default=False,
        help_text="A front desk sees only the properties chosen below (none, when none are chosen).",
    )
    properties: models.ManyToManyField[Property, Any] = models.ManyToManyField("Property", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.organisation}"

    @cached_property
    def limited_property_ids(self) -> frozenset[int] | None:
        """The properties a front desk is limited to (possibly none); None when the member sees all of the
        organisation's.

        The front-desk limit is decided here and applied by `ScopedQuerySet.for_membership`/`for_user`."""
        if self.role != Role.FRONT_DESK or not self.limited_to_properties:
            return None
        return frozenset(p.pk for p in self.properties.all())  # uses prefetch_related("properties") if done

    def limit_to(self, properties: Iterable[Property] | None) -> None:
        """Limit this member to `properties` (an empty list: to none), or lift the limit (None)."""
        self.limited_to_properties = properties is not None
        self.save(update_fields=["limited_to_properties"])
        self.properties.set(properties or [])
        self.__dict__.pop("limited_property_ids", None)

    def may_see_lock(self, lock: Any) -> bool:
        """Whether the lock is within this member's reach (its organisation, and a limited desk's properties)."""
        return lock_in_reach(self, lock)


class UserPreferences(models.Model):
    """What a person chose for themselves, whatever organisation they work in: the language of their pages
    (blank: their browser's). Read at sign-in into the session (tenants.signals), so pages cost no query for it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    language = models.CharField(max_length=10, blank=True)  # one of settings.LANGUAGES (tenants.services)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser language'}"


def role_in(user: Actor, organisation_id: int, roles: frozenset[str], *, lock: Any = None) -> bool:
    """Whether `user` may act in the organisation as one of `roles`: superusers always; anyone else through their
    membership there (one per organisation), and, when a lock is given, only if it is within that member's reach
    (`Membership.may_see_lock`: a front desk limited to some properties only their locks, never one on no door).

    The one rule behind who may see PINs (`locks.pins.may_see_pins`, and answer a remote-unlock request with it),
    open a door from the lock page (`locks.remote.may_open_from_lock_page`) and acknowledge alerts
    (`locks.alerts.may_acknowledge`).

    An API key has no role: what it may do is its scopes (`ApiKey.allows`), checked by the API before it calls a
    service, and by the services that decide themselves (`locks.pins.may_see_pins`, `locks.remote.may_answer`,
    `locks.alerts.may_acknowledge`)."""
    if isinstance(user, ApiKey):
        return False
    if getattr(user, "is_superuser", False):
        return True
    members = Membership.objects.filter(user=user_of(user), organisation_id=organisation_id, role__in=roles)
    if lock is None:
        return members.exists()
    membership = members.first()
    return membership is not None and membership.may_see_lock(lock)


class ApiKey(SingleLineFields, models.Model):
    """A script's or another system's key to the public API (/api/v1/), acting for one organisation.

    The secret is shown once when the key is made and stored only as its SHA-256: a key is 32 random bytes, so a
    slow password hash would add nothing but latency to every request. `prefix` (the secret's first characters)
    tells keys apart in lists and logs. What a key may do is its scopes; what it sees is its organisation, or
    only some properties there (as a limited front desk)."""

    class Scope(models.TextChoices):
        READ = "read", _("Read properties, units, locks, stays, codes, events and alerts")
        STAYS = "stays", _("Book, change, check in, check out and cancel stays")
        CODES = "codes", _("Issue, change, freeze, unfreeze, resend and remove door codes; lock operations")
        REVEAL_PINS = "reveal-pins", "Reveal door codes' PINs"
        REMOTE_UNLOCK = "remote-unlock", "Answer remote-unlock requests; acknowledge alerts"
        WEBHOOKS = "webhooks", _("Manage webhook endpoints")

    SECRET_PREFIX = "doors_"
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    single_line_fields = ("name",)
    prefix = models.CharField(max_length=16, editable=False)
    hashed_secret = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    limited_to_properties = models.BooleanField(default=False)
    properties: models.ManyToManyField[Property, Any] = models.ManyToManyField("Property", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The API keys page's one-time form token: sending the form again (a reload) finds this key, not a second one.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = scoped("organisation")

    user_id = None  # a key is nobody's: a limited key sees no rows by who created them (Reach)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"API key {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @cached_property
    def limited_property_ids(self) -> frozenset[int] | None:
        if not self.limited_to_properties:
            return None
        return frozenset(p.pk for p in self.properties.all())

    def may_see_lock(self, lock: Any) -> bool:
        return lock_in_reach(self, lock)


class Property(SingleLineFields, models.Model):
    class Kind(models.TextChoices):
        HOTEL = "hotel", _("Hotel")
        RENTAL = "rental", _("Rental")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RENTAL)
    address = models.CharField(max_length=300, blank=True)
    single_line_fields = ("name", "address")
    # Codes, schedules and stays are in this zone; Tuya gets it with every periodic password.
    time_zone = models.CharField(max_length=64, default="Europe/Amsterdam", validators=[validate_time_zone])
    # When a stay booked by dates alone (a calendar feed's all-day event) starts and ends, in the property's zone.
    check_in_time = models.TimeField(default=datetime.time(15, 0))
    check_out_time = models.TimeField(default=datetime.time(11, 0))
    # The guests' language when a guest has none: their messages and pages are in it where a template exists.
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation", "pk")

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
    NAME_MAX_LENGTH = 100
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("property__organisation", "property")

    class Meta:
        ordering = ["property__name", "name"]
        constraints = [models.UniqueConstraint(fields=["property", "name"], name="unit_name_unique_per_property")]

    def __str__(self) -> str:
        return f"{self.property} · {self.name}"


class GuestQuerySet(ScopedQuerySet["Guest"]):
    def _reach(self, membership: Reach) -> Q:
        reach = super()._reach(membership)
        limited = membership.limited_property_ids
        if limited is not None:
            # Guests belong to the organisation, not to a property: a limited desk sees those staying (or holding a
            # code) at its properties, not the names of every other property's guests, and those it added itself
            # (a guest added in the admin has neither yet).
            properties = sorted(limited)
            staying = Guest.objects.filter(stays__unit__property__in=properties).values("pk")
            holding = Guest.objects.filter(access_codes__lock__unit__property__in=properties).values("pk")
            own = Q(created_by=membership.user_id) if membership.user_id is not None else Q(pk__in=[])
            reach &= Q(pk__in=staying) | Q(pk__in=holding) | own
        return reach


class Guest(SingleLineFields, models.Model):
    """A tenant, a hotel guest, a cleaner or a contractor: anyone who gets a door code."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    single_line_fields = ("name", "phone")  # the phone number is an outbox file's To:
    language = models.CharField(max_length=10, blank=True)  # blank: the property's
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who added the guest (the admin's add, the desk's check-in): a limited front desk keeps seeing its own.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    objects = GuestQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return self.name


class Stay(models.Model):
    """A hotel stay or a lease: its window drives the guest's door codes."""

    class Kind(models.TextChoices):
        HOTEL = "hotel", _("Hotel stay")
        LONG_TERM = "long_term", _("Long-term lease")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CHECKED_IN = "checked_in", _("Checked in")
        CHECKED_OUT = "checked_out", _("Checked out")
        CANCELLED = "cancelled", _("Cancelled")

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

    objects = scoped("unit__property__organisation", "unit__property")

    class Meta:
        ordering = ["-check_in"]
        indexes = [models.Index(fields=["unit", "check_in"]), models.Index(fields=["status", "check_in"])]
        constraints = [
            models.CheckConstraint(condition=Q(check_out__gt=models.F("check_in")), name="stay_ends_after_it_starts")
        ]

    def __str__(self) -> str:
        zone = self.unit.property.tz  # the dates of the stay where it happens, not the server's
        check_in, check_out = self.check_in.astimezone(zone), self.check_out.astimezone(zone)
        return f"{self.guest} in {self.unit} ({check_in:%Y-%m-%d} → {check_out:%Y-%m-%d})"

    @property
    def guest_language(self) -> str:
        """The language the guest's pages, slip and messages are in: the guest's, else the property's."""
        return self.guest.language or self.unit.property.language

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.BOOKED, self.Status.CHECKED_IN)
