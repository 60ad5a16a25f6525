"""The sync screen's URLs, the header's data-freshness fragment, and Sign in with Zoho."""

from django.urls import path

from sync import signin_views, views

urlpatterns = [
    path("sync/", views.sync_page, name="sync"),
    path("sync/start/", views.sync_start, name="sync_start"),
    path("sync/freshness/", views.freshness, name="freshness"),
    path("accounts/zoho/login/", signin_views.zoho_signin_start, name="zoho_signin"),
    path("accounts/zoho/callback/", signin_views.zoho_signin_callback, name="zoho_signin_callback"),
]
