"""The sync screen's URLs, and the header's data-freshness fragment."""

from django.urls import path

from sync import notify_views, views

urlpatterns = [
    path("sync/", views.sync_page, name="sync"),
    path("sync/start/", views.sync_start, name="sync_start"),
    path("sync/freshness/", views.freshness, name="freshness"),
    # Zoho's notification callbacks: public, checked by the channel's token.
    path("zoho/notify/", notify_views.zoho_notify, name="zoho_notify"),
]
