"""The Zoho pull: full and incremental runs, deletions, unread records, where the next run
resumes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from django.db import transaction
from django.utils import timezone

from currency.conversion import rates_in_effect_version
from currency.models import ConversionProblem
from currency.services import SgdConverter, sgd_converter
from currency.triggers import fx_rates_request
from opportunities.models import Opportunity
from opportunities.records import CrmStageRecord
from opportunities.services.crm import (
    CrmReferences,
    crm_page_apply,
    opportunities_mark_deleted,
    opportunities_mark_unreadable,
)
from opportunities.services.lifecycle import crm_stages_save
from opportunities.stage_rules import StageRules, unmapped_stages
from sync.events import sync_progress_publish
from sync.models import (
    IssueSeverity,
    SyncIssue,
    SyncKind,
    SyncRun,
    SyncState,
    SyncStatus,
    SyncTrigger,
)
from sync.services.runs import (
    ProgressCallback,
    sync_issue_add,
    sync_run_failed,
    sync_run_finish,
    sync_run_start,
)
from sync.zoho.records import DealPage, DeletedDeal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Zoho's clock and ours differ a little; anything modified this close to a run's start is
# fetched again by the next run rather than risk missing it (refetching is idempotent).
CLOCK_MARGIN = timedelta(minutes=5)
# Zoho's timestamps have one-second resolution: a resumed run re-reads the last second.
RESUME_OVERLAP = timedelta(seconds=1)

# Browsers need no more than this; a fast sync writes several pages a second.
PUBLISH_INTERVAL_SECONDS = 1.0


class DealSource(Protocol):
    """What the sync needs from Zoho; sync.zoho.ZohoClient is the real one."""

    @property
    def api_calls(self) -> int: ...

    def iter_deal_pages(self, *, modified_since: datetime | None = None) -> Iterable[DealPage]: ...

    def iter_deleted_deals(
        self, *, since: datetime | None = None
    ) -> Iterable[list[DeletedDeal]]: ...

    def get_deals(self, zoho_ids: Sequence[str]) -> DealPage: ...

    def stage_metadata(self) -> list[CrmStageRecord]: ...


@dataclass
class _Context:
    run: SyncRun
    source: DealSource
    converter: SgdConverter
    rules: StageRules
    progress: ProgressCallback | None
    # Where the run resumes and what it must read again; saved with each page it concerns.
    state: SyncState = field(default_factory=SyncState.load)
    references: CrmReferences = field(default_factory=CrmReferences)
    last_published: float = float("-inf")  # the first page is always published
    stage_metadata_read: bool = False
    # Zoho ids this run has read, stored or not: the re-read of unread records skips them.
    read_ids: set[str] = field(default_factory=set)
    # The version of the rates `converter` holds (None: not checked against the database yet).
    rates_version: str | None = None


def zoho_sync(
    *,
    kind: str,
    trigger: str,
    user: User | None = None,
    source: DealSource | None = None,
    progress: ProgressCallback | None = None,
) -> SyncRun:
    """Run one sync now, in this process. Raises SyncAlreadyRunning if another one runs.

    An incremental sync becomes a full one until a full sync has succeeded once.
    """
    if kind == SyncKind.INCREMENTAL and not SyncRun.objects.has_succeeded_full():
        kind = SyncKind.FULL
    run = sync_run_start(kind=kind, trigger=trigger, user=user)
    return sync_run_execute(run=run, source=source, progress=progress)


def sync_run_execute(
    *, run: SyncRun, source: DealSource | None = None, progress: ProgressCallback | None = None
) -> SyncRun:
    """Pull from Zoho into the run's counters; the run ends succeeded or failed, never running."""
    from sync.zoho import ZohoClient

    calls_before = source.api_calls if source else 0
    try:
        if source is None:
            source = ZohoClient.from_settings()
        context = _Context(
            run=run,
            source=source,
            converter=sgd_converter(),
            rules=StageRules.load(),
            progress=progress,
        )
        if run.kind == SyncKind.FULL:
            _read_stage_metadata(context)
            _pull_everything(context)
        else:
            _pull_changes(context)
            _reread_unread(context)
            _pull_deletions(context)
        run.status = SyncStatus.SUCCEEDED
        _ask_for_missing_rates()
    except Exception as exc:  # noqa: BLE001  # sync_run_failed logs it, traceback and all
        # Whatever went wrong, the run must not stay "running" and block the next one.
        sync_run_failed(run, exc)
    finally:
        run.watermark_after = SyncState.load().modified_watermark
        run.unmapped_stages = len(unmapped_stages())
        sync_run_finish(run, api_calls=source.api_calls - calls_before if source else None)
        _report(run, progress)
    return run


