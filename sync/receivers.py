"""What the sync app does when another app, or Django, announces something: every receiver of
the app, connected here (SyncConfig.ready imports this module).

- opportunities.signals.local_edits_saved (after the commit of edits waiting for Zoho): one
  push is queued a short while later, so edits made together go in one batch;
- a SyncRun saved or deleted, and currency.signals.rates_changed: every page's header shows
  the runs and the rates' age, so the header kept in the cache is forgotten.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from currency.signals import rates_changed
from opportunities.signals import local_edits_saved
from sync.freshness import freshness_changed
from sync.models import SyncRun
from sync.triggers import zoho_push_soon


@receiver(local_edits_saved, dispatch_uid="sync.push_soon")
def push_local_edits_soon(sender: object, **kwargs: Any) -> None:
    zoho_push_soon()


@receiver(post_save, sender=SyncRun, dispatch_uid="sync.freshness.saved")
@receiver(post_delete, sender=SyncRun, dispatch_uid="sync.freshness.deleted")
def forget_header_after_a_run(sender: type[SyncRun], **kwargs: Any) -> None:
    freshness_changed()


@receiver(rates_changed, dispatch_uid="sync.freshness.rates")
def forget_header_after_rates(sender: object, **kwargs: Any) -> None:
    freshness_changed()
