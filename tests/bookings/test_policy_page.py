"""A property's "Arrivals and messages" page: owners and managers set the timings and the words, refused in words when
wrong (nothing changes), audited; the front desk may not; another organisation's property is not found."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from bookings.models import BookingPolicy, MessageTemplate
from tenants.models import Organisation, Property, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client: Client, owner: AbstractUser) -> Client:
    client.force_login(owner)
    return client


def page(prop: Property) -> str:
    return reverse("booking-policy:page", args=[prop.pk])


def test_the_property_page_links_to_it_for_owners(owner_client: Client, unit: Unit) -> None:
    response = owner_client.get(reverse("locks:property", args=[unit.property.pk]))
    assert page(unit.property) in response.content.decode()
    assert "Check the codes, hours before check-in" in owner_client.get(page(unit.property)).content.decode()


def test_owners_set_the_timings_and_bad_input_changes_nothing(owner_client: Client, unit: Unit) -> None:
    prop = unit.property
    data = {
        "arrival_check_hours": "2, 48,6",
        "code_message_hours": "12",
        "checkout_reminder_hours": "",
        "feed_alert_after_hours": "3",
    }
    assert owner_client.post(page(prop), data).status_code == 302
    policy = BookingPolicy.objects.get(property=prop)
    assert (policy.check_hours(), policy.code_message_hours, policy.checkout_reminder_hours) == ([48, 6, 2], 12, None)
    assert AuditEvent.objects.filter(action="booking_policy.change").count() == 1

    refused = owner_client.post(page(prop), {**data, "arrival_check_hours": "soon", "code_message_hours": "-1"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Give whole hours separated by commas, such as 24, 2." in text
    assert "Ensure this value is greater than or equal to 0." in text
    policy.refresh_from_db()
    assert policy.check_hours() == [48, 6, 2]


def test_templates_are_added_checked_changed_and_deleted(owner_client: Client, unit: Unit) -> None:
    prop = unit.property
    add = reverse("booking-policy:template-add", args=[prop.pk])
    words = {"kind": "code", "language": "ES", "subject": "Su código", "body": "Hola {guest}: {codes}"}
    assert owner_client.post(add, words).status_code == 302
    template = MessageTemplate.objects.get(property=prop)
    assert template.language == "es"

    refused = owner_client.post(add, {**words, "language": "fr", "body": "Bonjour {name}: {codes}"})
    assert refused.status_code == 400
    assert "The body uses {name}, which is not a placeholder." in refused.content.decode()
    again = owner_client.post(add, words)
    assert again.status_code == 400
    assert "There is already a “Your code” template in “es”: change that one." in again.content.decode()
    assert MessageTemplate.objects.count() == 1

    edit = reverse("booking-policy:template-edit", args=[prop.pk, template.pk])
    assert "Hola {guest}: {codes}" in owner_client.get(edit).content.decode()
    assert owner_client.post(edit, {**words, "body": "¡Hola {guest}! {codes}"}).status_code == 302
    template.refresh_from_db()
    assert template.body == "¡Hola {guest}! {codes}"

    assert owner_client.post(reverse("booking-policy:template-delete", args=[prop.pk, template.pk])).status_code == 302
    assert not MessageTemplate.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="message_template.").values_list("action", flat=True))
    assert sorted(actions) == ["message_template.add", "message_template.change", "message_template.delete"]


def test_the_front_desk_may_not_and_another_organisations_property_is_not_found(
    client: Client, front_desk: AbstractUser, owner_client: Client, unit: Unit, django_user_model: Any
) -> None:
    prop = unit.property
    desk = Client()
    desk.force_login(front_desk)
    assert desk.get(page(prop)).status_code == 403
    assert desk.post(page(prop), {"arrival_check_hours": "1"}).status_code == 403
    assert "Arrivals and messages" not in desk.get(reverse("locks:property", args=[prop.pk])).content.decode()
    assert not BookingPolicy.objects.exists()

    other = Organisation.objects.create(name="Harbour Inn", slug="harbour")
    theirs = Property.objects.create(organisation=other, name="Harbour Inn")
    assert owner_client.get(page(theirs)).status_code == 404
    assert owner_client.post(page(theirs), {"arrival_check_hours": "1"}).status_code == 404
