"""Forms of tenants: the desk's check-in, the stay page's changes, property and unit set-up, sign-in.

Forms only parse and check what they can see; `tenants.services` owns the rules and the writes, and the views put
its refusals back on the form (`locks.forms.apply_service_error`). The stay page's forms carry `seen`, the stay's
last change, so a stale page is caught.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from locks.display import day_and_time
from locks.forms import (
    DashboardForm,
    LocalDateTimeField,
    local_input,
    make_wall_clock_times_aware,
)
from locks.selectors import manageable_units
from tenants.models import Organisation, Property, RequestUser, Stay, Unit

# --- the desk's check-in ------------------------------------------------------------------------------------


def default_check_out(today: date, zone_name: str) -> datetime:
    """Tomorrow at 11:00 in the property's zone: the usual hotel check-out."""
    zone = zoneinfo.ZoneInfo(zone_name)
    return datetime.combine(today + timedelta(days=1), time(11, 0), tzinfo=zone)


class BookStayForm(DashboardForm):
    """Check a guest in (or book ahead): `tenants.services.book_guest` finds the guest by e-mail or phone, or
    creates them."""

    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("Room or unit"))
    guest_name = forms.CharField(max_length=200, label=_("Guest’s name"))
    guest_email = forms.EmailField(required=False, label=_("E-mail"))
    guest_phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    guest_language = forms.ChoiceField(
        choices=[("", _("The property’s")), *settings.LANGUAGES], required=False, label=_("Guest’s language")
    )
    check_in = LocalDateTimeField(label=_("Check-in"))
    check_out = LocalDateTimeField(label=_("Check-out"))
    kind = forms.ChoiceField(choices=Stay.Kind.choices, initial=Stay.Kind.HOTEL, label=_("Kind"))

    def __init__(self, *args: Any, user: RequestUser, organisation: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.organisation = user, organisation
        cast("forms.ModelChoiceField[Unit]", self.fields["unit"]).queryset = manageable_units(user, organisation)

    def show_free_units(self, taken: dict[int, datetime]) -> None:
        """Label each room free, or taken until when (`taken`, by unit id, from `selectors.units_taken_until`): the
        desk picks a free room at a glance."""

        def label(unit: Unit) -> str:
            until = taken.get(unit.pk)
            if until is None:
                return gettext("%(room)s · free") % {"room": unit}
            return gettext("%(room)s · taken until %(time)s") % {
                "room": unit,
                "time": day_and_time(timezone.localtime(until, unit.property.tz)),
            }

        self.fields["unit"].label_from_instance = label  # type: ignore[attr-defined]

    def clean_guest_phone(self) -> str:
        phone: str = self.cleaned_data["guest_phone"].strip()
        if phone and not all((c.isascii() and c.isdigit()) or c in "+-() ." for c in phone):
            raise ValidationError(_("A phone number has digits, spaces and + - ( ) only."))
        return phone

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        unit: Unit | None = data.get("unit")
        zone = unit.property.time_zone if unit else settings.TIME_ZONE
        make_wall_clock_times_aware(self, data, zone)
        return data


# --- the stay page ------------------------------------------------------------------------------------------


def seen_token(stay: Stay) -> str:
    return stay.updated_at.isoformat()


class StayForm(forms.Form):
    prefix_id = "stay"  # element ids are "<prefix_id>-<field>": the stay page shows several forms at once
    seen = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, stay: Stay, **kwargs: Any) -> None:
        self.stay = stay
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("seen", seen_token(stay))
        kwargs.setdefault("auto_id", f"{self.prefix_id}-%s")
        super().__init__(*args, **kwargs)

    def clean_seen(self) -> str:
        if self.cleaned_data["seen"] != seen_token(self.stay):
            raise ValidationError(_("This stay changed while you were looking at it: check it below and try again."))
        return str(self.cleaned_data["seen"])


class StayDatesForm(StayForm):
    """Extend, shorten or shift a stay: times typed in the property's time zone."""

    prefix_id = "dates"
    check_in = LocalDateTimeField(label=_("Check-in"))
    check_out = LocalDateTimeField(label=_("Check-out"))

    def __init__(self, *args: Any, stay: Stay, **kwargs: Any) -> None:
        zone = stay.unit.property.time_zone
        kwargs.setdefault(
            "initial", {"check_in": local_input(stay.check_in, zone), "check_out": local_input(stay.check_out, zone)}
        )
        super().__init__(*args, stay=stay, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        zone = self.stay.unit.property.time_zone
        make_wall_clock_times_aware(self, data, zone)
        return data


class MoveStayForm(StayForm):
    prefix_id = "move"
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("New room or unit"))

    def __init__(self, *args: Any, stay: Stay, user: RequestUser, **kwargs: Any) -> None:
        super().__init__(*args, stay=stay, **kwargs)
        organisation = stay.unit.property.organisation
        cast("forms.ModelChoiceField[Unit]", self.fields["unit"]).queryset = manageable_units(
            user, organisation
        ).exclude(pk=stay.unit_id)