def zoho_notified_fetch(
    *, operation: str, zoho_ids: Sequence[str], source: DealSource | None = None
) -> SyncRun:
    """The deals a Zoho notification named, fetched by id (100 to a call) and stored as a
    sync page is: the same merge with local edits, change events, health and issues, in a
    run of its own that holds the one-sync-at-a-time slot. Raises SyncAlreadyRunning while
    another run holds it (the caller tries again later).

    The watermarks do not move: a notification may come late, twice or never, and the
    scheduled incremental pull still reads everything modified since its own watermark.
    Deleted ids are soft-deleted only when Zoho, asked by id, no longer has them.
    """
    from sync.zoho import ZohoClient

    run = sync_run_start(kind=SyncKind.NOTIFIED, trigger=SyncTrigger.NOTIFICATION)
    calls_before = source.api_calls if source else 0
    try:
        if source is None:
            source = ZohoClient.from_settings()
        context = _Context(
            run=run,
            source=source,
            converter=sgd_converter(),
            rules=StageRules.load(),
            progress=None,
        )
        wanted = list(dict.fromkeys(zoho_ids))
        page = source.get_deals(wanted) if wanted else DealPage([], [], more_records=False)
        answered = {deal.zoho_id for deal in page.deals} | {bad.zoho_id for bad in page.malformed}
        with transaction.atomic():
            _apply_page(context, page)
            if operation == "delete":
                # Zoho's own answer confirms the deletion: the callback alone never does.
                gone = [zoho_id for zoho_id in wanted if zoho_id not in answered]
                run.deleted += _mark_deleted(dict.fromkeys(gone, timezone.now()), context)
            _save_progress(run)
        run.status = SyncStatus.SUCCEEDED
        _ask_for_missing_rates()
    except Exception as exc:  # noqa: BLE001  # sync_run_failed logs it, traceback and all
        sync_run_failed(run, exc)
    finally:
        run.watermark_after = run.watermark_before
        run.unmapped_stages = len(unmapped_stages())
        sync_run_finish(run, api_calls=source.api_calls - calls_before if source else None)
        _report(run, None)
    return run


def _pull_everything(context: _Context) -> None:
    """Every deal, page by page; then deals Zoho no longer has are marked deleted."""
    run, state = context.run, context.state
    seen: set[str] = set()
    newest: datetime | None = None
    for page in context.source.iter_deal_pages(modified_since=None):
        seen.update(deal.zoho_id for deal in page.deals)
        seen.update(bad.zoho_id for bad in page.malformed)
        newest = _max_time(newest, _page_newest(page))
        with transaction.atomic():
            _apply_page(context, page)
            _save_progress(run)
        _report_page(context)
    with transaction.atomic():
        run.deleted += _mark_deleted(
            {zoho_id: timezone.now() for zoho_id in _live_missing_from(seen)}, context
        )
        # Deals changed while this run was paging may have been read before the change: the
        # next incremental run starts from before this one began, by Zoho's clock (its newest
        # Modified_Time) as well as ours, so a skew between the two cannot hide a change.
        ceiling = run.started_at - CLOCK_MARGIN
        resume_from = min(newest, ceiling) if newest else ceiling
        state.modified_watermark = state.deleted_watermark = resume_from
        # Records no longer in Zoho need no second reading.
        state.unread = {zoho_id: why for zoho_id, why in state.unread.items() if zoho_id in seen}
        state.save()
        _save_progress(run)


