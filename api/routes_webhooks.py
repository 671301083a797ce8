"""Webhook endpoints through the API (scope webhooks): register (the secret shown once), change, enable, disable,
rotate the secret, delete; each endpoint's deliveries with their attempts, and send one again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api import pagination
from api.access import ip_of, need
from api.responses import READ, WRITE, ok
from api.routes_places import Listing
from api.schemas import Input, Page
from tenants.models import ApiKey
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.payloads import ALL_TYPES

router = Router(tags=["Webhooks"])
EventType = Literal[ALL_TYPES]  # type: ignore[valid-type]


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str
    failing_since: datetime | None = Field(description="The first failed attempt since the last success.")
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: signs every delivery. Shown this once; store it with the receiver.")


class EndpointIn(Input):
    url: str = Field(max_length=500, description="https, on a public address (this server refuses private ones).")
    event_types: list[EventType] = Field(min_length=1)
    description: str = Field(default="", max_length=200)


class EndpointChange(Input):
    url: str | None = Field(default=None, max_length=500)
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = Field(default=None, description="false stops deliveries; true sends from the next event.")


class SecretOut(Schema):
    secret: str = Field(description="The new secret, shown this once; the old one also signs for a day.")


class AttemptOut(Schema):
    at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came (see error).")
    duration_ms: int
    error: str


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: EventType
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class EndpointPage(Page):
    items: list[EndpointOut]


class DeliveryPage(Page):
    items: list[DeliveryOut]


class DeliveryFilter(Listing):
    status: Literal["pending", "delivered", "failed"] | None = None


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.pk, url=endpoint.url, description=endpoint.description, event_types=endpoint.event_types,
        enabled=endpoint.enabled, disabled_at=endpoint.disabled_at, disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since, created_at=endpoint.created_at,
    )  # fmt: skip


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    attempts: Sequence[WebhookAttempt] = sorted(row.attempt_log.all(), key=lambda a: a.at)
    return DeliveryOut(
        id=row.pk, endpoint_id=row.endpoint_id, webhook_id=row.message.msg_id, event_type=row.message.event_type,
        status=row.status, attempts=row.attempts,  # type: ignore[arg-type]
        next_attempt_at=row.next_attempt_at if row.status == WebhookDelivery.Status.PENDING else None,
        last_status_code=row.last_status_code, last_error=row.last_error, delivered_at=row.delivered_at,
        created_at=row.created_at,
        attempt_log=[AttemptOut(at=a.at, status_code=a.status_code, duration_ms=a.duration_ms, error=a.error)
                     for a in attempts],
    )  # fmt: skip


def _endpoint(request: HttpRequest, endpoint_id: int) -> tuple[ApiKey, WebhookEndpoint]:
    key = need(request, ApiKey.Scope.WEBHOOKS)
    return key, get_object_or_404(WebhookEndpoint.objects.for_user(key), pk=endpoint_id)


@router.get("/webhook-endpoints", response=ok(EndpointPage, errors=READ), summary="List webhook endpoints")
def list_endpoints(request: HttpRequest, query: Query[Listing]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.WEBHOOKS)
    rows = WebhookEndpoint.objects.for_user(key)
    return pagination.page(
        rows, cursor=query.cursor, limit=query.limit, render=lambda es: [endpoint_out(e) for e in es]
    )


@router.post("/webhook-endpoints", response=ok(EndpointCreated, 201, WRITE), summary="Register a webhook endpoint")
def create_endpoint(request: HttpRequest, body: EndpointIn) -> Status[EndpointCreated]:
    """Deliveries are signed per Standard Webhooks with the secret in this answer (not shown again)."""
    key = need(request, ApiKey.Scope.WEBHOOKS)
    endpoint, secret = services.create_endpoint(
        key.organisation, url=body.url, event_types=body.event_types, description=body.description, actor=key,
        ip=ip_of(request),
    )  # fmt: skip
    return Status(201, EndpointCreated(**endpoint_out(endpoint).model_dump(), secret=secret))


@router.get("/webhook-endpoints/{endpoint_id}", response=ok(EndpointOut), summary="A webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: int) -> EndpointOut:
    return endpoint_out(_endpoint(request, endpoint_id)[1])


@router.patch("/webhook-endpoints/{endpoint_id}", response=ok(EndpointOut, 200, WRITE), summary="Change an endpoint")
def change_endpoint(request: HttpRequest, endpoint_id: int, body: EndpointChange) -> EndpointOut:
    key, endpoint = _endpoint(request, endpoint_id)
    if body.url is not None or body.event_types is not None or body.description is not None:
        endpoint = services.update_endpoint(
            endpoint, url=body.url, event_types=body.event_types, description=body.description, actor=key,
            ip=ip_of(request),
        )  # fmt: skip
    if body.enabled is True:
        endpoint = services.enable_endpoint(endpoint, actor=key, ip=ip_of(request))
    elif body.enabled is False:
        endpoint = services.disable_endpoint(endpoint, actor=key, ip=ip_of(request), reason="Disabled through the API.")
    return endpoint_out(endpoint)


@router.delete("/webhook-endpoints/{endpoint_id}", response=ok(None, 204, WRITE), summary="Delete an endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Status[None]:
    key, endpoint = _endpoint(request, endpoint_id)
    services.delete_endpoint(endpoint, actor=key, ip=ip_of(request))
    return Status(204, None)


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response=ok(SecretOut, 200, WRITE),
             summary="A new signing secret")  # fmt: skip
def rotate_secret(request: HttpRequest, endpoint_id: int) -> SecretOut:
    key, endpoint = _endpoint(request, endpoint_id)
    return SecretOut(secret=services.rotate_secret(endpoint, actor=key, ip=ip_of(request)))


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries", response=ok(DeliveryPage), summary="An endpoint's deliveries"
)
def list_deliveries(request: HttpRequest, endpoint_id: int, query: Query[DeliveryFilter]) -> dict[str, object]:
    _, endpoint = _endpoint(request, endpoint_id)
    rows = endpoint.deliveries.select_related("message").prefetch_related("attempt_log")
    if query.status is not None:
        rows = rows.filter(status=query.status)
    return pagination.page(
        rows, cursor=query.cursor, limit=query.limit, render=lambda ds: [delivery_out(d) for d in ds]
    )


@router.post("/webhook-deliveries/{delivery_id}/send-again", response=ok(DeliveryOut, 200, WRITE),
             summary="Send a delivery again")  # fmt: skip
def send_again(request: HttpRequest, delivery_id: int) -> DeliveryOut:
    """Now, with the same `webhook-id` and body; its retry schedule starts over. 422 for a disabled endpoint."""
    key = need(request, ApiKey.Scope.WEBHOOKS)
    row = get_object_or_404(WebhookDelivery.objects.for_user(key).select_related("message"), pk=delivery_id)
    [again] = services.send_again(row, actor=key, ip=ip_of(request))
    return delivery_out(WebhookDelivery.objects.select_related("message").get(pk=again.pk))
