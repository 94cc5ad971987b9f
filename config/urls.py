from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api import MeView, api_not_found
from core.health import healthz
from people import sso_views

urlpatterns = [
    # For the load balancer: no sign-in, outside /api/, exempt from the HTTPS redirect.
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="reviews:list", permanent=False), name="home"),
    path("login/", sso_views.SignInView.as_view(), name="login"),
    path("login/refused/", sso_views.sso_refused, name="sso-refused"),
    # Single sign-on: /oidc/authenticate/ sends the browser to the provider, /oidc/callback/
    # takes its answer (the views are people.sso_views', named by OIDC_*_CLASS in settings).
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("people.urls")),
    path("people/", include("people.org_urls")),
    path("scim/v2/", include("people.scim.urls", namespace="scim")),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("rubrics/", include("rubrics.urls")),
    path("reviews/", include("reviews.urls")),
    path("promotions/", include("promotions.urls")),
    path("calibration/", include("calibration.urls")),
    path("metrics/", include("metrics.urls")),
    path("audit/", include("audit.urls")),
    path("notifications/", include("notify.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("rubrics.api_urls")),
    path("api/", include("metrics.api_urls")),
    path("api/", include("reviews.api_urls")),
    path("api/", include("calibration.api_urls")),
    path("api/", include("promotions.api_urls")),
    path("api/", include("audit.api_urls")),
    path("api/", include("people.api_urls")),
    path("api/", include("notify.api_urls")),
    path("api/me/", MeView.as_view(), name="api-me"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),  # JSON, never an HTML page, for an unknown API address
]

handler400 = "core.api.bad_request"
handler500 = "core.api.server_error"
