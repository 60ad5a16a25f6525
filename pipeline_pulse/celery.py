"""The Celery application: worker and beat read their configuration from Django settings.

Logging stays Django's (structured, see logging_setup): Celery would otherwise replace the
root logger's handlers with its own plain-text ones. The worker binds the log context a task
was queued with (the request id) before the task runs, through django-structlog's boot step.
"""

import os
from typing import Any

import structlog
from celery import Celery
from celery.signals import after_task_publish, before_task_publish, setup_logging, task_postrun
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")


class TaskLogContextStep(DjangoStructLogInitStep):
    """django-structlog's worker step: a task's lines carry the context it was queued with.

    Its publishing receivers are dropped: the app already connected its own
    (DJANGO_STRUCTLOG_CELERY_ENABLED), and two would log every `task_enqueued` twice. After
    each task its context is dropped, so what the worker logs between tasks (a `received`
    line, in a solo pool) is not attributed to the last task's request.
    """

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        before_task_publish.disconnect(self.receiver.receiver_before_task_publish)
        after_task_publish.disconnect(self.receiver.receiver_after_task_publish)
        task_postrun.connect(_forget_task_context, weak=False)


def _forget_task_context(**kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()


app = Celery("pipeline_pulse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(TaskLogContextStep)
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_django_settings(**kwargs: Any) -> None:
    """Worker and beat log like the web server: LOGGING, so JSON lines in production."""
    from django.conf import settings

    from pipeline_pulse.observability.logs import logging_configure

    logging_configure(settings.LOGGING)
