"""Types for requests as the app's middleware leaves them."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware (settings.MIDDLEWARE): `request.htmx` says if htmx sent it."""

    htmx: HtmxDetails