def _pull_changes(context: _Context) -> None:
    """Deals modified since the watermark, oldest first; the watermark moves with each page.

    It moves past a record the run could not store (malformed, or refused by the database):
    that record is remembered in `unread`, read again by id, and no push is sent over it
    meanwhile (sync.push), so a record that stays broken for weeks costs one call a run, not
    a re-read of everything changed since.
    """
    run, state = context.run, context.state
    since = state.modified_watermark
    ceiling = run.started_at - CLOCK_MARGIN
    for page in context.source.iter_deal_pages(modified_since=since):
        newest = _page_newest(page)
        with transaction.atomic():
            _apply_page(context, page)
            if newest is not None:
                # Until the run completes, the last second is re-read on resume: deals sharing
                # it may continue on the next page.
                state.modified_watermark = _max_time(
                    state.modified_watermark, min(newest - RESUME_OVERLAP, ceiling)
                )
                state.save()
            _save_progress(run)
        _report_page(context)
        since = _max_time(since, newest)
    if since is not None:
        with transaction.atomic():
            state.modified_watermark = _max_time(state.modified_watermark, min(since, ceiling))
            state.save()


def _reread_unread(context: _Context) -> None:
    """Records earlier runs could not store, and this run has not read: read again by id (100
    to a call). Those Zoho no longer has leave the list; deletions follow."""
    state = context.state
    wanted = [zoho_id for zoho_id in state.unread if zoho_id not in context.read_ids]
    if not wanted:
        return
    page = context.source.get_deals(wanted)
    answered = {deal.zoho_id for deal in page.deals} | {bad.zoho_id for bad in page.malformed}
    with transaction.atomic():
        _apply_page(context, page)
        gone = set(wanted) - answered
        if gone:
            state.unread = {z: why for z, why in state.unread.items() if z not in gone}
            state.save()
        _save_progress(context.run)
    _report_page(context)


def _pull_deletions(context: _Context) -> None:
    """Deals deleted in Zoho since the deletion watermark: every page of Zoho's answer is read
    before any deletion is applied, in one transaction with the watermark, so a run failing
    part-way loses none (Zoho's order within the answer is not assumed).

    When Zoho's pages stop short of the end of a list that cannot be asked for in parts, the
    run reads every deal instead, as a full run does: what Zoho no longer returns is deleted.
    """
    from sync.zoho import ZohoDeletedListTruncatedError

    run, state = context.run, context.state
    ceiling = run.started_at - CLOCK_MARGIN
    newest: dict[str, datetime] = {}
    try:
        for deleted in context.source.iter_deleted_deals(since=state.deleted_watermark):
            for item in deleted:  # a deal may be listed twice (recycle bin, then permanently)
                newest[item.zoho_id] = max(
                    item.deleted_time, newest.get(item.zoho_id, item.deleted_time)
                )
            _report_page(context)
    except ZohoDeletedListTruncatedError as exc:
        logger.warning("Sync %s reads every deal to find deletions: %s", run.pk, exc)
        sync_issue_add(run, "", IssueSeverity.WARNING, f"Every deal read to find deletions: {exc}")
        _pull_everything(context)
        return
    with transaction.atomic():
        run.deleted += _mark_deleted(newest, context)
        latest = max(newest.values(), default=None)
        if latest is not None:
            state.deleted_watermark = _max_time(state.deleted_watermark, min(latest, ceiling))
            state.save()
        _save_progress(run)
    _report_page(context)


def _ask_for_missing_rates() -> None:
    """Deals in a currency with no rate yet (new to the org) get one without waiting for the
    next scheduled refresh."""
    without_rate = Opportunity.objects.live().filter(fx_problem=ConversionProblem.NO_RATE)
    asked = fx_rates_request(currencies=without_rate.currencies())
    if asked:
        logger.info("Rates requested for currencies new to the deals: %s", ", ".join(asked))


def _read_stage_metadata(context: _Context) -> None:
    """The CRM's own stage list, once per run: a full run reads it first; an incremental run
    only when a page brings a stage nothing knows (so "nothing changed" stays two calls).

    Unreadable metadata (an org that withholds the settings scope, an outage) is logged and the
    sync goes on: unknown stages then fall back on their probability.
    """
    from sync.zoho import ZohoError

    context.stage_metadata_read = True
    try:
        stages = context.source.stage_metadata()
    except ZohoError as exc:
        logger.warning("Zoho stage metadata not read (the probability decides instead): %s", exc)
        return
    crm_stages_save(stages=stages)
    context.rules = StageRules.load()


