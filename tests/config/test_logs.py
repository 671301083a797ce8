"""Structured logs: JSON lines in production, a request id on every response and on every record of its request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from config import logs
from tests.conftest import production_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What production writes: the root's records through our filters and the JSON formatter."""
    with production_log() as stream:
        yield stream


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # one JSON object per line


def test_a_request_gets_an_id_on_its_response_and_its_log_line(client: Any, json_log: io.StringIO) -> None:
    response = client.get("/accounts/login/?next=/secret-looking-query")
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    (line,) = [r for r in records(json_log) if r["logger"] == "doors.request"]
    assert line["request_id"] == rid
    assert (line["method"], line["path"], line["status"]) == ("GET", "/accounts/login/", 200)
    assert "secret-looking-query" not in json_log.getvalue()  # paths only, never query strings
    assert client.get("/accounts/login/")["X-Request-ID"] != rid


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("3f2b9c1e-1c2d-4e5f-9a8b-7c6d5e4f3a2b", True),
        ("lb:1234.5_x", True),
        ("two words", False),
        ("line\nbreak", False),
        ('{"json": 1}', False),
        ("x" * 129, False),
        ("", False),
    ],
)
def test_a_well_formed_incoming_request_id_is_kept_and_anything_else_replaced(
    client: Any, sent: str, kept: bool
) -> None:
    rid = client.get("/healthz", headers={"X-Request-ID": sent})["X-Request-ID"]
    assert (rid == sent) is kept
    if not kept:
        assert len(rid) == 32


def test_every_record_of_a_request_carries_its_id(client: Any, settings: Any, json_log: io.StringIO) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the probe logs a warning from inside the view
    client.get("/healthz", headers={"X-Request-ID": "probe-42"})
    lines = records(json_log)
    assert {r["logger"] for r in lines} >= {"config.health", "doors.request"}
    assert {r["request_id"] for r in lines} == {"probe-42"}
    logging.getLogger("after").warning("outside any request")
    assert records(json_log)[-1]["request_id"] == "-"


def test_json_lines_carry_time_level_logger_and_exceptions_masked(json_log: io.StringIO) -> None:
    try:
        raise RuntimeError("refused: access_token=abc123 client_secret=s3cr3t")
    except RuntimeError:
        logging.getLogger("doors.test").exception("call failed with Authorization: Bearer tok-123")
    (line,) = records(json_log)
    assert line["level"] == "ERROR"
    assert line["logger"] == "doors.test"
    assert line["time"].endswith("+00:00")
    assert line["message"] == "call failed with Authorization: Bearer ***"
    assert "RuntimeError" in line["exception"]
    for secret in ("abc123", "s3cr3t", "tok-123"):
        assert secret not in json_log.getvalue()


def test_plain_lines_in_debug_carry_the_request_id() -> None:
    record = logging.LogRecord("doors.test", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    token = logs.request_id.set("abc")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    assert logs.PlainFormatter().format(record).endswith("INFO doors.test [abc] hello there")


def test_log_format_is_checked() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.logging_config("xml", "INFO")


def test_a_refused_admin_page_logs_a_line_and_no_traceback(
    client: Any, django_user_model: Any, json_log: io.StringIO
) -> None:
    """#11 C.19: another organisation's object (404) and a change the admin refuses (403) are answers, not faults."""
    from django.urls import reverse

    from audit.models import AuditEvent
    from locks.models import Lock
    from tests.locks.test_admin import build_tenant

    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    b = build_tenant("Bravo", "bravo", "9264815", django_user_model)
    client.force_login(a.staff)
    assert client.get(reverse("admin:locks_lock_change", args=[b.objects[Lock].pk])).status_code == 404
    own_event = a.objects[AuditEvent]
    assert client.post(reverse("admin:audit_auditevent_change", args=[own_event.pk]), {}).status_code == 403
    refusals = [r for r in records(json_log) if r["logger"] == "django.request"]
    assert [r["level"] for r in refusals] == ["WARNING", "WARNING"]
    assert not [r for r in refusals if "exception" in r]
    assert "Traceback" not in json_log.getvalue()


def test_the_simulators_answers_to_the_workers_log_at_debug(client: Any, json_log: io.StringIO) -> None:
    """#11 C.19: a dozen calls a minute per lock at rest, each already the worker's business."""
    logging.getLogger("doors.request").setLevel(logging.DEBUG)
    try:
        client.get("/tuya-sim/_sim/devices")
        client.get("/healthz")
    finally:
        logging.getLogger("doors.request").setLevel(logging.NOTSET)
    lines = {r["path"]: r["level"] for r in records(json_log) if r["logger"] == "doors.request"}
    assert lines == {"/tuya-sim/_sim/devices": "DEBUG", "/healthz": "INFO"}
