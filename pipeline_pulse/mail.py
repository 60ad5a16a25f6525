"""Sending e-mail: one function that renders a mail's plain-text and HTML parts from
templates and sends it through the configured backend (settings/email.py).

A mail is two templates, `<name>.txt` and `<name>.html`, and a subject template
`<name>_subject.txt` (one line), rendered with the same context.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render_mail(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of the mail `template` names."""
    rendered = render_to_string(f"{template}_subject.txt", dict(context))
    subject = " ".join(rendered.split())  # one line: a header cannot hold a newline
    text = render_to_string(f"{template}.txt", dict(context))
    html = render_to_string(f"{template}.html", dict(context))
    return subject, text, html


def mail_send(
    *, to: Sequence[str], template: str, context: Mapping[str, Any], reply_to: str = ""
) -> int:
    """Render the mail and send it to each address in `to`, one message each (no recipient
    sees the others). Returns how many were sent."""
    subject, text, html = render_mail(template, context)
    messages = []
    for address in dict.fromkeys(a for a in to if a):
        message = EmailMultiAlternatives(
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            reply_to=[reply_to] if reply_to else None,
        )
        message.attach_alternative(html, "text/html")
        messages.append(message)
    if not messages:
        return 0
    with get_connection() as connection:
        sent = connection.send_messages(messages) or 0
    logger.info("Sent %s e-mail(s): %s", sent, subject)
    return sent
