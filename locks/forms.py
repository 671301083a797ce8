"""Forms for door codes, lock operations and cloud projects, shared by the dashboard and the admin's add pages,
and the helpers every form of the app uses (tenants' forms too): wall-clock times, service errors on the form.

Forms only parse and check what they can see; the services own the rules and the writes. A service's
ValidationError is put back on the form (`apply_service_error`), beside the field it names.

Times are typed in the property's time zone (a clerk in Lisbon means Lisbon's 15:00, whatever the server's
zone), so the naive values of `datetime-local` inputs are made aware with the lock's or unit's zone.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from locks import accounts, codes, operations, selectors
from locks.cloud import endpoints
from locks.display import DAY_NAMES
from locks.models import AccessCode, Lock, LockOperation
from tenants.models import (
    Actor,
    Guest,
    Organisation,
    RequestUser,
    validate_single_line,
)

WEEKDAYS = list(enumerate(DAY_NAMES))


class RowsChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # generic in the stubs only
    """A choice of several rows that refuses an id no row can have. Django looks the ids up with `pk__in`, which
    (unlike its single-row look-up) passes an id past 64 bits on to the database: SQLite raises OverflowError, a 500."""

    ID_RANGE = range(-(2**63), 2**63)

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            try:
                number = int(str(pk))
            except ValueError:
                continue  # not a number at all: Django's own look-up refuses it in words
            if number not in self.ID_RANGE:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super().clean(value)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time left naive: the form makes it aware in the property's zone, not the server's."""

    widget = LocalDateTimeInput

    # A door code or a stay lives in this century; year 1 or 9999 would overflow when moved between zones (a 500).
    YEARS = range(2000, 2100)

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(dt_timezone.utc):  # Django makes input aware in the current zone: undo it exactly
            result = super().to_python(value)
        if result is not None and result.year not in self.YEARS:
            raise ValidationError(
                gettext_lazy("Give a date between %(first)s and %(last)s.")
                % {"first": self.YEARS[0], "last": self.YEARS[-1]},
                code="invalid",
            )
        return result.replace(tzinfo=None) if result is not None else None


def apply_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: beside the field it names, or above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        for item in errors:
            form.add_error(target, item)


def wall_clock_problem(value: datetime, zone_name: str) -> str | None:
    """Why a naive wall-clock time cannot be taken as typed in `zone_name`, or None when it can.

    At a clock change a typed time may not exist (spring: 02:30 is skipped) or happen twice (autumn). Moving it
    silently would open or close a door an hour off what the clerk typed, so the form says so instead."""
    zone = zoneinfo.ZoneInfo(zone_name)

    def exists(moment: datetime) -> bool:
        aware = moment.replace(tzinfo=zone)
        return aware.astimezone(dt_timezone.utc).astimezone(zone).replace(tzinfo=None) == moment

    def twice(moment: datetime) -> bool:
        return moment.replace(tzinfo=zone, fold=0).utcoffset() != moment.replace(tzinfo=zone, fold=1).utcoffset()

    def edges(odd: Any) -> tuple[datetime, datetime]:
        """The first and the first-after-last odd minute around `value` (clock changes last minutes to hours)."""
        minute = timedelta(minutes=1)
        start = end = value.replace(second=0, microsecond=0)
        while odd(start - minute):
            start -= minute
        while odd(end):
            end += minute
        return start, end

    day, typed = f"{value:%a} {value.day} {value:%b %Y}", f"{value:%H:%M}"
    if not exists(value):
        start, end = edges(lambda moment: not exists(moment))
        return (
            f"{typed} does not exist on {day} in {zone_name}: the clocks go forward from {start:%H:%M} to "
            f"{end:%H:%M}. Did you mean {end:%H:%M}?"
        )
    if twice(value):
        start, end = edges(twice)
        return (
            f"{typed} happens twice on {day} in {zone_name}: the clocks go back from {end:%H:%M} to {start:%H:%M}. "
            f"Give a time before {start:%H:%M} or from {end:%H:%M} on, so the lock opens when you mean."
        )
    return None


def make_wall_clock_times_aware(form: forms.BaseForm, data: dict[str, Any], zone_name: str) -> None:
    """Make every `LocalDateTimeField` of `form` aware in the property's zone; a time that a clock change skips or
    repeats becomes that field's error. One place for every form, so no datetime field can forget the check."""
    for name, field in form.fields.items():
        value = data.get(name)
        if not isinstance(field, LocalDateTimeField) or value is None or timezone.is_aware(value):
            continue
        problem = wall_clock_problem(value, zone_name)
        if problem:
            form.add_error(name, ValidationError(problem, code="clock_change"))
        else:
            data[name] = make_aware_in(value, zone_name)


def make_aware_in(value: datetime | None, zone_name: str) -> datetime | None:
    """A naive wall-clock time in `zone_name` as an aware datetime (DST gaps move forward, as clocks do)."""
    if value is None or timezone.is_aware(value):
        return value
    zone = zoneinfo.ZoneInfo(zone_name)
    aware = value.replace(tzinfo=zone)
    # A time that does not exist (the spring-forward gap) round-trips to another wall time: keep the later one.
    round_trip = aware.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(zone)
    return aware if round_trip.replace(tzinfo=None) == value else round_trip


