"""Types for requests as the app's middleware leaves them, and the redirect that leaves an htmx fragment."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.middleware import HtmxDetails


def redirect_whole_page(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect of the whole page: for an htmx request, an empty answer whose HX-Redirect sends the browser there
    (a plain 302 would put the target page inside the fragment being swapped)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware (settings.MIDDLEWARE): `request.htmx` says if htmx sent it."""

    htmx: HtmxDetails
