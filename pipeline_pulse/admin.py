"""Admin helpers shared by the apps, and the API tokens' admin."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from pipeline_pulse.api.tokens import api_token_create, api_token_revoke
from pipeline_pulse.models import ApiToken, SentEmail, TokenScope


class AuditedModelAdmin(admin.ModelAdmin):
    """Shows who created and who last changed a row; the model's service records them."""

    audit_fields = ("created_at", "created_by", "updated_at", "updated_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), *self.audit_fields)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For data owned by Zoho or written by the system: browse, filter, never edit here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ApiTokenForm(forms.ModelForm):
    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Choose a moment in the future, or leave it empty.")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins create and revoke integrations' API tokens; a token is shown once, on creation.

    Only its hash is stored, so nobody (not even an Admin) can see a token again: a lost token
    is revoked and replaced. Tokens are never deleted, so the list keeps who had access when.
    """

    list_display = (
        "name",
        "prefix",
        "user",
        "scope",
        "expires_at",
        "created_at",
        "created_by",
        "last_used_at",
        "status",
    )
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user", "created_by")
    actions = ("revoke",)
    form = ApiTokenForm
    fields = ("user", "name", "scope", "expires_at")
    readonly_fields = (
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    autocomplete_fields = ("user",)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return self.fields if obj is None else (*self.fields, *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A token's owner, purpose, scope and expiry are fixed once it exists (what it was
        # handed out for): revoke it and create another.
        return () if obj is None else (*self.fields, *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description="status", ordering="revoked_at")
    def status(self, token: ApiToken) -> str:
        if token.revoked_at is not None:
            return "revoked"
        return "expired" if token.is_expired else "active"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable after creation
        token, raw = api_token_create(
            user=obj.user,
            name=obj.name,
            created_by=request.user,
            scope=TokenScope(obj.scope),
            expires_at=obj.expires_at,
        )
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        obj._state.adding = False
        request._api_token_shown_once = raw  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The token is rendered into this one response and stored nowhere (not in a message
        # cookie, not in the session): after this page it exists only where the Admin put it.
        raw = getattr(request, "_api_token_shown_once", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "raw_token": raw,
        }
        # The admin's views are never_cache: the page is not kept by a browser or a proxy.
        return TemplateResponse(
            request, "admin/pipeline_pulse/apitoken/token_created.html", context
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, user=request.user)
            revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked; they are refused from now on.")


class SentEmailAdmin(ReadOnlyModelAdmin):
    """The outbox (EMAIL_OUTBOX, on in the demo): the last mails sent, for Admins to read."""

    list_display = ("sent_at", "subject", "recipients")
    search_fields = ("subject", "to")
    fields = ("sent_at", "from_email", "to", "subject", "text_body", "html_body")
    readonly_fields = fields

    @admin.display(description="To")
    def recipients(self, obj: SentEmail) -> str:
        return obj.to.replace("\n", ", ")

    def has_module_permission(self, request: HttpRequest) -> bool:
        # Listed in the admin only while the outbox keeps mail (EMAIL_OUTBOX).
        return settings.EMAIL_OUTBOX and super().has_module_permission(request)


admin.site.register(SentEmail, SentEmailAdmin)
