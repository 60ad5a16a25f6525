# Pipeline Pulse: one image for the web server, the Celery worker and beat.
# Dependencies come from the lock (requirements/runtime.txt, hashes checked) in a layer of
# their own, so a code change rebuilds only the layers after it.

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --require-hashes --no-deps -r /tmp/runtime.txt

WORKDIR /app
COPY manage.py pyproject.toml ./
COPY pipeline_pulse ./pipeline_pulse
COPY opportunities ./opportunities
COPY sync ./sync
COPY currency ./currency
COPY simulator ./simulator
COPY templates ./templates
COPY static ./static
# Static files collected and every module byte-compiled at build time: the runtime user can
# write neither, and the .pyc files stay valid whatever the files' times (unchecked-hash).
RUN SECRET_KEY=build-only DATA_DIR=/tmp/build-state python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q --invalidation-mode unchecked-hash /app /opt/venv

FROM python:3.11.13-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DATA_DIR=/tmp/pipeline-pulse
RUN useradd --create-home --uid 10001 pulse
# Owned by root, read-only to the user that runs the app.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001
EXPOSE 8000
CMD ["uvicorn", "pipeline_pulse.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
