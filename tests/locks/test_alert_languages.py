"""An alert is read in its reader's language: the page in the page's language, each e-mail in the language its
recipient chose; machines (API, webhooks) keep English. Rows written before alerts were translatable show as
they were stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from locks import alerts
from locks.models import Alert, LockEvent
from tenants.models import Membership, Organisation, Role, UserPreferences
from tests.locks.conftest import event_place
from webhooks import payloads

pytestmark = pytest.mark.django_db(transaction=True)


def _tamper(lock: Any) -> Alert:
    event = LockEvent.objects.create(
        organisation=lock.organisation, lock=lock, **event_place(lock), category=LockEvent.Category.ALARM,
        dp_code="alarm_lock", dp_value="pry", classification="pry", occurred_at=timezone.now(), natural_key="pry-1",
    )  # fmt: skip
    alerts.on_new_events([event])
    return Alert.objects.get(lock=lock)


def test_each_recipient_gets_the_email_in_their_language(
    make_lock: Any, owner: Any, org: Organisation, django_user_model: Any, mailoutbox: list[Any]
) -> None:
    manager = django_user_model.objects.create_user("lotte", email="lotte@example.com", password="pw-lotte-1")
    Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    UserPreferences.objects.create(user=manager, language="nl")
    lock = make_lock("wifi")

    alert = _tamper(lock)

    by_recipient = {tuple(message.to): message for message in mailoutbox}
    assert set(by_recipient) == {("owner@example.com",), ("lotte@example.com",)}
    english, dutch = by_recipient[("owner@example.com",)], by_recipient[("lotte@example.com",)]
    assert f"{lock.name} reported a pry or tamper alarm." in english.body
    assert f"{lock.name} meldde een inbraak- of sabotagealarm." in dutch.body
    assert "Voor het eerst gezien" in dutch.body
    assert "First seen" not in dutch.body
    assert lock.name in dutch.subject
    assert " bij " in dutch.subject
    assert payloads.alert(alert).message == f"{lock.name} reported a pry or tamper alarm."


def test_the_alerts_page_shows_the_message_in_the_pages_language(client: Client, make_lock: Any, owner: Any) -> None:
    lock = make_lock("wifi")
    alerts.store_lock_state(lock, {"online": False}, at=timezone.now() - timedelta(minutes=1))
    client.force_login(owner)
    page = client.get(reverse("locks:alerts"), headers={"accept-language": "de"}).content.decode()
    assert f"{lock.name} ist offline: Neue Codes erreichen es nicht" in page
    assert "is offline: new codes cannot reach it" not in page


def test_a_row_from_before_keeps_its_english_and_a_new_one_is_translated(make_lock: Any) -> None:
    lock = make_lock("wifi")
    old = Alert(organisation=lock.organisation, lock=lock, kind=Alert.Kind.TAMPER, message="Door reported 50 % pry.")
    with translation.override("fr"):
        assert old.text == "Door reported 50 % pry."  # no arguments: finished English, shown as stored
    new = Alert(organisation=lock.organisation, lock=lock, kind=Alert.Kind.TAMPER,
                message="%(lock)s reported a pry or tamper alarm.", message_args={"lock": "Porte"})  # fmt: skip
    with translation.override("fr"):
        assert new.text == "Porte a signalé une alarme d’effraction ou de sabotage."
