"""Saved views: a login's named set of health-board filters, reopened from the board's menu."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

NAME_MAX_LENGTH = 80
QUERY_MAX_LENGTH = 2000


def _new_slug() -> str:
    """The view's link: unguessable, so a view not shared cannot be found by counting."""
    return secrets.token_urlsafe(12)


class SavedView(models.Model):
    """A named board query of one login. Reopening it opens the board at `?query`; the
    filters apply on top of what the viewer may see (opportunities.access), never instead."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    query = models.CharField(
        max_length=QUERY_MAX_LENGTH,
        blank=True,
        help_text="The board's query string, normalised (sorted, no page, no empty values).",
    )
    slug = models.CharField(max_length=32, unique=True, default=_new_slug, editable=False)
    shared = models.BooleanField(
        default=False,
        help_text="Anyone logged in may open it by its link (and sees only "
        "the deals they may see).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["owner", Lower("name"), "id"]
        constraints = [
            models.UniqueConstraint(
                "owner", Lower("name"), name="saved_view_name_unique_per_owner"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="saved_view_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name
