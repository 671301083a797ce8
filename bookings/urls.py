from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("properties/<int:property_id>/calendar-feeds/", views.feed_list, name="feeds"),
    path("properties/<int:property_id>/calendar-feeds/add/", views.feed_add, name="feed-add"),
    path("calendar-feeds/<int:feed_id>/edit/", views.feed_edit, name="feed-edit"),
    path("calendar-feeds/<int:feed_id>/sync/", views.feed_sync, name="feed-sync"),
    path("calendar-feeds/<int:feed_id>/remove/", views.feed_remove, name="feed-remove"),
    path("units/<int:unit_id>/arrival-link/show/", views.arrival_link_show, name="arrival-link-show"),
    path("units/<int:unit_id>/arrival-link/new/", views.arrival_link_new, name="arrival-link-new"),
    path("units/<int:unit_id>/arrival-link/revoke/", views.arrival_link_revoke, name="arrival-link-revoke"),
]
