"""Setting up properties and units from the "Cloud and locks" page (tenants/setup_views.py): owners and managers
only; the page's cloud and lock parts are tested in tests/locks/test_setup_views.py."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tenants.models import Organisation, Property

pytestmark = pytest.mark.django_db(transaction=True)


def test_properties_and_units_are_added_from_the_dashboard(owner_client: Client, org: Organisation) -> None:
    response = owner_client.post(
        reverse("setup:property-create"), {"name": "Harbour Flats", "kind": "rental", "time_zone": "Mars/Base"}
    )
    assert "Not a time zone" in response.content.decode()
    owner_client.post(
        reverse("setup:property-create"),
        {"name": "Harbour Flats", "kind": "rental", "time_zone": "Europe/Lisbon", "address": "Rua 1"},
    )
    prop = Property.objects.get(name="Harbour Flats")
    assert (prop.organisation, prop.time_zone) == (org, "Europe/Lisbon")
    owner_client.post(reverse("setup:units-create"), {"property": prop.pk, "names": "101-105, Penthouse"})
    assert sorted(prop.units.values_list("name", flat=True)) == ["101", "102", "103", "104", "105", "Penthouse"]
    again = owner_client.post(reverse("setup:units-create"), {"property": prop.pk, "names": "105"})
    assert "Already there: 105." in again.content.decode()
    assert prop.units.count() == 6
