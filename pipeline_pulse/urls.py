"""Top-level URL routes; each app owns its own routes below."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from pipeline_pulse.metrics_endpoint import metrics_view
from pipeline_pulse.web import probes
from pipeline_pulse.web.login import LoginView
from pipeline_pulse.web.password_reset import ThrottledPasswordResetView, reset_link_context

admin.site.site_header = "Pipeline Pulse administration"
admin.site.site_title = "Pipeline Pulse admin"
admin.site.index_title = "Revenue operations"

urlpatterns = [
    path("", include("opportunities.urls")),
    path("", include("sync.urls")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(extra_context=reset_link_context()),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("healthz", probes.liveness, name="liveness"),
    path("readyz", probes.readiness, name="readiness"),
    path("api/", include("pipeline_pulse.api.urls")),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's): a static file.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
        name="favicon",
    ),
    path("metrics", metrics_view, name="metrics"),
]

# JSON error bodies under /api/, Django's HTML pages elsewhere (pipeline_pulse.api.errors).
handler400 = "pipeline_pulse.api.errors.bad_request"
handler403 = "pipeline_pulse.api.errors.permission_denied"
handler404 = "pipeline_pulse.api.errors.page_not_found"
handler500 = "pipeline_pulse.api.errors.server_error"
