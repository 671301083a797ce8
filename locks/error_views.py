"""Error views that also leave a trace in the audit trail."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from audit.services import audit
from config.logs import redact
from tenants.signals import client_ip

logger = logging.getLogger(__name__)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a plain 403 page, and an `access.refused` row (docs/reliability.md S3, S5)."""
    user = getattr(request, "user", None)
    try:
        # The path only, never the query string: a URL is not a place for secrets, but we need not copy one here.
        audit(
            "access.refused",
            actor=user,
            summary=f"CSRF check failed on {redact(request.path)[:200]}: {reason}",
            ip=client_ip(request),
        )
    except DatabaseError:
        # The refusal itself must still be served if the trail cannot be written.
        logger.exception("Could not audit a CSRF refusal")
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
