"""Forms of the front desk's stay page. Each carries `seen`, the stay's last change, so a stale page is caught."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from locks.forms import LocalDateTimeField, local_input, make_wall_clock_times_aware, manageable_units
from tenants.models import RequestUser, Stay, Unit


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
            raise ValidationError("This stay changed while you were looking at it: check it below and try again.")
        return str(self.cleaned_data["seen"])


class StayDatesForm(StayForm):
    """Extend, shorten or shift a stay: times typed in the property's time zone."""

    prefix_id = "dates"
    check_in = LocalDateTimeField(label="Check-in")
    check_out = LocalDateTimeField(label="Check-out")

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
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label="New room or unit")

    def __init__(self, *args: Any, stay: Stay, user: RequestUser, **kwargs: Any) -> None:
        super().__init__(*args, stay=stay, **kwargs)
        organisation = stay.unit.property.organisation
        cast("forms.ModelChoiceField[Unit]", self.fields["unit"]).queryset = manageable_units(
            user, organisation
        ).exclude(pk=stay.unit_id)


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
