from django.urls import include, path

from signin import views

app_name = "signin"

urlpatterns = [
    path("accounts/verify/", views.verify, name="verify"),
    path("accounts/enrol/", views.enrol, name="enrol"),
    path("accounts/enrol/app", views.enrol_totp, name="enrol-totp"),
    path("accounts/enrol/recovery-codes", views.recovery_codes, name="recovery-codes"),
    path("accounts/second-factor/remove", views.remove_factors, name="remove-factors"),
    path("security/", views.security, name="security"),
    path("security/requirement", views.requirement, name="requirement"),
    path("security/members/<int:membership_id>/reset", views.reset_member, name="member-reset"),
]

# django-otp-webauthn's ceremonies (passkeys); under /accounts/webauthn/, which a pending session may reach.
webauthn_patterns = [path("accounts/webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn"))]
