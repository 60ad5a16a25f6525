"""The Celery application: worker and beat read their configuration from Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")

app = Celery("pipeline_pulse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
