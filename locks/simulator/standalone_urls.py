"""Root URLconf for `manage.py tuya_simulator`: the API at `/`, so http://host:port is a Tuya endpoint."""

from django.urls import include, path

urlpatterns = [path("", include("locks.simulator.urls"))]
