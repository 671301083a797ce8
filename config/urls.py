from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api import views as api_views
from api.v1 import api as api_v1
from config import health
from locks import views as lock_views
from signin import urls as signin_urls
from tenants import reauth_views
from tenants import urls as tenant_urls
from tenants import views as tenant_views
from tenants.admin import superusers_only_for_the_rest
from tenants.forms import AdminSignInForm, SignInForm

admin.site.login_form = AdminSignInForm  # a username too long for the records is refused, not a 500
superusers_only_for_the_rest(admin.site)  # every admin is registered by now (autodiscover runs in admin's ready())

urlpatterns = [
    path("", lock_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("organisation/", tenant_views.switch_organisation, name="switch-organisation"),
    path("language/", tenant_views.choose_language, name="choose-language"),
    path("", include("locks.urls")),
    path("setup/", include(tenant_urls.setup_patterns)),
    path("desk/", include("tenants.urls")),
    path("properties/", include("bookings.policy_urls")),  # a property's arrival and message settings
    path("webhooks/", include("webhooks.urls")),
    path("", include("bookings.guest_urls")),  # the guest page and calendar export (public, by token), their links
    path("", include("bookings.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/confirm/", reauth_views.confirm, name="reauth"),
    path("", include(signin_urls)),  # the second step, enrolment, recovery codes, the owners' Security page
    *signin_urls.webauthn_patterns,
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
    path("api/v1/", api_v1.urls),
    path("integrations/api-keys/", api_views.api_keys, name="api-keys"),
    path("integrations/api-keys/new", api_views.create_key, name="api-key-create"),
    path("integrations/api-keys/<int:key_id>/revoke", api_views.revoke_key, name="api-key-revoke"),
]

if settings.EMBEDDED_SIMULATOR:
    # The embedded Tuya cloud simulator: reached by the app over HTTP only, like the real cloud. Unauthenticated and
    # CSRF-exempt (it plays the cloud and the world around the locks), so mounted only in development, tests and
    # demos; `manage.py check --deploy` fails if it is on in production (locks/simulator/checks.py).
    urlpatterns.append(path("tuya-sim/", include("locks.simulator.urls")))
