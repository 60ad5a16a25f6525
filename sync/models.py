"""Sync runs with Zoho CRM: what each run did, what it skipped, and where the next resumes;
and the Zoho field mapping Admins set for the org-specific fields."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from opportunities.deal_fields import CRM_FIELDS
from pipeline_pulse.models import AuditedModel
from sync.zoho.field_map import api_name_problem


class SyncKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"
    PUSH = "push", "Push to Zoho"
    # The deals a Zoho notification named, fetched by id (sync.services.pull).
    NOTIFIED = "notified", "Notified deals"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    STARTUP = "startup", "Startup (no full sync yet)"
    MANUAL = "manual", "Sync now"
    COMMAND = "command", "Command line"
    EDIT = "edit", "Local edits to push"
    NOTIFICATION = "notify", "Zoho notification"


class SyncRunQuerySet(models.QuerySet["SyncRun"]):
    def running(self) -> SyncRunQuerySet:
        return self.filter(status=SyncStatus.RUNNING)

    def succeeded(self) -> SyncRunQuerySet:
        return self.filter(status=SyncStatus.SUCCEEDED)

    def latest_succeeded(self) -> SyncRun | None:
        """The newest successful pull: how fresh the deals on screen are. A push sends edits
        out and brings nothing in, and a notification fetch brings only the deals Zoho named,
        so neither makes the data look fresher than it is."""
        pulls = self.succeeded().exclude(kind__in=(SyncKind.PUSH, SyncKind.NOTIFIED))
        return pulls.order_by("-finished_at").first()

    def has_succeeded_full(self) -> bool:
        return self.succeeded().filter(kind=SyncKind.FULL).exists()

    def latest_failed(self) -> SyncRun | None:
        return self.filter(status=SyncStatus.FAILED).order_by("-finished_at", "-pk").first()

    def history(
        self, limit: int, *, issues_per_run: int, issues: models.QuerySet[SyncIssue]
    ) -> list[SyncRun]:
        """The newest runs with the count and the first of `issues` (the ones the reader may
        see) of each, in two queries."""
        counts = (
            issues.filter(run=models.OuterRef("pk"))
            .order_by()
            .values("run")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        first_issues = models.Prefetch(
            "issues",
            queryset=issues.order_by("run", "id")[:issues_per_run],
            to_attr="first_issues",
        )
        runs = (
            self.select_related("triggered_by")
            .annotate(issue_count=Coalesce(models.Subquery(counts), 0))
            .order_by("-started_at", "-pk")
            .prefetch_related(first_issues)[:limit]
        )
        return list(runs)


class SyncRun(models.Model):
    """One run of the sync; at most one is running at a time, enforced by the database."""

    kind = models.CharField(max_length=12, choices=SyncKind.choices)
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    trigger = models.CharField(max_length=10, choices=SyncTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched after every page: when the run last made progress (the admin shows it; a dead
    # process's run is found by the advisory lock, sync/run_lock.py).
    heartbeat_at = models.DateTimeField(default=timezone.now)

    fetched = models.PositiveIntegerField(default=0, help_text="Records received from Zoho.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Malformed records not stored.")
    failed = models.PositiveIntegerField(default=0, help_text="Records the database refused.")
    pages = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    expected_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Estimate for the progress bar (full sync only)."
    )
    unmapped_stages = models.PositiveIntegerField(
        default=0, help_text="Stages of live deals with no stage mapping, after the run."
    )

    watermark_before = models.DateTimeField(null=True, blank=True)
    watermark_after = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # NULL for runs no request started (the schedule, the worker's startup, the command line).
    request_id = models.CharField(  # noqa: DJ001 - "no request" is not an empty id
        max_length=128,
        null=True,
        blank=True,
        help_text="The X-Request-ID of the request that started the run: search the logs for it.",
    )

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=SyncStatus.RUNNING),
                name="sync_run_one_running",
                violation_error_message="A sync is already running.",
            )
        ]

    def __str__(self) -> str:
        started = timezone.localtime(self.started_at).strftime("%Y-%m-%d %H:%M")
        return f"{self.get_kind_display()} sync {started} ({self.get_status_display()})"

    @property
    def duration(self) -> timedelta | None:
        end = self.finished_at or (timezone.now() if self.status == SyncStatus.RUNNING else None)
        return end - self.started_at if end else None

    @property
    def progress_percent(self) -> int | None:
        if self.status != SyncStatus.RUNNING:
            return 100 if self.status == SyncStatus.SUCCEEDED else None
        if not self.expected_total:
            return None
        return min(99, self.fetched * 100 // self.expected_total)

    def as_event(self) -> dict[str, object]:
        """The run as the browser's live progress sees it."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "status": self.status,
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "failed": self.failed,
            "pages": self.pages,
            "progress_percent": self.progress_percent,
            "error": self.error,
        }


