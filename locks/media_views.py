"""Event photos from private storage: only to members of the photo's organisation (and a front desk's properties)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from locks import media, selectors
from tenants.context import membership_or_404

VARIANTS = ("original", "thumb")
CACHE_SECONDS = 3600  # the files never change once stored; "private" keeps them out of shared caches


@login_required
@require_GET
def event_media(request: HttpRequest, media_id: int, variant: str) -> FileResponse:
    membership = membership_or_404(request)
    if variant not in VARIANTS:
        raise Http404
    photo = get_object_or_404(selectors.media_of(membership), pk=media_id)
    found = media.file_of(photo, variant)
    if found is None:
        raise Http404("This photo is not available.")
    path, content_type = found
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
