from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("properties/<int:property_id>/calendar-feeds/", views.feed_list, name="feeds"),
    path("properties/<int:property_id>/calendar-feeds/add/", views.feed_add, name="feed-add"),
    path("calendar-feeds/<int:feed_id>/edit/", views.feed_edit, name="feed-edit"),
    path("calendar-feeds/<int:feed_id>/sync/", views.feed_sync, name="feed-sync"),
    path("calendar-feeds/<int:feed_id>/remove/", views.feed_remove, name="feed-remove"),
]
