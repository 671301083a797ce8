from django.urls import path

from tenants import views

app_name = "desk"

urlpatterns = [
    path("", views.today, name="today"),
    path("stays/", views.stays, name="stays"),
]
