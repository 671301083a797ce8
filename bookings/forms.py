"""The Calendar feeds page's forms (they only read the fields; `bookings.feeds` decides what is valid) and the
guest's digits on a unit's arrival link."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings import arrival_links
from bookings.feeds import MAX_EVERY_MINUTES, MIN_EVERY_MINUTES
from bookings.models import CalendarFeed
from locks.forms import DashboardForm
from tenants.models import Property, Unit


class FeedFieldsForm(DashboardForm):
    url = forms.CharField(
        label=_("Calendar link"),
        max_length=2000,
        widget=forms.URLInput(
            attrs={"placeholder": "https://www.airbnb.com/calendar/ical/….ics", "autocomplete": "off"}
        ),
        help_text=_(
            "The channel's export link (Airbnb, Booking.com, Vrbo, a Google Calendar's secret address). It holds a "
            "secret: after saving, only its host is shown."
        ),
    )
    name = forms.CharField(
        max_length=100, required=False, label=_("Name"), help_text=_("E.g. Airbnb. Empty: the link's host.")
    )
    every_minutes = forms.IntegerField(
        label=_("Read every (minutes)"), min_value=MIN_EVERY_MINUTES, max_value=MAX_EVERY_MINUTES, initial=15
    )
    blocked = forms.ChoiceField(
        label=_("Dates the channel only blocks"),
        choices=CalendarFeed.Blocked.choices,
        initial=CalendarFeed.Blocked.IGNORE,
        help_text=_("Channels mark dates closed by the owner or by another channel as “Not available”."),
    )


class AddFeedForm(FeedFieldsForm):
    field_order = ["unit", "url", "name", "every_minutes", "blocked"]
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("Unit"))

    def __init__(self, *args: Any, prop: Property, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Unit]", self.fields["unit"]).queryset = Unit.objects.filter(property=prop)


class EditFeedForm(FeedFieldsForm):
    """Changing a feed: an empty link keeps the saved one (which is never shown again)."""

    enabled = forms.BooleanField(label=_("Read this feed"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.fields["url"]
        url.required = False
        url.help_text = _("Leave empty to keep the saved link; paste a new one to replace it.")


class ArrivalDigitsForm(DashboardForm):
    """The guest's form on a unit's arrival link: the last 4 digits of the phone on their booking, nothing more (a
    whole number is refused rather than cut: the guest should know what was compared)."""

    digits = forms.CharField(
        label=_("Last 4 digits of the phone number on your booking"),
        max_length=40,
        strip=True,
        error_messages={"required": _("Please type the last 4 digits of your phone number.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}", "maxlength": "4", "size": "6"}
        ),
    )

    def clean_digits(self) -> str:
        typed = str(self.cleaned_data["digits"]).replace(" ", "")
        if len(typed) == arrival_links.DIGITS and all(char in "0123456789" for char in typed):
            return typed
        if len(typed) > arrival_links.DIGITS and all(char in "0123456789+-()" for char in typed):
            raise forms.ValidationError(_("Only the last 4 digits, please: not the whole phone number."))
        raise forms.ValidationError(_("Please type exactly 4 digits (0–9): the last 4 of your phone number."))