# --- set-up: properties and units (owners and managers) -----------------------------------------------------


class PropertyForm(DashboardForm):
    name = forms.CharField(max_length=200, label=_("Name"))
    kind = forms.ChoiceField(
        choices=[("hotel", _("Hotel")), ("rental", _("Rental"))], initial="rental", label=_("Kind")
    )
    time_zone = forms.CharField(
        max_length=64,
        initial="Europe/Amsterdam",
        label=_("Time zone"),
        help_text=_("Codes are typed and shown in this zone, e.g. Europe/London, America/New_York."),
    )
    address = forms.CharField(max_length=300, required=False, label=_("Address"))
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        label=_("Guests' language"),
        help_text=_("Their page, slip and messages, for a guest who has no language of their own."),
    )

    def clean_time_zone(self) -> str:
        value: str = self.cleaned_data["time_zone"].strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("Not a time zone; use a name such as Europe/Amsterdam.")) from None
        return value


class UnitsForm(DashboardForm):
    property: forms.ModelChoiceField[Property] = forms.ModelChoiceField(queryset=None, label=_("Property"))
    names = forms.CharField(
        label=_("Units"),
        max_length=2000,
        help_text=_("Names separated by commas; a range such as 101-110 makes ten rooms."),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Property]", self.fields["property"]).queryset = Property.objects.filter(
            organisation=organisation
        ).order_by("name")

    def clean_names(self) -> list[str]:
        names: list[str] = []
        for part in self.cleaned_data["names"].split(","):
            part = part.strip()
            first, dash, last = part.partition("-")
            if dash and all(end.strip().isascii() and end.strip().isdigit() for end in (first, last)):
                low, high = int(first), int(last)
                if not 0 < high - low < 500:
                    raise ValidationError(
                        gettext("%(range)s: a range goes up, by at most 500 units.") % {"range": part}
                    )
                names += [str(n) for n in range(low, high + 1)]
            elif part:
                names.append(part)
        if not names:
            raise ValidationError(_("Give at least one name."))
        limit = Unit.NAME_MAX_LENGTH
        for name in names:
            if len(name) > limit:
                raise ValidationError(
                    gettext("A unit's name has at most %(limit)s characters: %(name)s… has %(length)s.")
                    % {"limit": limit, "name": name[:40], "length": len(name)}
                )
        return names


# --- signing in ---------------------------------------------------------------------------------------------


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the username's length checked before anyone is looked up or a failure recorded.

    Django only puts the limit on the input (maxlength), and django-axes writes the username tried to a column of
    255 characters: a longer one posted by hand was a 500 on PostgreSQL (found by tests/config/test_forms_fuzz.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = cast(forms.CharField, self.fields["username"])
        username.validators.append(MaxLengthValidator(username.max_length))


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The same for the admin's sign-in page (staff only, as Django's)."""


class IdleTimeoutsForm(DashboardForm):
    """An organisation's idle timeouts by role, in minutes (owners only); empty: the server's default, shown as the
    placeholder. The range is the model's (settings.SESSION_IDLE_MINUTES_RANGE)."""

    ROLES = (
        ("front_desk", _("Front desk")),
        ("manager", _("Owners and managers")),
        ("viewer", _("Viewers")),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        low, high = settings.SESSION_IDLE_MINUTES_RANGE
        current = {f"idle_minutes_{group}": getattr(organisation, f"idle_minutes_{group}") for group, _ in self.ROLES}
        kwargs.setdefault("initial", current)
        super().__init__(*args, **kwargs)
        for group, label in self.ROLES:
            default = getattr(settings, f"SESSION_IDLE_TIMEOUT_{group.upper()}_MINUTES")
            field = forms.IntegerField(
                label=gettext("%(role)s (minutes)") % {"role": label},
                required=False,
                min_value=low,
                max_value=high,
                help_text=gettext("Empty: the default, %(default)s. From %(low)s to %(high)s.")
                % {"default": default, "low": low, "high": high},
            )
            field.widget.attrs["placeholder"] = str(default)
            self.fields[f"idle_minutes_{group}"] = field


class ConfirmPasswordForm(DashboardForm):
    """The password again, before revealing a PIN, opening a door, making an API key or changing members."""

    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
