"""The dashboard's endpoint form: it only reads the fields; webhooks/services.py decides what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from webhooks.payloads import ALL_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/doors", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "Doors POSTs each event here as JSON, signed (Standard Webhooks: webhook-id, webhook-timestamp, "
            "webhook-signature)."
        ),
    )
    description = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Description"),
        help_text=gettext_lazy("For you: what receives these events."),
    )
    all_types = forms.BooleanField(label=gettext_lazy("All event types"), required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Or only these"),
        choices=[(name, name) for name in ALL_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def chosen_types(self) -> list[str]:
        """Every type when "All" is ticked (written out, so new types are not added behind the owner's back)."""
        data: dict[str, Any] = self.cleaned_data
        return list(ALL_TYPES) if data.get("all_types") else list(data.get("event_types") or [])


class EditEndpointForm(EndpointForm):
    """Changing an endpoint: its URL too (the secret stays)."""
