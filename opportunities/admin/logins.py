"""Per-login settings in the admin: the territories a Manager is limited to, saved views."""

from __future__ import annotations

from django.contrib import admin

from opportunities.models import ManagerTerritory, SavedView


@admin.register(ManagerTerritory)
class ManagerTerritoryAdmin(admin.ModelAdmin):
    """A Manager with rows here sees only deals in those territories (pages, exports, API);
    one with none sees every deal. Only Admins hold the permissions to change them."""

    list_display = ("user", "territory")
    list_filter = ("territory",)
    search_fields = ("user__username", "user__email", "territory")
    autocomplete_fields = ("user",)


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "shared", "query", "created_at")
    list_filter = ("shared",)
    search_fields = ("name", "owner__username", "query")
    readonly_fields = ("slug", "created_at")
    list_select_related = ("owner",)
