"""Dashboard views for landlords: thin function views that parse, call one service and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tenants.context import current_membership


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where each role starts: the front desk at its desk, everyone else at the portfolio."""
    membership = current_membership(request)
    if membership is None:
        return render(request, "home.html")
    return redirect("desk:today" if membership.role == "front_desk" else "locks:portfolio")


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    return render(request, "locks/portfolio.html", {"nav": "portfolio"})
