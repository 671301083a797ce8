"""A stand-in for the guest page's URL (`guest:stay`, another part of issue 14), so the messages' {link} can be tested
before it is merged: only its address matters here."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def guest_page(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse("the guest page")


urlpatterns = [path("g/", include(([path("<str:token>/", guest_page, name="stay")], "guest")))]
