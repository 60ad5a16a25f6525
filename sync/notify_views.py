"""The public endpoint Zoho CRM posts its notifications to: no login, no CSRF token, a small
body, the channel's id and token checked, and an answer at once (the deals are fetched by a
task)."""

from __future__ import annotations

import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from sync.services.watch import notifications_enabled, zoho_watch_callback_accept
from sync.tasks import zoho_notified_fetch_task
from sync.zoho.watch import parse_notification

logger = logging.getLogger(__name__)

# A callback names record ids only; this leaves room for thousands of them.
MAX_BODY_BYTES = 256 * 1024


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


@csrf_exempt  # Zoho cannot send a CSRF token: the channel's token is the proof instead
@login_not_required
@require_POST
def zoho_notify(request: HttpRequest) -> HttpResponse:
    if not notifications_enabled():
        return _answer(404, "Zoho notifications are off here.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, "Content-Length is not a number.")
    if declared > MAX_BODY_BYTES:
        return _answer(413, f"A notification body is at most {MAX_BODY_BYTES} bytes.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, f"A notification body is at most {MAX_BODY_BYTES} bytes.")
    try:
        notification = parse_notification(json.loads(body or b"null"))
    except (ValueError, RecursionError) as exc:
        return _answer(400, f"Not a Zoho notification: {exc}.")
    if not zoho_watch_callback_accept(channel_id=notification.channel_id, token=notification.token):
        logger.warning("Zoho notification refused: unknown channel or wrong token")
        return _answer(403, "Unknown channel or wrong token.")
    if notification.module and notification.module != "Deals":
        return _answer(200, f"{notification.module} is not watched; ignored.")
    if notification.zoho_ids:
        try:
            zoho_notified_fetch_task.delay(notification.operation, list(notification.zoho_ids))
        except OperationalError as exc:  # the broker is down: the scheduled pull catches up
            logger.warning("Zoho notification not queued (%s): left to the scheduled pull", exc)
            return _answer(503, "Not queued now; the next scheduled sync reads these deals.")
    return _answer(202, f"{len(notification.zoho_ids)} deals will be fetched.")
