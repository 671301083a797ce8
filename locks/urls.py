from django.urls import path

from locks import alert_views, media_views, operation_views, setup_page_views, user_views, views

app_name = "locks"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("setup/", setup_page_views.setup, name="setup"),
    path("setup/cloud/", setup_page_views.cloud_connect, name="cloud-connect"),
    path("setup/cloud/<int:account_id>/", setup_page_views.cloud_account_row, name="cloud-account"),
    path("setup/cloud/<int:account_id>/import/", setup_page_views.cloud_import, name="cloud-import"),
    path("setup/locks/<int:lock_id>/attach/", setup_page_views.lock_attach, name="lock-attach"),
    path("activity/", views.activity, name="activity"),
    path("properties/<int:property_id>/", views.property_detail, name="property"),
    path("locks/<int:lock_id>/", views.lock_detail, name="lock"),
    path("locks/<int:lock_id>/codes/", views.issue_code, name="issue-code"),
    path("locks/<int:lock_id>/offline/", operation_views.offline_password, name="offline-password"),
    path("locks/<int:lock_id>/offline/preview/", operation_views.offline_preview, name="offline-preview"),
    path("locks/<int:lock_id>/advanced/", operation_views.advanced_password, name="advanced-password"),
    path("locks/<int:lock_id>/operations/<slug:kind>/", operation_views.lock_operation, name="lock-operation"),
    path("locks/<int:lock_id>/open/", alert_views.lock_remote_open, name="lock-remote-open"),
    path("codes/<int:code_id>/", views.code_row, name="code-row"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="code-edit"),
    path("codes/<int:code_id>/reveal/", views.code_reveal, name="code-reveal"),
    path("codes/<int:code_id>/<slug:action>/", views.code_action, name="code-action"),
    path("operations/<int:operation_id>/", operation_views.operation_row, name="operation-row"),
    path("operations/<int:operation_id>/reveal/", operation_views.operation_reveal, name="operation-reveal"),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", alert_views.alert_acknowledge, name="alert-acknowledge"),
    path("remote-unlock/", alert_views.remote_unlock_panel, name="remote-unlock"),
    path("remote-unlock/<int:request_id>/", alert_views.remote_unlock_row, name="remote-unlock-row"),
    path(
        "remote-unlock/<int:request_id>/<slug:action>/", alert_views.remote_unlock_decide, name="remote-unlock-decide"
    ),
    # People and methods of a lock (issue #6): locks/user_views.py
    path("locks/<int:lock_id>/users/", user_views.lock_users_page, name="lock-users"),
    path("locks/<int:lock_id>/users/add/", user_views.lock_user_add, name="lock-user-add"),
    path("locks/<int:lock_id>/users/sync/", user_views.lock_users_sync, name="lock-users-sync"),
    path("lock-users/<int:lock_user_id>/edit/", user_views.lock_user_edit, name="lock-user-edit"),
    path("lock-users/<int:lock_user_id>/delete/", user_views.lock_user_delete, name="lock-user-delete"),
    path("lock-users/<int:lock_user_id>/enroll/", user_views.lock_user_enroll, name="lock-user-enroll"),
    path("unlock-methods/<int:method_id>/", user_views.unlock_method_row, name="unlock-method"),
    path("unlock-methods/<int:method_id>/<slug:action>/", user_views.unlock_method_action, name="unlock-method-action"),
    # Event photos from private storage (issue #6): locks/media_views.py
    path("media/<int:media_id>/<str:variant>/", media_views.event_media, name="event-media"),
]