class IssueSeverity(models.TextChoices):
    SKIPPED = "skipped", "Skipped (not stored)"
    FAILED = "failed", "Failed (refused by the database)"
    WARNING = "warning", "Stored with a warning"


class SyncIssue(models.Model):
    """A record a run could not take as it was: named by its Zoho id, with the reason."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="issues")
    zoho_id = models.CharField(max_length=32, db_index=True)
    severity = models.CharField(max_length=8, choices=IssueSeverity.choices)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.zoho_id}: {self.reason}"


class SyncState(models.Model):
    """Where the next incremental sync resumes; one row, moved inside each page's transaction."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    # Deals modified after this were possibly not seen yet.
    modified_watermark = models.DateTimeField(null=True, blank=True)
    # Deletions after this were possibly not seen yet.
    deleted_watermark = models.DateTimeField(null=True, blank=True)
    # The watermarks move past records a run could not take; they are read again by id.
    unread = models.JSONField(
        default=dict,
        blank=True,
        help_text="Zoho records a run could not store (Zoho id → reason): each incremental run "
        "reads them again until they are stored or gone from Zoho.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync state"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="sync_state_single_row")
        ]

    def __str__(self) -> str:
        return f"Sync state (modified since {self.modified_watermark})"

    @classmethod
    def load(cls) -> SyncState:
        state, _ = cls.objects.get_or_create(singleton=True)
        return state


def validate_zoho_api_name(value: str) -> None:
    problem = api_name_problem(value)
    if problem:
        raise ValidationError(f"{value!r} {problem}.", code="invalid_api_name")


# The deal fields whose Zoho API name differs per org, as the field catalogue lists them.
ORG_SPECIFIC_FIELDS = [(field.name, field.label) for field in CRM_FIELDS if field.org_specific]


class ZohoFieldMapping(AuditedModel):
    """An Admin's Zoho API name for one org-specific deal field.

    It overrides ZOHO_FIELD_MAP, which overrides the field catalogue's default; the sync
    builds its field map from the three at the start of each run. Written only by
    sync.field_mappings, which checks the whole map stays valid.
    """

    attribute = models.CharField(
        "deal field",
        max_length=40,
        unique=True,
        choices=ORG_SPECIFIC_FIELDS,
        help_text="The deal field of Pipeline Pulse this Zoho field feeds.",
    )
    api_name = models.CharField(
        "Zoho API name",
        max_length=100,
        unique=True,
        validators=[validate_zoho_api_name],
        help_text="The field's API name in this org's Deals module, as Zoho's setup lists "
        "it under API names (not its label). Applies from the next sync run.",
    )

    class Meta:
        ordering = ["attribute"]
        verbose_name = "Zoho field mapping"

    def __str__(self) -> str:
        return f"{self.get_attribute_display()} ← {self.api_name}"


class ZohoWatchChannel(models.Model):
    """The notification channel Zoho calls back on when deals change; one row.

    Written only by sync.services.watch: subscribed or renewed before it lapses, and stamped
    by each callback the public endpoint accepts.
    """

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    channel_id = models.CharField(max_length=18, blank=True, help_text="Zoho's channel_id.")
    # Zoho sends it back in every callback: the proof a callback comes from Zoho. A secret.
    token = models.CharField(max_length=50, blank=True, editable=False)
    notify_url = models.URLField(max_length=500, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When Zoho stops calling back unless it is renewed."
    )
    last_callback_at = models.DateTimeField(null=True, blank=True)
    callbacks = models.PositiveIntegerField(default=0, help_text="Callbacks accepted.")
    refused = models.PositiveIntegerField(
        default=0, help_text="Callbacks refused: a wrong channel or token."
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Zoho notification channel"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="zoho_watch_single_row")
        ]

    def __str__(self) -> str:
        return f"Zoho notification channel {self.channel_id or '(none)'}"

    @classmethod
    def load(cls) -> ZohoWatchChannel:
        channel, _ = cls.objects.get_or_create(singleton=True)
        return channel

    def is_active(self, now: datetime) -> bool:
        return bool(self.channel_id and self.expires_at and self.expires_at > now)
