"""The guest page, each unit's arrival link and calendar export (public, by token) and the desk's buttons that hand
the guest page's and the calendar's links out (signed in). Included at the root from config/urls.py, named "guest:…"."""

from django.urls import path

from bookings import guest_views, link_views

app_name = "guest"

urlpatterns = [
    path("g/<str:token>/", guest_views.guest_stay, name="stay"),
    path("g/<str:token>/door/", guest_views.door_did_not_open, name="door"),
    path("u/<str:token>/", guest_views.unit_arrival, name="arrival"),
    path("calendar/<str:token>.ics", guest_views.unit_calendar, name="unit-calendar"),
    path("desk/stays/<int:stay_id>/guest-page/show/", link_views.guest_link_show, name="link-show"),
    path("desk/stays/<int:stay_id>/guest-page/new/", link_views.guest_link_new, name="link-new"),
    path("desk/stays/<int:stay_id>/guest-page/revoke/", link_views.guest_link_revoke, name="link-revoke"),
    path("properties/<int:property_id>/calendar-export/", link_views.calendar_exports, name="calendar-exports"),
    path("units/<int:unit_id>/calendar-export/show/", link_views.calendar_export_show, name="calendar-export-show"),
    path("units/<int:unit_id>/calendar-export/new/", link_views.calendar_export_new, name="calendar-export-new"),
]
