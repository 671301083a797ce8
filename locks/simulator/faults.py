"""Fault injection: failures the world can switch on per endpoint so clients' retries get exercised."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from locks.simulator.models import SimFault

KIND_NAMES = [choice.value for choice in SimFault.Kind]
TUYA_CODES = {1010, 1011, 1013, 1110, 1111, 1199, 2001, 500}


def matching(endpoint_names: list[str], device_id: str) -> list[SimFault]:
    faults = SimFault.objects.filter(endpoint__in=["*", *endpoint_names]).order_by("id")
    return [f for f in faults if not f.device_id or f.device_id == device_id]


@transaction.atomic
def consume(fault: SimFault) -> None:
    """Count one use; a fault with a count disappears when it is used up."""
    if fault.remaining is None:
        return
    SimFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
    SimFault.objects.filter(pk=fault.pk, remaining__lte=0).delete()


def create(data: dict[str, Any]) -> SimFault:
    """Validate a control-API request body and store the fault; ValueError on bad input."""
    kind = data.get("kind") or data.get("fault")
    if kind not in KIND_NAMES:
        raise ValueError(f"kind must be one of {', '.join(KIND_NAMES)}")
    code = data.get("code")
    if kind == SimFault.Kind.TUYA_CODE and (not isinstance(code, int) or isinstance(code, bool)):
        raise ValueError(f"code must be an integer Tuya code, e.g. one of {sorted(TUYA_CODES)}")
    latency = data.get("latency_ms", 0)
    count = data.get("count")
    for name, value in (("latency_ms", latency), ("count", count)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer")
    if kind == SimFault.Kind.LATENCY and not latency:
        raise ValueError("latency_ms is needed for a latency fault")
    return SimFault.objects.create(
        endpoint=str(data.get("endpoint") or "*"),
        device_id=str(data.get("device_id") or ""),
        kind=kind,
        code=code if kind == SimFault.Kind.TUYA_CODE else None,
        latency_ms=latency or 0,
        remaining=count,
    )


def as_json(fault: SimFault) -> dict[str, Any]:
    return {
        "id": fault.pk,
        "endpoint": fault.endpoint,
        "device_id": fault.device_id,
        "kind": fault.kind,
        "code": fault.code,
        "latency_ms": fault.latency_ms,
        "remaining": fault.remaining,
    }
