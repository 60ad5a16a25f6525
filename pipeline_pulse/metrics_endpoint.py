"""`/metrics` for Prometheus: every process's counters, plus the product's state at scrape time.

The state (deals by health and phase, write-backs waiting, open conflicts, FX rate age, the
last successful sync) is read from the database when Prometheus asks, so it is right whichever
process changed it. This is project wiring: it reads the apps' models, and no app imports it.

Only a scraper with `Authorization: Bearer <METRICS_TOKEN>`, or one connecting from
METRICS_ALLOWED_NETWORKS (the client's address, pipeline_pulse/web/client_address.py), gets an
answer; anyone else gets the same 404 as for a page that does not exist.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Iterator

import structlog
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from currency.conversion import effective_rates
from opportunities.models import Conflict, Opportunity, Phase
from pipeline_pulse.web.client_address import client_address
from sync.models import SyncRun

logger = structlog.get_logger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ProductStateCollector:
    """Gauges computed from the database on each scrape, in four short queries."""

    def collect(self) -> Iterator[Metric]:
        try:
            families = [
                *self._deals(),
                self._open_conflicts(),
                self._fx_rate_age(),
                self._last_successful_sync(),
            ]
        except DatabaseError:
            # The request metrics still answer; /readyz says what is wrong with the database.
            logger.warning("metrics_database_unavailable", exc_info=True)
            return
        yield from families

    def _deals(self) -> Iterable[Metric]:
        """Live deals by health, phase and outcome, and those with pending write-backs."""
        deals = GaugeMetricFamily(
            "pipeline_pulse_deals",
            "Live deals (not deleted in Zoho), by health, phase and outcome.",
            labels=["health", "phase", "outcome"],
        )
        pending = GaugeMetricFamily(
            "pipeline_pulse_pending_writebacks",
            "Live deals with local edits not yet written back to Zoho.",
        )
        rows = (
            Opportunity.objects.live()
            .order_by()
            .values("health_status", "phase", "outcome")
            .annotate(deals=Count("pk"), pending=Count("pk", filter=~Q(pending_fields=[])))
        )
        pending_total = 0
        for row in rows:
            phase = Phase(row["phase"]).name.lower()
            deals.add_metric([row["health_status"], phase, row["outcome"]], row["deals"])
            pending_total += row["pending"]
        pending.add_metric([], pending_total)
        return [deals, pending]

    def _open_conflicts(self) -> Metric:
        family = GaugeMetricFamily(
            "pipeline_pulse_conflicts_open",
            "Fields changed both here and in Zoho that wait for an Admin to decide.",
            labels=["field"],
        )
        rows = Conflict.objects.open().order_by().values("field").annotate(count=Count("pk"))
        for row in rows:
            family.add_metric([row["field"]], row["count"])
        return family

    def _fx_rate_age(self) -> Metric:
        family = GaugeMetricFamily(
            "pipeline_pulse_fx_rate_age_seconds",
            "Age of the exchange rate in effect per currency (source: api, seed or manual).",
            labels=["currency", "source"],
        )
        now = timezone.now()
        for code, point in sorted(effective_rates().items()):
            family.add_metric([code, point.source], (now - point.as_of).total_seconds())
        return family

    def _last_successful_sync(self) -> Metric:
        family = GaugeMetricFamily(
            "pipeline_pulse_sync_last_success_timestamp_seconds",
            "When the last successful sync run of each kind finished (Unix time).",
            labels=["kind"],
        )
        rows = (
            SyncRun.objects.succeeded()
            .order_by()
            .values("kind")
            .annotate(finished=Max("finished_at"))
        )
        for row in rows:
            if row["finished"] is not None:
                family.add_metric([row["kind"]], row["finished"].timestamp())
        return family


class _Forward:
    """Another registry's metrics, as one collector of a registry built per scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def metrics_registry() -> CollectorRegistry:
    """What one scrape exposes: every process's values (or this one's), then the state."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(ProductStateCollector())
    return registry


def scrape_allowed(request: HttpRequest) -> bool:
    """The right bearer token (compared in constant time), or an address in an allowed network."""
    token: str = settings.METRICS_TOKEN
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return True
    networks = [ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS]
    if not networks:
        return False
    try:
        # The client's address, not the proxy's: behind the proxy every request comes from it.
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in networks)


@require_GET
@never_cache
@login_not_required
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        raise Http404
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE)
