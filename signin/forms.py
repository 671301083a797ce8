"""Forms of the second step: a code (with "remember this device"), and the owner's requirement switch."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label=_("Code"),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )
    remember = forms.BooleanField(required=False, label=_("Remember this device"))


class EnrolCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label=_("First code from the app"),
        error_messages={"invalid": _("Type the 6 digits your authenticator app shows now.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RequirementForm(forms.Form):
    require_second_factor = forms.BooleanField(
        required=False, label=_("Owners and managers must sign in with a second factor")
    )
