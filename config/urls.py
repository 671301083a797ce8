from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from locks import views as lock_views

urlpatterns = [
    path("", lock_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
    # The embedded Tuya cloud simulator: reached by the app over HTTP only, like the real cloud.
    path("tuya-sim/", include("locks.simulator.urls")),
]
