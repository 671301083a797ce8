from django.urls import path

from locks import views

app_name = "locks"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("activity/", views.activity, name="activity"),
    path("properties/<int:property_id>/", views.property_detail, name="property"),
    path("locks/<int:lock_id>/", views.lock_detail, name="lock"),
    path("locks/<int:lock_id>/codes/", views.issue_code, name="issue-code"),
    path("locks/<int:lock_id>/offline/", views.offline_password, name="offline-password"),
    path("locks/<int:lock_id>/offline/preview/", views.offline_preview, name="offline-preview"),
    path("locks/<int:lock_id>/operations/<slug:kind>/", views.lock_operation, name="lock-operation"),
    path("codes/<int:code_id>/", views.code_row, name="code-row"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="code-edit"),
    path("codes/<int:code_id>/reveal/", views.code_reveal, name="code-reveal"),
    path("codes/<int:code_id>/<slug:action>/", views.code_action, name="code-action"),
    path("operations/<int:operation_id>/", views.operation_row, name="operation-row"),
    path("operations/<int:operation_id>/reveal/", views.operation_reveal, name="operation-reveal"),
]
