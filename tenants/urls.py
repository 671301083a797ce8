from django.urls import path

from tenants import setup_views, views

app_name = "desk"

urlpatterns = [
    path("", views.today, name="today"),
    path("rooms/", views.rooms, name="rooms"),
    path("stays/", views.stays, name="stays"),
    path("stays/<int:stay_id>/", views.stay_detail, name="stay"),
    path("stays/<int:stay_id>/removal/", views.stay_removal, name="stay-removal"),
    path("stays/<int:stay_id>/dates/", views.stay_dates, name="stay-dates"),
    path("stays/<int:stay_id>/move/", views.stay_move, name="stay-move"),
    path("stays/<int:stay_id>/check-in/", views.stay_check_in, name="stay-check-in"),
    path("stays/<int:stay_id>/check-out/", views.stay_check_out, name="stay-check-out"),
    path("stays/<int:stay_id>/cancel/", views.stay_cancel, name="stay-cancel"),
    path("stays/<int:stay_id>/send/", views.stay_send, name="stay-send"),
    path("stays/<int:stay_id>/slip/", views.slip, name="slip"),
    path("stays/<int:stay_id>/messages/send/", views.stay_message_send, name="stay-message-send"),
    path("stays/<int:stay_id>/messages/preview/", views.stay_message_preview, name="stay-message-preview"),
    path("codes/<int:code_id>/status/", views.code_status, name="code-status"),
    path("codes/<int:code_id>/reveal/", views.code_reveal, name="code-reveal"),
    path("codes/<int:code_id>/resend/", views.code_resend, name="code-resend"),
]

# Properties and units, set up from locks' "Cloud and locks" page: under /setup/ beside it (config/urls.py), named
# "setup:property-create" and "setup:units-create".
setup_patterns = (
    [
        path("properties/", setup_views.property_create, name="property-create"),
        path("units/", setup_views.units_create, name="units-create"),
        path("idle-timeouts/", setup_views.idle_timeouts, name="idle-timeouts"),
    ],
    "setup",
)
