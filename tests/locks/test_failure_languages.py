"""Why a lock step failed (a code, a person, a method, an operation, a remote unlock, a photo) is read in the reader's
language (issue 16, the last part of item 2): workers store English `Words` beside the English `failure_reason`;
pages put them together in the page's language, while the API, webhooks and the admin keep English. The cloud's own
message and its code read as the cloud gave them; our hint of what to do next is translated."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from locks import alert_scans, codes, convergence, failures, media, remote
from locks.cloud import port
from locks.models import AccessCode, Alert, EventMedia, LockEvent, LockOperation, RemoteUnlockRequest
from locks.words import Words
from tests.locks.conftest import event_place, run_workers, window
from tests.locks.test_code_lifecycle import given_up_zigbee_code
from webhooks import payloads

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERY_FAILED = "The lock did not accept the code (delivery failed). Check that the lock and its gateway are online."
DELIVERY_FAILED_NL = (
    "Het slot heeft de code niet aangenomen (levering mislukt). Controleer of het slot en de gateway online zijn."
)


def _failed_code(make_lock: Any, world: Any, settings: Any, capture: Any) -> AccessCode:
    code = given_up_zigbee_code(make_lock, world, settings, capture)
    assert code.status == AccessCode.Status.FAILED
    return code


def test_a_failed_code_reads_in_the_pages_language_and_stays_english_for_machines(
    make_lock: Any, world: Any, settings: Any, owner: Any, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    code = _failed_code(make_lock, world, settings, django_capture_on_commit_callbacks)
    assert code.failure_reason == DELIVERY_FAILED
    with translation.override("nl"):
        assert code.failure_text == DELIVERY_FAILED_NL
    assert payloads.access_code(code, failed=True).failure_reason == DELIVERY_FAILED  # webhooks: English

    client.force_login(owner)
    page = client.get(reverse("locks:lock", args=[code.lock_id]), headers={"accept-language": "nl"}).content.decode()
    assert DELIVERY_FAILED_NL in page
    assert DELIVERY_FAILED not in page
    english = client.get(reverse("locks:lock", args=[code.lock_id]), headers={"accept-language": "en"})
    assert DELIVERY_FAILED in english.content.decode()


def test_the_alert_for_a_failed_code_carries_its_reason_in_the_readers_language(
    make_lock: Any, world: Any, settings: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    code = _failed_code(make_lock, world, settings, django_capture_on_commit_callbacks)
    alert_scans.scan()
    alert = Alert.objects.get(kind=Alert.Kind.CODE_NOT_SET)
    assert DELIVERY_FAILED in alert.english_text
    with translation.override("de"):
        assert "Das Schloss hat den Code nicht angenommen" in alert.text
        assert "did not accept" not in alert.text
    assert code.label in alert.english_text


def test_a_code_waiting_for_an_offline_lock_says_so_in_spanish(make_lock: Any, world: Any) -> None:
    lock = make_lock("wifi")
    world.fault(endpoint="temp_password_create", count=1, kind="tuya_code", code=2001)  # "device is offline"
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert "The code will be sent when it can be reached." in code.failure_reason
    with translation.override("es"):
        assert "El código se enviará cuando se pueda alcanzar la cerradura." in code.failure_text
        assert "reached" not in code.failure_text


def test_the_clouds_message_and_code_stay_as_given_and_our_hint_is_translated() -> None:
    hint = "The cloud is limiting requests; wait a little and retry."
    error = port.RateLimited("frequency limit", code=1110, vendor="Tuya", hint=hint)
    words = failures.explain(error)
    assert words.english == "frequency limit (Tuya 1110). The cloud is limiting requests; wait a little and retry."
    with translation.override("fr"):
        assert (
            words.text == "frequency limit (Tuya 1110). Le cloud limite les requêtes ; patientez un peu et réessayez."
        )
    unexplained = port.CloudError("something odd.")
    assert failures.explain(unexplained).english == "something odd."  # no doubled full stop, no empty hint


def test_a_remote_unlock_refusal_that_the_lock_was_not_told_nests_the_clouds_reason(make_lock: Any) -> None:
    lock = make_lock("wifi")
    request = RemoteUnlockRequest.objects.create(
        organisation=lock.organisation,
        lock=lock,
        requested_at=timezone.now(),
        status=RemoteUnlockRequest.Status.REJECTED,
    )
    hint = "The lock is offline: check its power and connection, or issue an offline password."
    error = port.LockOffline("device is offline", code=2001, vendor="Tuya", hint=hint)
    not_told = Words("The door stays shut, but the lock was not told: %(reason)s", {"reason": failures.said(error)})
    remote._finish(request, RemoteUnlockRequest.Status.REJECTED, not_told)
    request.refresh_from_db()
    told = "The door stays shut, but the lock was not told: device is offline (Tuya 2001). The lock is offline:"
    assert request.failure_reason.startswith(told)
    with translation.override("de"):
        assert request.failure_text == (
            "Die Tür bleibt zu, aber das Schloss wurde nicht benachrichtigt: device is offline (Tuya 2001). "
            "Das Schloss ist offline: Prüfen Sie Stromversorgung und Verbindung oder geben Sie ein Offline-Passwort "
            "aus."
        )


def test_a_photo_that_came_without_its_key_says_so_in_french(make_lock: Any) -> None:
    lock = make_lock("wifi")
    event = LockEvent.objects.create(
        organisation=lock.organisation, lock=lock, **event_place(lock), category=LockEvent.Category.ALARM,
        dp_code="doorbell", dp_value="1", classification="doorbell", occurred_at=timezone.now(), natural_key="bell-1",
    )  # fmt: skip
    photo = EventMedia.objects.create(organisation=lock.organisation, event=event, file_url="https://example.com/p")
    assert media.fetch_media(photo.pk) == EventMedia.Status.FAILED
    photo.refresh_from_db()
    assert photo.failure_reason == "The cloud sent this photo without its key."
    with translation.override("fr"):
        assert photo.failure_text == "Le cloud a envoyé cette photo sans sa clé."


def test_a_row_written_before_the_words_were_kept_shows_its_english(make_lock: Any) -> None:
    lock = make_lock("wifi")
    old = LockOperation.objects.create(
        organisation=lock.organisation, lock=lock, kind=LockOperation.Kind.SYNC_PENDING,
        status=LockOperation.Status.FAILED, failure_reason="The lock refused it (Tuya 2302).",
    )  # fmt: skip
    with translation.override("nl"):
        assert old.failure_text == "The lock refused it (Tuya 2302)."
    assert LockOperation(failure_reason="").failure_text == ""
    with translation.override("nl"):
        assert Words("").text == ""  # a cloud state without a reason: not the catalogue's header


def test_workers_finish_the_failed_code_job_without_leaving_words_behind_when_it_is_set_again(
    make_lock: Any, world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    code = _failed_code(make_lock, world, settings, django_capture_on_commit_callbacks)
    world.online(code.lock.device_id, True)
    codes.resend_access_code(code)
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET
    assert (code.failure_reason, code.failure_words, code.failure_text) == ("", None, "")