def local_input(value: datetime, zone_name: str) -> str:
    return timezone.localtime(value, zoneinfo.ZoneInfo(zone_name)).strftime("%Y-%m-%dT%H:%M")


class SingleLineInputs:
    """Form mixin: every one-line text input refuses line breaks and other control characters (names end up in
    e-mail subjects and outbox files); a Textarea is for text with lines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(form_field, forms.CharField) and not isinstance(form_field.widget, forms.Textarea):
                form_field.validators.append(validate_single_line)  # a copy per form: Field.__deepcopy__


class DashboardForm(SingleLineInputs, forms.Form):
    """Labels without Django's trailing colon: they read as plain names, for people and screen readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class IssueCodeForm(DashboardForm):
    """A code for a window, a weekly schedule inside a window, or one use."""

    lock = forms.ModelChoiceField(queryset=Lock.objects.none(), label=gettext_lazy("Lock"))
    label = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Who it is for, e.g. the guest's or the cleaner's name."),
    )
    kind = forms.ChoiceField(
        choices=AccessCode.Kind.choices, initial=AccessCode.Kind.WINDOW, label=gettext_lazy("Kind")
    )
    starts_at = LocalDateTimeField(label=gettext_lazy("Valid from"))
    ends_at = LocalDateTimeField(label=gettext_lazy("Valid until"))
    schedule_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Days"), choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    schedule_start = forms.TimeField(
        label=gettext_lazy("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    schedule_end = forms.TimeField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=gettext_lazy("24:00 is 00:00."),
    )
    pin = forms.CharField(
        label=gettext_lazy("PIN"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("Leave empty for a random PIN of the right length."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )
    guest = forms.ModelChoiceField(queryset=Guest.objects.none(), required=False, label=gettext_lazy("Guest"))
    request_token = forms.UUIDField(required=False, widget=forms.HiddenInput)  # one code per form, however sent

    def __init__(self, *args: Any, user: RequestUser, organisation: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_token"].initial = uuid.uuid4()
        self.user = user
        cast("forms.ModelChoiceField[Lock]", self.fields["lock"]).queryset = selectors.manageable_locks(
            user, organisation
        ).order_by("name")
        guests = Guest.objects.for_user(user)
        cast("forms.ModelChoiceField[Guest]", self.fields["guest"]).queryset = (
            guests.filter(organisation=organisation) if organisation else guests
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        lock: Lock | None = data.get("lock")
        zone = lock.time_zone if lock else settings.TIME_ZONE
        make_wall_clock_times_aware(self, data, zone)
        guest = data.get("guest")
        if lock and guest and guest.organisation_id != lock.organisation_id:
            self.add_error("guest", gettext_lazy("This guest belongs to another organisation."))
        if data.get("kind") == AccessCode.Kind.WEEKLY:
            start, end = data.get("schedule_start"), data.get("schedule_end")
            if not data.get("schedule_days"):
                self.add_error("schedule_days", gettext_lazy("Choose at least one day."))
            if start is None:
                self.add_error("schedule_start", gettext_lazy("When does access start on those days?"))
            if end is None:
                self.add_error("schedule_end", gettext_lazy("When does access end on those days?"))
        return data

    def schedule(self) -> codes.WeeklySchedule | None:
        data = self.cleaned_data
        if data["kind"] != AccessCode.Kind.WEEKLY:
            return None
        end_minute = minutes_of(data["schedule_end"]) or 1440  # "until 00:00" means until midnight
        return codes.WeeklySchedule(frozenset(data["schedule_days"]), minutes_of(data["schedule_start"]), end_minute)

    def save(self, *, actor: Actor, ip: str | None) -> AccessCode | None:
        """Issue the code; None (with the reasons on the form) when a service refused it."""
        data = self.cleaned_data
        try:
            return codes.issue_access_code(
                lock=data["lock"],
                label=data["label"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                kind=data["kind"],
                schedule=self.schedule(),
                pin=data["pin"] or None,
                guest=data.get("guest"),
                actor=actor,
                ip=ip,
                request_token=data.get("request_token"),
            )
        except ValidationError as error:
            apply_service_error(self, error)
            return None
        except IntegrityError:  # a twin request with the same token committed first: that code is the answer
            return AccessCode.objects.filter(request_token=data["request_token"]).first()


class ChangeCodeForm(DashboardForm):
    """A new window or PIN for an existing code; `version` catches a page that went stale."""

    starts_at = LocalDateTimeField(label=gettext_lazy("Valid from"))
    ends_at = LocalDateTimeField(label=gettext_lazy("Valid until"))
    pin = forms.CharField(
        label=gettext_lazy("New PIN"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("Leave empty to keep the current PIN."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, code: AccessCode, **kwargs: Any) -> None:
        self.code = code
        kwargs.setdefault(
            "initial",
            {
                "starts_at": local_input(code.starts_at, code.time_zone),
                "ends_at": local_input(code.ends_at, code.time_zone),
                "version": code.version,
            },
        )
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        make_wall_clock_times_aware(self, data, self.code.time_zone)
        return data

    def save(self, *, actor: Actor, ip: str | None) -> AccessCode | None:
        data = self.cleaned_data
        try:
            return codes.change_access_code(
                self.code,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                pin=data["pin"] or None,
                version=data["version"],
                actor=actor,
                ip=ip,
            )
        except ValidationError as error:
            apply_service_error(self, error)
            return None


def minutes_of(value: time) -> int:
    return value.hour * 60 + value.minute


class OfflinePasswordForm(DashboardForm):
    """An offline password for a lock that is offline; the rounded window is shown before issuing."""

    KINDS = [
        ("multiple", gettext_lazy("Several uses, for a window")),
        ("once", gettext_lazy("One use, within 6 hours")),
        ("clear_one", gettext_lazy("Clear one offline password")),
        ("clear_all", gettext_lazy("Clear all offline passwords")),
    ]
    kind = forms.ChoiceField(choices=KINDS, initial="multiple", label=gettext_lazy("Type"))
    label = forms.CharField(max_length=100, required=False, label=gettext_lazy("For"))
    starts_at = LocalDateTimeField(label=gettext_lazy("Valid from"), required=False)
    ends_at = LocalDateTimeField(label=gettext_lazy("Valid until"), required=False)
    clears: forms.ModelChoiceField[LockOperation] = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Password to clear")
    )

    def __init__(self, *args: Any, lock: Lock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = lock
        self.zone = lock.time_zone
        issued = lock.operations.filter(kind="offline", status="done").exclude(params__type__startswith="clear")
        cast("forms.ModelChoiceField[LockOperation]", self.fields["clears"]).queryset = issued.order_by("-created_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        make_wall_clock_times_aware(self, data, self.zone)
        return data

    def preview(self) -> str:
        """'Valid 14:00 – 18:00 (Europe/Amsterdam)', or why there is nothing to show yet."""
        if not self.is_valid():
            return ""
        data = self.cleaned_data
        try:
            start, end = operations.offline_window(
                data["kind"], now=timezone.now(), starts_at=data["starts_at"], ends_at=data["ends_at"]
            )
        except ValidationError as error:
            return " ".join(error.messages)
        zone = zoneinfo.ZoneInfo(self.zone)
        fmt = "%a %d %b %H:%M"
        return (
            f"The lock will accept it from {timezone.localtime(start, zone).strftime(fmt)} "
            f"to {timezone.localtime(end, zone).strftime(fmt)} ({self.zone}): Tuya rounds to whole hours."
        )

    def errors_text(self) -> str:
        return " ".join(str(message) for errors in self.errors.values() for message in errors)

    def save(self, *, actor: Actor, ip: str | None) -> Any:
        data = self.cleaned_data
        try:
            return operations.request_offline_password(
                lock=self.lock,
                kind=data["kind"],
                label=data["label"] or str(dict(self.KINDS)[data["kind"]]),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                clears=data.get("clears"),
                actor=actor,
                ip=ip,
            )
        except ValidationError as error:
            apply_service_error(self, error)
            return None


class ConnectCloudForm(DashboardForm):
    """A Tuya cloud project: its access id and secret sign every call for its locks."""

    name = forms.CharField(
        max_length=100, label=gettext_lazy("Name"), help_text=gettext_lazy("Yours, e.g. “Tuya EU project”.")
    )
    endpoint = forms.CharField(
        max_length=200,
        label=gettext_lazy("Region or URL"),
        initial="eu",
        help_text=gettext_lazy("The data centre of the project: eu, eu-west, us, us-east, cn, in."),
        widget=forms.TextInput(attrs={"list": "tuya-regions", "autocomplete": "off"}),
    )
    access_id = forms.CharField(
        max_length=64, label=gettext_lazy("Access ID"), widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    access_secret = forms.CharField(
        max_length=128,
        label=gettext_lazy("Access secret"),
        help_text=gettext_lazy("Stored encrypted; never shown again."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if settings.TUYA_ALLOW_URL_ENDPOINTS:
            self.fields["endpoint"].help_text = gettext_lazy(
                "The data centre of the project: eu, eu-west, us, us-east, cn, in — or its https:// URL."
            )

    def clean_endpoint(self) -> str:
        value: str = self.cleaned_data["endpoint"]
        reason = endpoints.refusal(value)
        if reason is not None:
            raise forms.ValidationError(reason)
        return value

    def save(self, *, organisation: Organisation, actor: Actor, ip: str | None) -> Any:
        data = self.cleaned_data
        try:
            return accounts.connect_cloud_account(
                organisation=organisation,
                name=data["name"],
                endpoint=data["endpoint"],
                access_id=data["access_id"],
                access_secret=data["access_secret"],
                actor=actor,
                ip=ip,
            )
        except ValidationError as error:
            apply_service_error(self, error)
            return None
