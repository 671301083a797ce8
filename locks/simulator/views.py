"""The one entry point of the simulated cloud API: verify like Tuya, then dispatch on (method, path template)."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from locks.simulator import api, clock, faults, params, ratelimit, transport
from locks.simulator.errors import TuyaError
from locks.simulator.models import SimDevice, SimFault, SimToken
from locks.simulator.server import DROP_HEADER

logger = logging.getLogger(__name__)


@csrf_exempt
def cloud_api(request: HttpRequest, api_path: str) -> HttpResponse:
    """Every Tuya API path, with the mount prefix already stripped by the URLconf (clients sign `/v1.0/...`)."""
    path = "/" + api_path
    method = (request.method or "GET").upper()
    now = clock.now()
    try:
        client_id, token = transport.verify(request, path, now)
        found = api.match(method, path)
        if found is None:
            raise TuyaError(1108)
        route, args = found
        if not ratelimit.allow(client_id, route.label):
            raise TuyaError(1199)
        lost_reply = _apply_faults(route, args.get("device_id", ""), token)
        call = api.Call(
            access_id=client_id,
            now=now,
            query=request.GET.dict(),
            body=params.parse_body(request.body),
            args=args,
            # The mount prefix is what precedes the API path (/tuya-sim/ in the app, / standalone).
            base_url=request.build_absolute_uri(request.path[: len(request.path) - len(api_path)] or "/"),
        )
        # A refused call rolls back whatever it touched, so the state stays as it was.
        with transaction.atomic():
            if "device_id" in args:
                call.device = SimDevice.objects.filter(pk=args["device_id"]).first()
                if call.device is None:
                    raise TuyaError(2010)
                if call.device.access_id != client_id:
                    raise TuyaError(1106)  # Tuya's answer for a device outside the project
                api.check_applicable(route, call.device)
            result = route.handler(call)
    except TuyaError as error:
        return transport.failure(error)
    except _Http500:
        return HttpResponse("Internal Server Error", status=500, content_type="text/plain")
    except Exception:
        # Tuya never answers a 500 for a bad request; log ours and answer like its system error.
        logger.exception("simulator failure on %s %s", method, path)
        return transport.failure(TuyaError(500))
    if lost_reply:
        # The work is done and committed; the client never learns it. The standalone server hangs up; mounted
        # in the app (no socket access) the client gets a bare 500.
        response = HttpResponse("", status=500)
        response[DROP_HEADER] = "1"
        return response
    return transport.success(result)


def _apply_faults(route: api.Route, device_id: str, token: SimToken | None) -> bool:
    """Raise or delay as the injected faults say; True when the reply is to be lost after doing the work."""
    lost_reply = False
    for fault in faults.matching([route.name, route.label], device_id):
        faults.consume(fault)
        if fault.kind == SimFault.Kind.LATENCY:
            time.sleep(fault.latency_ms / 1000)
        elif fault.kind == SimFault.Kind.HTTP_500:
            raise _Http500
        elif fault.kind == SimFault.Kind.TUYA_CODE:
            code = fault.code or 500
            if code in (1010, 1011) and token is not None:
                # An expired token stays expired: the client has to fetch a new one, as with the real cloud.
                SimToken.objects.filter(pk=token.pk).update(used=True)
            raise TuyaError(code)
        elif fault.kind == SimFault.Kind.LOST_REPLY:
            lost_reply = True
    return lost_reply


class _Http500(Exception):
    """An injected HTTP 500 from the cloud's front end."""
