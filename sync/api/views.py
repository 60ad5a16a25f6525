"""Sync runs: every role reads the history; Managers and Admins start a run (409 while one runs).

Starting goes through `sync.triggers.sync_request`, as the admin's "Sync now" does: the run
is queued for the worker, and its progress is pushed on /ws/sync/ and shows in this list.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from pipeline_pulse.api.base import ApiViewSet, PageNumberPagination
from pipeline_pulse.api.errors import Conflict
from pipeline_pulse.api.schema import errors
from pipeline_pulse.api.strict import StrictJsonSerializer
from sync.models import SyncKind, SyncRun
from sync.services import SyncAlreadyRunning
from sync.triggers import SyncNotAllowed, sync_request

RUN_EXAMPLE = {
    "id": 318,
    "kind": "incremental",
    "status": "succeeded",
    "trigger": "schedule",
    "started_at": "2026-11-25T10:00:00+08:00",
    "finished_at": "2026-11-25T10:00:04+08:00",
    "duration_seconds": 4.2,
    "progress_percent": 100,
    "fetched": 37,
    "created": 2,
    "updated": 31,
    "unchanged": 4,
    "deleted": 1,
    "skipped": 0,
    "failed": 0,
    "pages": 1,
    "api_calls": 3,
    "unmapped_stages": 0,
    "error": "",
}


def _run_example() -> OpenApiExample:
    return OpenApiExample("A run", value=RUN_EXAMPLE, response_only=True, status_codes=["200"])


class SyncRunSerializer(serializers.ModelSerializer[SyncRun]):
    duration_seconds = serializers.SerializerMethodField()
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = SyncRun
        fields = (
            "id",
            "kind",
            "status",
            "trigger",
            "started_at",
            "finished_at",
            "duration_seconds",
            "progress_percent",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "deleted",
            "skipped",
            "failed",
            "pages",
            "api_calls",
            "unmapped_stages",
            "error",
        )
        read_only_fields = fields

    def get_duration_seconds(self, run: SyncRun) -> float | None:
        return run.duration.total_seconds() if run.duration is not None else None


class SyncStartSerializer(StrictJsonSerializer):
    kind = serializers.ChoiceField(
        choices=[(SyncKind.INCREMENTAL, "Incremental"), (SyncKind.FULL, "Full")],
        default=SyncKind.INCREMENTAL,
        help_text="`incremental` reads what changed since the last run; `full` reads every deal.",
    )


class SyncQueuedSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    message = serializers.CharField()


@extend_schema_view(
    list=extend_schema(
        summary="List sync runs",
        description="Newest first, with their counts and errors.",
        responses={200: SyncRunSerializer(many=True), **errors(404)},
        examples=[_run_example()],
    ),
    retrieve=extend_schema(
        summary="Get a sync run",
        responses={200: SyncRunSerializer, **errors(404)},
        examples=[_run_example()],
    ),
    create=extend_schema(
        summary="Start a sync (Managers and Admins)",
        description="Queues a sync for the worker. 409 while a run is in progress; watch "
        "its progress in this list or on the /ws/sync/ WebSocket.",
        request=SyncStartSerializer,
        responses={202: SyncQueuedSerializer, **errors(400, 409)},
        examples=[
            OpenApiExample("Incremental", value={"kind": "incremental"}, request_only=True),
            OpenApiExample(
                "Queued",
                value={
                    "kind": "incremental",
                    "message": "An incremental sync was queued; its progress shows here as it "
                    "runs.",
                },
                response_only=True,
                status_codes=["202"],
            ),
        ],
    ),
)
class SyncRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    write_capability = "sync"
    serializer_class = SyncRunSerializer
    queryset = SyncRun.objects.all()
    pagination_class = PageNumberPagination
    lookup_value_regex = "[0-9]+"

    def create(self, request: Request) -> Response:
        start = SyncStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        kind = start.validated_data["kind"]
        try:
            message = sync_request(kind=kind, user=request.user)  # type: ignore[arg-type]
        except SyncNotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except SyncAlreadyRunning as exc:
            details = {"run": exc.run.pk} if exc.run else {}
            raise Conflict(str(exc), details=details) from exc
        return Response({"kind": kind, "message": message}, status=status.HTTP_202_ACCEPTED)
