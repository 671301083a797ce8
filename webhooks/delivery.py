"""Delivering webhooks: the job that POSTs one delivery, its retry schedule, and the sweeper.

At least once, never two workers at a time: `deliver` first claims the row with one conditional UPDATE (a lease,
`claimed_until`, on SQLite and PostgreSQL alike), POSTs the message's frozen body signed for this attempt, and records
the attempt and the outcome in one transaction that also ends the lease. A worker killed mid-send leaves a lease
that lapses after `LEASE`; the sweeper (every 10 s, locks/periodic.py) then hands the delivery out again and it is
sent with the same `webhook-id`, so the receiver can tell it already has it.

Failures (no 2xx answer, a network error) are retried on `SCHEDULE`, which spans more than a day, with jitter; then
the delivery fails. An endpoint whose every attempt has failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled, its
pending deliveries failed, and its organisation's owners e-mailed (webhooks/notices.py).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from urllib3.exceptions import (
    HTTPError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from locks import queues
from locks.cloud import endpoints
from webhooks import notices, signing, targets
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# The waits after the 1st, 2nd, ... failed attempt: eight attempts over about 27 hours (±10 % jitter, so a receiver
# that comes back is not hit by every sender at once), then the delivery gives up.
SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.1
CONNECT_SECONDS = 5.0
READ_SECONDS = 10.0
TOTAL_SECONDS = 15.0  # a receiver trickling its answer is cut off here
LEASE = timedelta(seconds=60)  # longer than one attempt can take, short enough for a quick recovery
KEEP_BODY_BYTES = 1024
DRAIN_BYTES = 64 * 1024  # an answer up to this is read to its end, so the connection can serve the next delivery
USER_AGENT = "Doors-Webhooks/1.0 (+https://www.standardwebhooks.com/)"
SWEEP_BATCH = 1000
PREVIOUS_SECRET_FOR = timedelta(hours=24)  # after a rotation the old secret signs too, for this long


def delay_after(failures: int, *, jitter: float = JITTER) -> timedelta | None:
    """How long to wait after this many failed attempts; None: give up."""
    if failures < 1 or failures > len(SCHEDULE):
        return None
    return SCHEDULE[failures - 1] * random.uniform(1 - jitter, 1 + jitter)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""
    body: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- the job ------------------------------------------------------------------------------------------------------


def claim(delivery_id: int, now: datetime | None = None) -> bool:
    """Take a due, pending delivery for this worker unless another worker holds it (its lease not lapsed yet)."""
    now = now or timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = WebhookDelivery.objects.filter(
        free, pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(claimed_until=now + LEASE)
    return claimed == 1


def deliver(delivery_id: int) -> str:
    """The `webhooks` queue's job: send one delivery if it is due and free; returns what happened."""
    queues.clear_webhook_marker(delivery_id)
    if not claim(delivery_id):
        return "not due"  # delivered, given up, waiting for its next attempt, or another worker has it
    finished = False
    try:
        delivery = WebhookDelivery.objects.select_related("message", "endpoint").filter(pk=delivery_id).first()
        if delivery is None:
            return "gone"
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            WebhookDelivery.objects.filter(pk=delivery_id).update(
                status=Status.FAILED, claimed_until=None, last_error=DISABLED
            )
            finished = True
            return Status.FAILED
        outcome = send(endpoint, delivery.message.msg_id, delivery.message.body.encode())
        finished = True
        return record(delivery, outcome)
    finally:
        if not finished:  # a bug, not a kill: hand it back at once rather than after the lease
            WebhookDelivery.objects.filter(pk=delivery_id).update(claimed_until=None)


DISABLED = "The endpoint was disabled; send it again once it is enabled."


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    current = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        current.append(endpoint.previous_secret)
    return current


