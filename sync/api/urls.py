"""The sync app's API routes, under /api/v1/ (pipeline_pulse/api/urls.py)."""

from pipeline_pulse.api.base import ApiRouter
from sync.api.views import SyncRunViewSet

router = ApiRouter()
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = router.urls
