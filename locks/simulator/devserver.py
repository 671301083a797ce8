"""Let Tuya's underscore headers through Django's development server, for the mounted simulator only.

Django's runserver (and the test live server) drops every header whose name has an underscore, so that
`X_Forwarded_For` cannot pose as `X-Forwarded-For`. Tuya's protocol is built on such headers (client_id,
access_token, sign_method, and whatever Signature-Headers names), so a client calling the simulator mounted
in the app would always get 1105. This keeps exactly those headers, and only on the simulator's mount path;
every other header and path keeps Django's protection. Production servers (gunicorn) are not touched.
"""

from __future__ import annotations

from email.message import Message
from wsgiref.simple_server import WSGIRequestHandler as StdlibHandler

TUYA_HEADERS = frozenset({"client_id", "access_token", "sign_method"})
MOUNT_PREFIX = "/tuya-sim/"  # mirrors config/urls.py


def strip_underscore_headers(headers: Message, path: str) -> None:
    """Django's rule, minus Tuya's headers on requests to the simulator."""
    allowed: set[str] = set()
    if path.startswith(MOUNT_PREFIX):
        signed = (headers.get("Signature-Headers") or "").split(":")
        allowed = {*TUYA_HEADERS, *(name.strip().lower() for name in signed if name.strip())}
    for name in {key for key in headers if "_" in key and key.lower() not in allowed}:
        del headers[name]  # removes every occurrence


def keep_tuya_headers_in_devserver() -> None:
    from django.core.servers import basehttp

    handler = basehttp.WSGIRequestHandler
    if getattr(handler, "keeps_tuya_headers", False):
        return

    def get_environ(self: basehttp.WSGIRequestHandler) -> dict[str, str]:
        strip_underscore_headers(self.headers, self.path)
        return StdlibHandler.get_environ(self)  # what Django's version calls after its own stripping

    handler.get_environ = get_environ  # type: ignore[method-assign]
    handler.keeps_tuya_headers = True  # type: ignore[attr-defined]
