"""The simulator's URLs, mounted at /tuya-sim/ in the app and at the root by `manage.py tuya_simulator`."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from locks.simulator import control, controlpage, views, world

app_name = "simulator"

urlpatterns: list[URLPattern] = [
    path("_sim/", controlpage.page, name="page"),
    path("_sim/photos/<str:token>.jpg", controlpage.photo, name="photo"),
    path("_sim/devices", control.device_list, name="devices"),
    path("_sim/devices/<str:device_id>", control.device_detail, name="device"),
    path("_sim/devices/<str:device_id>/keypad", control.keypad, name="keypad"),
    path("_sim/devices/<str:device_id>/passwords", control.device_passwords, name="passwords"),
    path("_sim/devices/<str:device_id>/events", control.device_events, name="events"),
    path("_sim/faults", control.fault_list, name="faults"),
    path("_sim/projects", control.project_list, name="projects"),
    path("_sim/devices/<str:device_id>/present", world.present, name="present"),
    path("_sim/devices/<str:device_id>/doorbell", world.doorbell, name="doorbell"),
    path("_sim/devices/<str:device_id>/alarm", world.alarm, name="alarm"),
    path("_sim/devices/<str:device_id>/remote-request", world.remote_request, name="remote-request"),
    path("_sim/devices/<str:device_id>/enroll-step", world.enroll_step, name="enroll-step"),
    path("_sim/devices/<str:device_id>/enrollment", world.enrollment, name="enrollment"),
    path("_sim/devices/<str:device_id>/home-users", world.home_users, name="home-users"),
    path("_sim/devices/<str:device_id>/home-users/<str:user_id>", world.home_user_remove, name="home-user"),
    path("_sim/devices/<str:device_id>/methods", world.methods, name="methods"),
    path("_sim/media/<str:token>.jpg.enc", world.media_file, name="media"),
    # Everything else is the cloud API; unknown paths get Tuya's 1108 from the dispatcher, not a 404.
    re_path(r"^(?P<api_path>.*)$", views.cloud_api, name="api"),
]
