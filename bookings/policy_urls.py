from django.urls import path

from bookings import policy_views

app_name = "booking-policy"

urlpatterns = [
    path("<int:property_id>/arrivals/", policy_views.policy_page, name="page"),
    path("<int:property_id>/arrivals/templates/", policy_views.template_add, name="template-add"),
    path("<int:property_id>/arrivals/templates/<int:template_id>/", policy_views.template_edit, name="template-edit"),
    path(
        "<int:property_id>/arrivals/templates/<int:template_id>/delete/",
        policy_views.template_delete,
        name="template-delete",
    ),
]
