from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("add/", views.create, name="create"),
    path("<int:endpoint_id>/", views.endpoint, name="endpoint"),
    path("<int:endpoint_id>/edit/", views.update, name="update"),
    path("<int:endpoint_id>/enable/", views.enable, name="enable"),
    path("<int:endpoint_id>/disable/", views.disable, name="disable"),
    path("<int:endpoint_id>/rotate/", views.rotate, name="rotate"),
    path("<int:endpoint_id>/delete/", views.delete, name="delete"),
    path("<int:endpoint_id>/deliveries/<int:delivery_id>/send-again/", views.send_again, name="send-again"),
]
