"""Project-wide middleware: request ids and the request log line, session timeouts, the superuser-only job
dashboard, and the Content-Security-Policy."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation

from audit.services import audit
from config import logs
from config.http import redirect_whole_page
from tenants.context import LANGUAGE_SESSION_KEY, idle_timeout_seconds
from tenants.context import SESSION_KEY as ORGANISATION_KEY
from tenants.signals import client_ip

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
            # The embedded Tuya simulator answers the workers' own calls (a dozen a minute per lock at rest): its
            # lines are DEBUG unless something went wrong.
            match = request.resolver_match
            quiet = match is not None and "simulator" in match.app_names and response.status_code < 400
            request_logger.log(
                logging.DEBUG if quiet else logging.INFO,
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


# --- sessions: idle and absolute timeouts --------------------------------------------------------------------

SESSION_STARTED = "_session_started"
SESSION_SEEN = "_session_seen"
# The idle timeout in force, with the organisation chosen when it was worked out: [organisation id or None, seconds].
SESSION_IDLE = "_session_idle"


class SessionTimeout:
    """Signs a user out after their idle timeout without a request, or SESSION_ABSOLUTE_TIMEOUT_SECONDS after
    signing in, whatever they do. The idle timeout depends on the role in the organisation they work in
    (`tenants.context.idle_timeout_seconds`; the global SESSION_IDLE_TIMEOUT_SECONDS with no membership).

    Cheap: the last request's time is written at most once a minute (not on every htmx poll), and the idle timeout
    is kept in the session and worked out again only then, on sign-in and on a switch of organisation: so a changed
    role or organisation setting applies within a minute, with no query on the other requests (and when it is
    worked out, the membership read is the one the page itself uses). A page that polls keeps its session from
    idling; the absolute timeout still ends it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(SESSION_STARTED)
            if started is None:  # the first request after signing in (or a session from before this middleware)
                session[SESSION_STARTED] = session[SESSION_SEEN] = now
                self._remember_idle(request)
                return self.get_response(request)
            if now - started > settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS:
                return self._expired(request)
            seen = session.get(SESSION_SEEN, started)
            idle = session.get(SESSION_IDLE)
            stale = now - seen >= 60
            if stale or not isinstance(idle, list) or idle[0] != session.get(ORGANISATION_KEY):
                idle = self._remember_idle(request)
            if now - seen > idle[1]:
                return self._expired(request)
            if stale:
                session[SESSION_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def _remember_idle(request: HttpRequest) -> list[Any]:
        idle = [request.session.get(ORGANISATION_KEY), idle_timeout_seconds(request)]
        request.session[SESSION_IDLE] = idle
        return idle

    def _expired(self, request: HttpRequest) -> HttpResponse:
        logout(request)  # flushes the session (and is audited as a sign-out)
        messages.info(request, translation.gettext("Your session ended; please sign in again."))
        login_url = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"
        return redirect_whole_page(request, login_url)


# --- the job dashboard: superusers only ------------------------------------------------------------------------

SUPERUSER_ONLY_PREFIXES = ("/django-rq/", "/admin/django_rq/")


class SuperuserOnly:
    """django-rq's dashboard (at /django-rq/ and inside the admin) shows every organisation's jobs and can delete or
    requeue them: superusers only. django-rq itself lets any staff member in. Anonymous requests pass on to its own
    checks (the admin sign-in, or its API token for stats.json)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(SUPERUSER_ONLY_PREFIXES):
            user = request.user
            if user.is_authenticated and not user.is_superuser:
                audit(
                    "access.refused",
                    actor=user,
                    summary=f"job dashboard {request.path_info[:200]} (superusers only)",
                    ip=client_ip(request),
                )
                raise PermissionDenied("The job dashboard is for superusers only.")
        return self.get_response(request)


# --- Content-Security-Policy with a nonce per response ----------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' {style}; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# django-rq's pages (superusers only) carry small inline <style> blocks we cannot sign: styles only are let through
# there. Their inline scripts stay refused, which costs nothing: they call a jQuery plugin that Django's admin no
# longer has, and its actions.js sets the checkboxes up by itself.
DASHBOARD_STYLE = "'unsafe-inline'"


class ContentSecurityPolicy:
    """Scripts and styles from this origin, or inline with this response's nonce (`{{ csp_nonce }}`); nothing inline
    otherwise, no eval, no plugins, no framing. htmx runs with eval, script tags in swaps and its own inline
    indicator styles turned off (the htmx-config meta in base.html)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response  # Django's debug pages are inline styles and scripts (debug only; never in production)
        header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        style = DASHBOARD_STYLE if request.path_info.startswith(SUPERUSER_ONLY_PREFIXES) else f"'nonce-{nonce}'"
        response.headers.setdefault(header, CSP.format(nonce=nonce, style=style))
        return response


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Template context: `csp_nonce` for the rare inline <style> or <script> (`nonce="{{ csp_nonce }}"`)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


class UserLanguage:
    """A signed-in user's chosen language (tenants.UserPreferences, copied into the session at sign-in) over the
    browser's Accept-Language that LocaleMiddleware activated; without a choice the browser's stays."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.session.get(LANGUAGE_SESSION_KEY) if request.user.is_authenticated else None
        if chosen and chosen in dict(settings.LANGUAGES):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)
