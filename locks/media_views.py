"""Event photos from private storage: only to members of the photo's organisation (and a front desk's properties)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from locks import media, selectors
from tenants.context import membership_or_404

VARIANTS = ("original", "thumb")


@login_required
@require_GET
def event_media(request: HttpRequest, media_id: int, variant: str) -> FileResponse:
    membership = membership_or_404(request)
    if variant not in VARIANTS:
        raise Http404
    photo = get_object_or_404(selectors.media_of(membership), pk=media_id)
    response = media.serve(photo, variant)
    if response is None:
        raise Http404("This photo is not available.")
    return response
