"""Top-level URL routes; each app owns its own routes below."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from pipeline_pulse import views

admin.site.site_header = "Pipeline Pulse administration"
admin.site.site_title = "Pipeline Pulse admin"
admin.site.index_title = "Revenue operations"

urlpatterns = [
    path("", include("opportunities.urls")),
    path("", include("sync.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", views.liveness, name="liveness"),
    path("readyz", views.readiness, name="readiness"),
]
