"""Nothing logs a PIN or a cloud secret: a code issued through the services, taken to the lock by the workers, shown
on the lock page and revealed, with every log record at DEBUG captured as production writes them (JSON lines)."""

from __future__ import annotations

import io
from typing import Any

from django.urls import reverse

from locks import codes
from locks.models import AccessCode
from locks.simulator import conf as sim_conf
from tenants.models import Membership, Role
from tests.locks.conftest import run_workers, window


def test_issuing_showing_and_revealing_a_code_logs_neither_pin_nor_secret(
    client: Any,
    make_lock: Any,
    front_desk: Any,
    django_user_model: Any,
    django_capture_on_commit_callbacks: Any,
    everything_logged: io.StringIO,
) -> None:
    lock = make_lock("wifi")
    owner = django_user_model.objects.create_user("owner")
    Membership.objects.create(user=owner, organisation=lock.organisation, role=Role.OWNER)
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends, actor=owner)
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET, code.failure_reason

    client.force_login(owner)
    assert client.get(reverse("locks:lock", args=[lock.pk])).status_code == 200
    revealed = client.post(reverse("locks:code-reveal", args=[code.pk]), headers={"HX-Request": "true"})
    assert code.pin in revealed.content.decode()  # the page shows it to the owner; the logs must not

    written = everything_logged.getvalue()
    assert "doors.request" in written  # the capture works: requests and jobs were logged
    assert "job:" in written
    assert code.pin not in written
    assert sim_conf.DEMO_ACCESS_SECRET not in written
    assert lock.cloud_account.access_secret not in written
