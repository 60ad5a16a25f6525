# Pipeline Pulse: one image for the web server, the Celery worker and beat.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 pulse

COPY pyproject.toml README.md ./
COPY pipeline_pulse ./pipeline_pulse
COPY opportunities ./opportunities
COPY sync ./sync
COPY currency ./currency
COPY simulator ./simulator
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install . \
    && SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && chown -R pulse /app

USER pulse
ENV DATA_DIR=/tmp/pipeline-pulse
EXPOSE 8000
CMD ["uvicorn", "pipeline_pulse.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
