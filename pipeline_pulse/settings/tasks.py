"""Celery: how tasks travel and how long they may run, and beat's schedule, all of it here."""

from datetime import timedelta

from celery.schedules import crontab

from pipeline_pulse.settings.environment import env
from pipeline_pulse.settings.integrations import (
    FX_REFRESH_HOURS,
    ZOHO_NOTIFY_CHECK_MINUTES,
    ZOHO_SYNC_INTERVAL_MINUTES,
)

CELERY_TIMEZONE = "Asia/Singapore"
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Limits are generous enough for a full sync of a large org; a task that passes the soft
# limit gets SoftTimeLimitExceeded and can record its failure before the hard kill.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Beat writes these entries to its database scheduler each time it starts; Admins see them
# under Admin → Periodic tasks. CELERY_TIMEZONE is Asia/Singapore.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Pull from Zoho (pushing pending edits first); the first run is a full sync.
    "zoho-sync-incremental": {
        "task": "sync.tasks.zoho_sync_incremental",
        "schedule": timedelta(minutes=ZOHO_SYNC_INTERVAL_MINUTES),
    },
    # Zoho's notification channel: subscribed, and renewed before it lapses (a no-op unless
    # ZOHO_NOTIFY_URL is set).
    "zoho-watch-renew": {
        "task": "sync.tasks.zoho_watch_renew",
        "schedule": timedelta(minutes=max(ZOHO_NOTIFY_CHECK_MINUTES, 1)),
    },
    # Fetch exchange rates and re-convert open deals.
    "currency-fx-rates-refresh": {
        "task": "currency.tasks.fx_rates_refresh_task",
        "schedule": timedelta(hours=max(FX_REFRESH_HOURS, 1)),
    },
    # Alerts to Admins: sync failing, rates expired, conflicts waiting (once per condition).
    "alerts-check": {
        "task": "alerts.tasks.alerts_check_task",
        "schedule": timedelta(minutes=max(env.int("ALERTS_CHECK_MINUTES", default=30), 1)),
    },
    # Date rules change with the calendar: just after midnight, rescore every open and won
    # deal, then take the day's pipeline snapshot.
    "health-daily": {
        "task": "opportunities.health_daily",
        "schedule": crontab(hour=0, minute=5),
    },
    # Monday 08:00 Singapore: last week's digest e-mail (once per login per week; off with
    # WEEKLY_DIGEST_ENABLED=false).
    "weekly-digest": {
        "task": "opportunities.weekly_digests",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
    },
}
