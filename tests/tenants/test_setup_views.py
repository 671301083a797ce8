"""Setting up properties and units from the "Cloud and locks" page (tenants/setup_views.py): owners and managers
only; the page's cloud and lock parts are tested in tests/locks/test_setup_views.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tenants import services
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


def test_over_long_unit_names_are_refused_not_cut(owner_client: Client, org: Organisation) -> None:
    """#11 C.11: two names over 100 characters with the same first 100 were cut after the duplicate check and
    collided in the database (500 on PostgreSQL). Refused with a field error, by the form and by the service."""
    prop = Property.objects.create(organisation=org, name="Harbour Flats", time_zone="Europe/Lisbon")
    same_start = "x" * 100
    response = owner_client.post(
        reverse("setup:units-create"), {"property": prop.pk, "names": f"{same_start}1, {same_start}2"}
    )
    assert response.status_code == 400  # the form again, with the error beside the field
    assert "at most 100 characters" in response.content.decode()
    assert not prop.units.exists()
    with pytest.raises(ValidationError) as refused:
        services.create_units(prop=prop, names=[f"{same_start}1", f"{same_start}2"])
    assert "at most 100 characters" in str(refused.value.message_dict["names"])
    assert not prop.units.exists()
    # Exactly at the limit is fine, and a name given twice is one unit.
    owner_client.post(reverse("setup:units-create"), {"property": prop.pk, "names": f"{same_start}, {same_start}"})
    assert list(prop.units.values_list("name", flat=True)) == [same_start]
