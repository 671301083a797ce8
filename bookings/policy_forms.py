"""The forms of a property's arrival and message settings (they only validate; bookings.policies writes)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from bookings.messages import PLACEHOLDERS, template_problems
from bookings.models import BookingPolicy, MessageTemplate
from bookings.policies import MAX_CHECK_HOURS

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class PolicyForm(forms.Form):
    arrival_check_hours = forms.CharField(
        label=gettext_lazy("Check the codes, hours before check-in"),
        max_length=60,
        help_text=gettext_lazy("Whole hours, separated by commas, such as 24, 2. The last one issues the fallback."),
    )
    code_message_hours = forms.IntegerField(
        label=gettext_lazy("Send the code message, hours before check-in"), min_value=0, max_value=MAX_CHECK_HOURS
    )
    checkout_reminder_hours = forms.IntegerField(
        label=gettext_lazy("Check-out reminder, hours before check-out"),
        min_value=1,
        max_value=72,
        required=False,
        help_text=gettext_lazy("Leave empty for no reminder."),
    )
    feed_alert_after_hours = forms.IntegerField(
        label=gettext_lazy("Alert when a calendar feed fails for, hours"), min_value=1, max_value=MAX_CHECK_HOURS
    )

    @classmethod
    def for_policy(cls, policy: BookingPolicy) -> PolicyForm:
        return cls(
            initial={
                "arrival_check_hours": ", ".join(str(hour) for hour in policy.check_hours()),
                "code_message_hours": policy.code_message_hours,
                "checkout_reminder_hours": policy.checkout_reminder_hours,
                "feed_alert_after_hours": policy.feed_alert_after_hours,
            }
        )

    def clean_arrival_check_hours(self) -> list[int]:
        raw = [part.strip() for part in self.cleaned_data["arrival_check_hours"].split(",") if part.strip()]
        if not raw or not all(part.isascii() and part.isdigit() and len(part) < 5 for part in raw):
            raise forms.ValidationError(gettext_lazy("Give whole hours separated by commas, such as 24, 2."))
        hours = sorted({int(part) for part in raw}, reverse=True)
        if any(not 1 <= hour <= MAX_CHECK_HOURS for hour in hours):
            raise forms.ValidationError(gettext_lazy("Each hour is from 1 to %(max)s.") % {"max": MAX_CHECK_HOURS})
        return hours


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Message"), choices=MessageTemplate.Kind.choices)
    language = forms.CharField(
        label=gettext_lazy("Language"),
        max_length=10,
        help_text=gettext_lazy("A language code such as en, es, fr or pt-br."),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Words"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=5000,
        help_text=format_lazy(
            gettext_lazy("Placeholders: {names}."), names=", ".join("{" + name + "}" for name in PLACEHOLDERS)
        ),
    )

    def clean_language(self) -> str:
        language = str(self.cleaned_data["language"]).strip().lower()
        if not LANGUAGE.match(language):
            raise forms.ValidationError(gettext_lazy("Give a language code such as en, es, fr or pt-br."))
        return language

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if {"kind", "subject", "body"} <= data.keys():
            for problem in template_problems(data["kind"], data["subject"], data["body"]):
                self.add_error("body" if "body" in problem or "code message" in problem else "subject", problem)
        return data
