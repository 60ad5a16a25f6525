"""Sending the weekly digest: one e-mail per login per week, HTML and plain text, never twice.

Each send claims its (login, week) row in SentDigest inside the transaction that sends it:
a retried or duplicated run finds the row and skips that login; a failed send rolls the row
back, so the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from opportunities.digest import Digest, digest_recipients, digest_week, weekly_digest
from opportunities.models import SentDigest
from pipeline_pulse.display import day

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class DigestRun:
    """What a run did: digests sent, logins already sent this week's, and (dry run) planned."""

    week: tuple[Any, Any]
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    planned: list[Digest] = field(default_factory=list)


def digest_subject(digest: Digest) -> str:
    return f"Pipeline Pulse weekly digest: {day(digest.week[0])} to {day(digest.week[1])}"


def digest_message(digest: Digest) -> EmailMultiAlternatives:
    """The e-mail: a plain-text body and its HTML alternative, from the same figures."""
    context = {"digest": digest, "site_url": settings.SITE_URL}
    text = render_to_string("opportunities/email/digest.txt", context)
    html = render_to_string("opportunities/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=digest_subject(digest),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def digests_send(
    *, now: datetime | None = None, dry_run: bool = False, username: str | None = None
) -> DigestRun:
    """Send last week's digest to every login who wants one and has not had it (see
    opportunities.digest for who). `dry_run` builds them and sends nothing."""
    now = now or timezone.now()
    week = digest_week(now)
    run = DigestRun(week=week)
    recipients = digest_recipients(username)
    already = set(
        SentDigest.objects.filter(week_start=week[0], user__in=recipients).values_list(
            "user_id", flat=True
        )
    )
    for user in recipients:
        if user.pk in already:
            run.already_sent.append(user.username)
            continue
        digest = weekly_digest(user, now=now)
        if dry_run:
            run.planned.append(digest)
            continue
        try:
            sent = _send_once(digest, now=now)
        except Exception:
            # One bad address or a mail server hiccup must not stop the others' digests.
            logger.exception("Weekly digest to %s failed", user.username)
            run.failed.append(user.username)
            continue
        (run.sent if sent else run.already_sent).append(user.username)
    logger.info(
        "Weekly digest for %s: %d sent, %d already sent, %d failed",
        week[0],
        len(run.sent),
        len(run.already_sent),
        len(run.failed),
    )
    return run


def _send_once(digest: Digest, *, now: datetime) -> bool:
    """Claim the (login, week) row and send in one transaction; False if it was claimed."""
    try:
        with transaction.atomic():
            SentDigest.objects.create(
                user=digest.user,
                week_start=digest.week[0],
                sent_at=now,
                recipient=digest.user.email,
            )
            digest_message(digest).send()
    except IntegrityError:
        return False
    return True
