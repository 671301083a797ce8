"""django-otp-webauthn's relying party: the host the browser signed in on (already checked against ALLOWED_HOSTS)."""

from __future__ import annotations

from django.http import HttpRequest


def relying_party_id(request: HttpRequest) -> str:
    host = request.get_host()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host  # without the port