def _apply_page(context: _Context, page: DealPage) -> None:
    run = context.run
    # Inside the page's transaction: a refresh of rates committed since the last page is
    # used from this page on, and none can commit until this page has.
    version = rates_in_effect_version()
    if version != context.rates_version:
        context.converter = sgd_converter(use_cache=False)
        context.rates_version = version
    if not context.stage_metadata_read and any(
        not context.rules.knows(deal.stage) for deal in page.deals
    ):
        _read_stage_metadata(context)
    result = crm_page_apply(
        deals=page.deals,
        converter=context.converter,
        rules=context.rules,
        references=context.references,
        now=timezone.now(),
    )
    failed = {
        issue.zoho_id: issue.reason
        for issue in result.issues
        if issue.severity == IssueSeverity.FAILED
    }
    issues = [
        *((bad.zoho_id, IssueSeverity.SKIPPED, bad.reason) for bad in page.malformed),
        *((issue.zoho_id, IssueSeverity(issue.severity), issue.reason) for issue in result.issues),
    ]
    SyncIssue.objects.bulk_create(
        SyncIssue(run=run, zoho_id=zoho_id, severity=severity, reason=reason[:500])
        for zoho_id, severity, reason in issues
    )
    _note_unread(context, page, failed=failed)
    run.pages += 1
    run.fetched += len(page.deals) + len(page.malformed)
    run.created += result.created
    run.updated += result.updated
    run.unchanged += result.unchanged
    run.skipped += len(page.malformed)
    run.failed += result.failed


def _note_unread(context: _Context, page: DealPage, *, failed: Mapping[str, str]) -> None:
    """Records of the page not stored are remembered to be read again (and their deals marked,
    so no push goes over them); those stored are forgotten."""
    unread = {bad.zoho_id: f"Malformed in Zoho: {bad.reason}" for bad in page.malformed}
    unread |= failed
    taken = {deal.zoho_id for deal in page.deals} - unread.keys()
    context.read_ids |= taken | unread.keys()
    if unread:
        opportunities_mark_unreadable(reasons=unread)
    state = context.state
    remembered = {z: why for z, why in state.unread.items() if z not in taken} | unread
    if remembered != state.unread:
        state.unread = remembered
        state.save()


def _mark_deleted(deleted: Mapping[str, datetime], context: _Context) -> int:
    """Soft-delete these deals; edits of them not yet sent are set aside and reported."""
    result = opportunities_mark_deleted(deleted=deleted)
    for zoho_id, labels in result.edits_set_aside.items():
        sync_issue_add(
            context.run,
            zoho_id,
            IssueSeverity.WARNING,
            f"Deleted in Zoho with edits not sent ({', '.join(labels)}): kept on the deal, "
            "not sent unless someone sends them again after a restore",
        )
    return result.deleted


def _live_missing_from(seen: set[str]) -> list[str]:
    """After a complete full sync: live deals Zoho did not return are gone from Zoho."""
    live = Opportunity.objects.live().values_list("zoho_id", flat=True).order_by()
    return [zoho_id for zoho_id in live.iterator(2000) if zoho_id not in seen]


def _save_progress(run: SyncRun) -> None:
    run.heartbeat_at = timezone.now()
    run.save()


def _report_page(context: _Context) -> None:
    """After a page: the caller's progress every time, the browsers at most once a second."""
    if context.progress is not None:
        context.progress(context.run)
    now = time.monotonic()
    if now - context.last_published >= PUBLISH_INTERVAL_SECONDS:
        context.last_published = now
        sync_progress_publish(context.run)


def _report(run: SyncRun, progress: ProgressCallback | None) -> None:
    sync_progress_publish(run)
    if progress is not None:
        progress(run)


def _page_newest(page: DealPage) -> datetime | None:
    times = [deal.zoho_modified_time for deal in page.deals]
    times += [bad.zoho_modified_time for bad in page.malformed if bad.zoho_modified_time]
    return max(times, default=None)


def _max_time(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)
