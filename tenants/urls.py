from django.urls import path

from tenants import views

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
    path("codes/<int:code_id>/status/", views.code_status, name="code-status"),
    path("codes/<int:code_id>/reveal/", views.code_reveal, name="code-reveal"),
    path("codes/<int:code_id>/resend/", views.code_resend, name="code-resend"),
]
