"""The landlord pages: portfolio, property, lock page with its codes, code actions, PIN reveal, lock tools.

Against the simulator with real workers: an action on the page reaches the lock, and the row says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks.models import AccessCode, Lock, LockOperation
from tenants.models import Membership, Organisation, Property, Role, Unit
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status
HTMX = {"HX-Request": "true"}


def local(moment: Any) -> str:
    import zoneinfo

    return moment.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%dT%H:%M")


def issue(client: Client, lock: Lock, **fields: Any) -> Any:
    now = timezone.now()
    data = {
        "lock": lock.pk,
        "label": "Ada",
        "kind": "window",
        "starts_at": local(now - timedelta(hours=1)),
        "ends_at": local(now + timedelta(days=1)),
        **fields,
    }
    return client.post(reverse("locks:issue-code", args=[lock.pk]), data, headers=HTMX)


def settled(code: AccessCode) -> AccessCode:
    run_workers()
    code.refresh_from_db()
    return code


def test_portfolio_shows_each_property_with_its_badges(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    Lock.objects.filter(pk=lock.pk).update(online=False, battery=9)
    response = owner_client.get(reverse("locks:portfolio"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Canal Hotel" in html
    assert "1 offline" in html
    assert "1 low battery" in html


def test_issuing_a_code_on_the_lock_page_reaches_the_lock_and_the_row_says_so(
    owner_client: Client, make_lock: Any, world: Any
) -> None:
    lock = make_lock("zigbee")
    response = issue(owner_client, lock)
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"  # the page reloads with the new row and the message
    code = AccessCode.objects.get(lock=lock)
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert f'hx-get="{reverse("locks:code-row", args=[code.pk])}"' in page  # polls while not confirmed
    assert code.pin not in page
    code = settled(code)
    row = owner_client.get(reverse("locks:code-row", args=[code.pk]), headers=HTMX).content.decode()
    assert "On the lock" in row
    assert "hx-trigger" not in row  # settled: the row stops polling
    assert world.opens(lock.device_id, code.pin)


def test_issue_form_errors_sit_beside_their_fields_and_nothing_is_created(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    now = timezone.now()
    html = issue(owner_client, lock, ends_at=local(now - timedelta(days=1))).content.decode()
    assert 'id="issue-form"' in html  # the fragment swapped in place of the form
    assert "The code must end after it starts." in html
    past = {"starts_at": local(now - timedelta(days=2)), "ends_at": local(now - timedelta(days=1))}
    assert "This window has already ended" in issue(owner_client, lock, **past).content.decode()
    html = issue(owner_client, lock, pin="12").content.decode()
    assert "This lock takes PINs of exactly 7 digits." in html
    assert not AccessCode.objects.exists()
    plain = owner_client.post(
        reverse("locks:issue-code", args=[lock.pk]),
        {"lock": lock.pk, "label": "", "kind": "weekly", "starts_at": local(now), "ends_at": local(now + timedelta(1))},
    )
    assert plain.status_code == 400
    form = plain.context["issue_form"]
    assert set(form.errors) >= {"label", "schedule_days", "schedule_start", "schedule_end"}
    assert not AccessCode.objects.exists()


def test_a_weekly_code_from_the_lock_page_carries_its_schedule(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("zigbee")
    issue(
        owner_client,
        lock,
        label="Cleaner",
        kind="weekly",
        schedule_days=["0", "2"],
        schedule_start="09:00",
        schedule_end="12:00",
        ends_at=local(timezone.now() + timedelta(days=90)),
    )
    code = AccessCode.objects.get(label="Cleaner")
    assert code.schedule_text == "Mon, Wed 09:00–12:00"
    assert settled(code).status == Status.SET
    assert "Mon, Wed 09:00–12:00" in owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()


def test_freeze_unfreeze_delete_from_the_page_take_effect_on_the_lock(
    owner_client: Client, make_lock: Any, world: Any
) -> None:
    lock = make_lock("zigbee")
    issue(owner_client, lock)
    code = settled(AccessCode.objects.get(lock=lock))

    def act(action: str) -> str:
        url = reverse("locks:code-action", args=[code.pk, action])
        response = owner_client.post(url, {"version": code.version}, headers=HTMX)
        assert response.status_code == 200
        settled(code)
        return response.content.decode()

    assert "Freezing" in act("freeze")
    assert code.status == Status.FROZEN
    assert not world.opens(lock.device_id, code.pin)
    act("unfreeze")
    assert code.status == Status.SET
    assert world.opens(lock.device_id, code.pin)
    act("delete")
    assert code.status == Status.REMOVED
    assert not world.opens(lock.device_id, code.pin)


def test_delete_without_javascript_asks_first_and_deletes_only_once_confirmed(
    owner_client: Client, make_lock: Any
) -> None:
    """Without JavaScript the browser cannot ask (hx-confirm): the plain POST shows a page that asks, and only its
    button, which says so, deletes."""
    lock = make_lock("wifi")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    url = reverse("locks:code-action", args=[code.pk, "delete"])
    asked = owner_client.post(url, {"version": code.version})
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Remove the code “Ada” from the lock?" in html
    assert f'action="{url}"' in html
    assert f'name="version" value="{code.version}"' in html  # a page gone stale meanwhile is still told
    assert 'name="confirmed" value="yes"' in html
    assert f'href="{reverse("locks:lock", args=[lock.pk])}"' in html  # the way back keeps the code
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.ACTIVE
    done = owner_client.post(url, {"version": code.version, "confirmed": "yes"})
    assert done.status_code == 302
    assert done["Location"] == reverse("locks:lock", args=[lock.pk])
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.REMOVED


def test_delete_through_htmx_was_asked_in_the_browser_and_acts_at_once(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert 'hx-confirm="Remove the code “Ada” from the lock?"' in page
    url = reverse("locks:code-action", args=[code.pk, "delete"])
    response = owner_client.post(url, {"version": code.version}, headers=HTMX)
    assert response.status_code == 200
    assert "Removing" in response.content.decode()
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.REMOVED


def test_freezing_without_javascript_still_acts_at_once(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("zigbee")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    response = owner_client.post(reverse("locks:code-action", args=[code.pk, "freeze"]), {"version": code.version})
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.FROZEN  # undone by Unfreeze: nothing to ask


def test_clear_all_without_javascript_asks_first(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("zigbee_hotel")
    url = reverse("locks:lock-operation", args=[lock.pk, "clear-all"])
    asked = owner_client.post(url)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Remove every temporary code from this hotel lock?" in html
    assert f'action="{url}"' in html
    assert not LockOperation.objects.exists()
    done = owner_client.post(url, {"confirmed": "yes"})
    assert done.status_code == 302
    assert LockOperation.objects.get(lock=lock).kind == LockOperation.Kind.CLEAR_ALL
    again = owner_client.post(url, headers=HTMX)  # the browser asked (hx-confirm): at once
    assert again.status_code == 200
    assert LockOperation.objects.filter(lock=lock, kind=LockOperation.Kind.CLEAR_ALL).count() == 2


def test_a_stale_page_is_told_and_changes_nothing(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("zigbee")
    issue(owner_client, lock)
    code = settled(AccessCode.objects.get(lock=lock))
    stale = code.version
    owner_client.post(reverse("locks:code-action", args=[code.pk, "freeze"]), {"version": stale}, headers=HTMX)
    response = owner_client.post(
        reverse("locks:code-action", args=[code.pk, "delete"]), {"version": stale}, headers=HTMX
    )
    assert "changed while you were looking" in response.content.decode()
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.FROZEN


def test_changing_a_codes_window_on_the_page(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    issue(owner_client, lock)
    code = settled(AccessCode.objects.get(lock=lock))
    url = reverse("locks:code-edit", args=[code.pk])
    assert "Save change" in owner_client.get(url, headers=HTMX).content.decode()
    new_end = timezone.now() + timedelta(days=3)
    response = owner_client.post(
        url,
        {"starts_at": local(code.starts_at), "ends_at": local(new_end), "version": code.version},
        headers=HTMX,
    )
    assert "Changing" in response.content.decode()
    code = settled(code)
    assert code.status == Status.SET
    assert abs(code.ends_at - new_end) < timedelta(minutes=1)
    bad = owner_client.post(url, {"starts_at": "", "ends_at": local(new_end), "version": code.version}, headers=HTMX)
    assert "This field is required." in bad.content.decode()


def test_pin_reveal_is_an_audited_post_never_cached(owner_client: Client, owner: Any, make_lock: Any) -> None:
    lock = make_lock("wifi")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    url = reverse("locks:code-reveal", args=[code.pk])
    assert owner_client.get(url).status_code == 405
    response = owner_client.post(url, headers=HTMX)
    assert code.pin in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="code.reveal", actor=owner, object_id=str(code.pk)).exists()


def test_a_viewer_sees_no_pin_and_may_not_act(client: Client, owner_client: Client, org: Any, make_lock: Any,
                                                django_user_model: Any) -> None:  # fmt: skip
    lock = make_lock("zigbee")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    other = Client()
    other.force_login(viewer)
    page = other.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Show PIN" not in page
    assert "Issue a code" not in page
    assert code.pin not in page
    assert other.post(reverse("locks:code-reveal", args=[code.pk])).status_code == 403
    response = other.post(reverse("locks:code-action", args=[code.pk, "delete"]), {"version": code.version})
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.ACTIVE


def test_another_organisations_pages_are_not_found(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    issue(owner_client, lock)
    code = AccessCode.objects.get(lock=lock)
    stranger_org = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    stranger = type(lock.cloud_account.organisation.memberships.first().user).objects.create_user("stranger")
    Membership.objects.create(user=stranger, organisation=stranger_org, role=Role.OWNER)
    other = Client()
    other.force_login(stranger)
    for url, method in (
        (reverse("locks:lock", args=[lock.pk]), "get"),
        (reverse("locks:property", args=[lock.unit.property_id]), "get"),
        (reverse("locks:code-row", args=[code.pk]), "get"),
        (reverse("locks:code-edit", args=[code.pk]), "get"),
        (reverse("locks:code-reveal", args=[code.pk]), "post"),
        (reverse("locks:code-action", args=[code.pk, "delete"]), "post"),
        (reverse("locks:issue-code", args=[lock.pk]), "post"),
        (reverse("locks:lock-operation", args=[lock.pk, "dynamic"]), "post"),
    ):
        assert getattr(other, method)(url).status_code == 404, url
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.ACTIVE


def test_unsafe_requests_without_a_csrf_token_are_refused(owner: Any, make_lock: Any) -> None:
    lock = make_lock("wifi")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(reverse("locks:issue-code", args=[lock.pk]), {"label": "x"})
    assert response.status_code == 403
    assert not AccessCode.objects.exists()


def test_offline_password_shows_the_hour_rounding_before_issuing(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    starts = timezone.now().replace(minute=40) + timedelta(hours=2)
    ends = starts + timedelta(hours=3)
    preview = owner_client.get(
        reverse("locks:offline-preview", args=[lock.pk]),
        {"kind": "multiple", "starts_at": local(starts), "ends_at": local(ends)},
        headers=HTMX,
    ).content.decode()
    assert f"{local(starts)[11:13]}:00" in preview
    assert "rounds to whole hours" in preview
    response = owner_client.post(
        reverse("locks:offline-password", args=[lock.pk]),
        {"kind": "multiple", "label": "Plumber", "starts_at": local(starts), "ends_at": local(ends)},
        headers=HTMX,
    )
    assert response.status_code == 200
    operation = LockOperation.objects.get(lock=lock)
    run_workers()
    operation.refresh_from_db()
    assert operation.status == LockOperation.Status.DONE, operation.failure_reason
    revealed = owner_client.post(reverse("locks:operation-reveal", args=[operation.pk]), headers=HTMX)
    assert operation.secret in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"


def test_a_lock_that_cannot_do_it_gets_a_plain_message(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    response = owner_client.post(reverse("locks:lock-operation", args=[lock.pk, "clear-all"]), headers=HTMX)
    assert "Only Zigbee hotel locks" in response.content.decode()
    assert not LockOperation.objects.exists()


def test_property_page_lists_units_and_locks(owner_client: Client, make_lock: Any, org: Organisation) -> None:
    lock = make_lock("wifi")
    prop = Property.objects.get(organisation=org)
    Unit.objects.create(property=prop, name="Room 99")
    html = owner_client.get(reverse("locks:property", args=[prop.pk])).content.decode()
    assert lock.name in html
    html = owner_client.get(reverse("locks:property", args=[prop.pk]), {"q": "nothing-like-it"}).content.decode()
    assert lock.name not in html


def test_a_double_submitted_issue_form_issues_one_code(owner_client: Client, make_lock: Any) -> None:
    import uuid

    lock = make_lock("wifi")
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert 'name="request_token"' in page
    token = str(uuid.uuid4())
    first = issue(owner_client, lock, request_token=token)
    second = issue(owner_client, lock, request_token=token)
    assert first.status_code == second.status_code == 200
    assert AccessCode.objects.filter(lock=lock).count() == 1
    issue(owner_client, lock, request_token=str(uuid.uuid4()))  # a new form is a new code
    assert AccessCode.objects.filter(lock=lock).count() == 2


def test_a_hotel_locks_admin_password_is_set_from_the_lock_page(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("zigbee_hotel")
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Admin or emergency password" in page
    url = reverse("locks:advanced-password", args=[lock.pk])
    bad = owner_client.post(url, {"advanced_type": "admin", "pin": "123456"}, headers=HTMX)
    assert "not easy to guess" in bad.content.decode()
    assert not LockOperation.objects.exists()
    owner_client.post(url, {"advanced_type": "admin", "pin": "804613"}, headers=HTMX)
    operation = LockOperation.objects.get(lock=lock)
    run_workers()
    operation.refresh_from_db()
    assert operation.status == LockOperation.Status.DONE, operation.failure_reason
    assert "804613" not in owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()


def test_one_offline_password_is_cleared_by_choosing_it(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    starts = timezone.now() + timedelta(hours=1)
    owner_client.post(
        reverse("locks:offline-password", args=[lock.pk]),
        {"kind": "multiple", "label": "Plumber", "starts_at": local(starts), "ends_at": local(starts + timedelta(3))},
        headers=HTMX,
    )
    run_workers()
    issued = LockOperation.objects.get(lock=lock)
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert f'<option value="{issued.pk}">Plumber' in page
    owner_client.post(
        reverse("locks:offline-password", args=[lock.pk]), {"kind": "clear_one", "clears": issued.pk}, headers=HTMX
    )
    run_workers()
    clearing = LockOperation.objects.exclude(pk=issued.pk).get()
    assert clearing.params["type"] == "clear_one"
    assert clearing.params["password_id"] == issued.result["password_id"]
    assert clearing.status == LockOperation.Status.DONE, clearing.failure_reason
