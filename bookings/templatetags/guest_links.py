"""`{% guest_page_section %}` on the stay page (templates/tenants/stay.html): the guest page's link buttons, for those
who may see the stay's PINs. A template tag, so that tenants' views need not import bookings (nothing below bookings
does: docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from django import template

from bookings import guest_links

register = template.Library()


@register.inclusion_tag("bookings/_guest_link.html", takes_context=True)
def guest_page_section(context: template.Context) -> dict[str, Any]:
    stay = context["stay"]
    request = context["request"]
    if not guest_links.may_share(request.user, stay):
        return {"hidden": True}
    return {"link": guest_links.state(stay), "stay": stay, "csrf_token": context.get("csrf_token")}
