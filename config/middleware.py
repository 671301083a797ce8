"""Project-wide middleware: request ids (and the one log line per request)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config import logs

request_logger = logging.getLogger("doors.request")

# An id a proxy or client sent is kept if it is plain: letters, digits and . _ : - only, 1 to 128 of them, so it
# cannot forge a log line or carry anything else. Otherwise the request gets a fresh one.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestId:
    """Takes `X-Request-ID` if well-formed or makes one; puts it on the response and on every log record of the
    request; logs one line per request (method, path without the query string, status, duration)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if WELL_FORMED_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        token = logs.request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            request_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            logs.request_id.reset(token)