def headers_for(endpoint: WebhookEndpoint, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    now = timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signatures(secrets_in_use(endpoint, now), msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send(endpoint: WebhookEndpoint, msg_id: str, body: bytes) -> Outcome:
    """POST the body once, signed now; never raises for anything the receiver or the network does."""
    started = time.monotonic()
    refusal = targets.url_refusal(endpoint.url, resolve=False)  # the setting may have changed since it was saved
    if refusal:
        return Outcome(None, 0, refusal[:300])
    headers = headers_for(endpoint, msg_id, body, int(time.time()))
    try:
        response = targets.pool().request(
            "POST",
            endpoint.url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS),
            redirect=False,
            retries=False,
            preload_content=False,
        )
    except HTTPError as error:
        return Outcome(None, _ms(started), _network_error(error, endpoint.url))
    try:
        kept, problem = _read_answer(response, started)
    finally:
        response.release_conn()
    status = int(response.status)
    if not problem and 300 <= status < 400:
        problem = "Redirects are not followed: give the endpoint its final URL."
    elif not problem and not 200 <= status < 300:
        problem = f"The endpoint answered HTTP {status}; only a 2xx answer counts as delivered."
    return Outcome(status, _ms(started), problem, kept.decode("utf-8", errors="replace"))


def _read_answer(response: urllib3.BaseHTTPResponse, started: float) -> tuple[bytes, str]:
    """The answer's first kilobyte (for the log); a short answer is read to its end so the connection stays usable,
    a long or slow one is cut off (and its connection closed)."""
    kept = b""
    read = 0
    try:
        while True:
            chunk = response.read(4096)
            if not chunk:
                return kept, ""
            read += len(chunk)
            if len(kept) < KEEP_BODY_BYTES:
                kept += chunk[: KEEP_BODY_BYTES - len(kept)]
            if read > DRAIN_BYTES or time.monotonic() - started > TOTAL_SECONDS:
                response.close()  # the rest is not worth a worker's time
                return kept, ""
    except ReadTimeoutError:
        response.close()
        return kept, f"The answer did not finish within {READ_SECONDS:g} s."
    except (ProtocolError, HTTPError) as error:
        response.close()
        return kept, f"The answer broke off ({type(error).__name__})."


def _ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


def _network_error(error: HTTPError, url: str) -> str:
    """What went wrong, in words for the delivery log (never the receiver's own words beyond its answer)."""
    host = urllib3.util.parse_url(url).host or url
    if endpoints.refused_private(error):
        return f"{host} is a private or local address; this server does not call those."
    if isinstance(error, SSLError):
        return f"The TLS connection to {host} failed: check its certificate."
    trouble = targets.connection_trouble(error, host, connect_seconds=CONNECT_SECONDS, read_seconds=READ_SECONDS)
    return trouble or f"Could not send to {host} ({type(error).__name__})."


# --- the outcome --------------------------------------------------------------------------------------------------


def record(delivery: WebhookDelivery, outcome: Outcome) -> str:
    """Log the attempt and move the delivery on (delivered, next try, or given up), ending the lease; the
    endpoint's failing streak follows, and an endpoint failing for days is disabled."""
    now = timezone.now()
    if outcome.delivered:
        fields: dict[str, object] = {"status": Status.DELIVERED, "delivered_at": now, "last_error": ""}
    else:
        failures = delivery.attempts + 1
        wait = delay_after(failures)
        fields = {"attempts": failures, "last_error": outcome.error[:300]}
        if wait is None:
            fields["status"] = Status.FAILED
        else:
            fields["next_attempt_at"] = now + wait
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(pk=delivery.pk).update(
            claimed_until=None, last_status_code=outcome.status_code, **fields
        )
        if not updated:
            return "gone"  # its endpoint was deleted while it was being sent
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk,
            at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error[:300],
            response_body=outcome.body[:KEEP_BODY_BYTES],
        )
        endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if outcome.delivered:
            endpoint.filter(failing_since__isnull=False).update(failing_since=None)
        else:
            endpoint.filter(failing_since__isnull=True).update(failing_since=now)
            disable_failing(now, endpoint_id=delivery.endpoint_id)
    return str(fields.get("status", "retry"))


def disable_failing(now: datetime, *, endpoint_id: int | None = None) -> list[int]:
    """Disable the enabled endpoints whose attempts have all failed for WEBHOOK_DISABLE_AFTER_DAYS, fail their
    pending deliveries, and tell their owners after commit. Call inside a transaction."""
    cutoff = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    failing = WebhookEndpoint.objects.filter(enabled=True, failing_since__lte=cutoff)
    if endpoint_id is not None:
        failing = failing.filter(pk=endpoint_id)
    disabled = []
    for pk, since in failing.values_list("pk", "failing_since"):
        days = (now - since).days if since else settings.WEBHOOK_DISABLE_AFTER_DAYS
        reason = f"Every delivery failed for {days} days; disabled by Doors. Fix the receiver, then enable it."
        taken = WebhookEndpoint.objects.filter(pk=pk, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason=reason, disabled_for_failing=True, owners_told_at=None
        )
        if taken:
            fail_pending(pk)
            disabled.append(pk)
    for pk in disabled:
        transaction.on_commit(lambda pk=pk: notices.tell_owners_disabled(pk))  # type: ignore[misc]
    return disabled


def fail_pending(endpoint_id: int) -> int:
    """A disabled endpoint gets nothing more: its pending deliveries fail (a person may send them again)."""
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=Status.PENDING).update(
        status=Status.FAILED, last_error=DISABLED, claimed_until=None
    )


# --- the sweeper --------------------------------------------------------------------------------------------------


def due(now: datetime | None = None) -> list[int]:
    """Pending deliveries whose attempt is due and that no live worker holds (the partial index's rows only)."""
    now = now or timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    rows = WebhookDelivery.objects.filter(free, status=Status.PENDING, next_attempt_at__lte=now)
    return list(rows.order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])


def sweep() -> int:
    """Periodic (every 10 s): disable endpoints failing for days, e-mail owners not told yet, and enqueue every due
    delivery (retries, lost jobs, lapsed leases of killed workers). Returns how many were handed out."""
    now = timezone.now()
    with transaction.atomic():
        disable_failing(now)
    notices.tell_owners_not_told()
    handed_out = 0
    for delivery_id in due(now):
        handed_out += queues.enqueue_webhook_delivery(delivery_id)
    return handed_out
