"""Scheduled rate refresh (every FX_REFRESH_HOURS): a thin task that owns the retries."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from currency.client import CurrencyFreaksError, CurrencyFreaksNotConfigured
from currency.services import fx_rates_refresh, fx_rates_seed

logger = logging.getLogger(__name__)

# An outage or an exhausted quota is retried a few times, minutes apart; after that the last
# known rates stay in effect (their age shows in the admin) until the next scheduled run.
MAX_RETRIES = 3
RETRY_DELAY_SECONDS = 10 * 60


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def fx_rates_refresh_task(self: Task) -> None:
    try:
        refresh = fx_rates_refresh()
    except CurrencyFreaksNotConfigured as exc:
        seeded = fx_rates_seed()
        logger.warning("%s; seed rates stored for: %s", exc, ", ".join(seeded) or "none needed")
        return
    except CurrencyFreaksError as exc:
        if exc.transient and self.request.retries < MAX_RETRIES:
            logger.warning("FX refresh failed, will retry: %s", exc)
            raise self.retry(
                exc=exc, countdown=RETRY_DELAY_SECONDS * 2**self.request.retries
            ) from exc
        logger.error("FX refresh failed; the last known rates stay in effect: %s", exc)
        raise
    logger.info(
        "FX rates as of %s stored for %s; %d deals' SGD amounts updated%s",
        refresh.as_of.isoformat(),
        ", ".join(refresh.stored),
        refresh.reconverted,
        f"; missing from the API: {', '.join(refresh.missing)}" if refresh.missing else "",
    )
