"""Alerts to Admins: each condition is checked, Admins are told once when it starts to hold,
and the alert re-arms when it clears. Beat runs the check (alerts.tasks); so does
`manage.py send_alerts`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.conditions import Finding, findings
from alerts.models import AlertKind, AlertState
from opportunities.roles import Role
from pipeline_pulse.mail import mail_send

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertOutcome:
    kind: str
    # "sent", "would send" (dry run), "still holds" (told already), "cleared", "clear"
    action: str
    finding: Finding
    recipients: int = 0


def admin_addresses() -> list[str]:
    """Where alerts go: every active Admin's (and superuser's) e-mail address."""
    admins = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN))
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(admins)


def alerts_check(*, dry_run: bool = False, now: datetime | None = None) -> list[AlertOutcome]:
    """Check every condition; tell Admins of those that started to hold. A dry run says what
    would be sent and changes nothing."""
    now = now or timezone.now()
    return [_settle(finding, now=now, dry_run=dry_run) for finding in findings(now=now)]


def _settle(finding: Finding, *, now: datetime, dry_run: bool) -> AlertOutcome:
    with transaction.atomic():
        state = AlertState.objects.select_for_update().filter(
            kind=finding.kind
        ).first() or AlertState(kind=finding.kind)
        if not finding.holds:
            if not state.active:
                return AlertOutcome(finding.kind, "clear", finding)
            if not dry_run:
                state.active, state.cleared_at = False, now
                state.save()
                logger.info("Alert cleared: %s", state.get_kind_display())
            return AlertOutcome(finding.kind, "cleared", finding)
        if state.active:
            return AlertOutcome(finding.kind, "still holds", finding)
        addresses = admin_addresses()
        if dry_run:
            return AlertOutcome(finding.kind, "would send", finding, len(addresses))
        sent = mail_send(
            to=addresses,
            template="alerts/email/admin_alert",
            context={
                "title": AlertKind(finding.kind).label,
                "finding": finding,
                "url": f"{settings.SITE_URL}{finding.link}" if finding.link else "",
            },
        )
        if not addresses:
            logger.warning("Alert not sent, no Admin has an e-mail address: %s", finding.summary)
        state.active, state.since, state.sent_at = True, now, now
        state.detail = "\n".join([finding.summary, *finding.lines])[:5000]
        state.recipients = sent
        state.save()
        return AlertOutcome(finding.kind, "sent", finding, sent)
