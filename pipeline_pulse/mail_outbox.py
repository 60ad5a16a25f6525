"""The outbox e-mail backend (EMAIL_OUTBOX=true, the demo): every mail goes through the
configured backend as usual and a copy is kept as a SentEmail, the newest EMAIL_OUTBOX_KEEP
of them, for Admins to read in the admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from pipeline_pulse.models import SentEmail


class OutboxBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self._inner = get_connection(
            settings.EMAIL_OUTBOX_BACKEND, fail_silently=fail_silently, **kwargs
        )

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = self._inner.send_messages(email_messages) or 0
        if email_messages:
            SentEmail.objects.bulk_create(_copy(message) for message in email_messages)
            keep = SentEmail.objects.order_by("-sent_at", "-pk")[settings.EMAIL_OUTBOX_KEEP :]
            SentEmail.objects.filter(pk__in=list(keep.values_list("pk", flat=True))).delete()
        return sent


def _copy(message: EmailMessage) -> SentEmail:
    html = ""
    if isinstance(message, EmailMultiAlternatives):
        for content, mimetype in message.alternatives:
            if mimetype == "text/html":
                html = str(content)
    if message.content_subtype == "html":
        html, text = str(message.body), ""
    else:
        text = str(message.body)
    return SentEmail(
        from_email=str(message.from_email),
        to="\n".join([*message.to, *message.cc, *message.bcc]),
        subject=str(message.subject)[:998],
        text_body=text,
        html_body=html,
    )
