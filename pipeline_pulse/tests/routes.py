"""Every URL pattern of the project, walked from the urlconf, for tests that must cover them all.

A new route is in the walk the moment it is added: the access test and the fuzz test need no
list of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from currency.services import rate_override_set
from opportunities.models import Conflict
from opportunities.roles import Role
from opportunities.tests.factories import OpportunityFactory, StageMappingFactory, UserFactory
from sync.models import SyncKind, SyncRun, SyncStatus, SyncTrigger

CONVERTER = re.compile(r"<(?:\w+:)?\w+>")
# Named groups, and the unnamed ones some admins use (django-simple-history's record view).
GROUP = re.compile(r"\((?:\?P<\w+>)?([^)?][^)]*)\)")


def _example(group: str) -> str:
    """A value a path parameter's regex accepts: the first of a list of names, or a number."""
    if re.fullmatch(r"[\w|]+", group):
        return group.split("|")[0]
    return next(value for value in ("1", "x") if re.fullmatch(group, value))


def _routes(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            path = CONVERTER.sub("1", GROUP.sub(lambda match: _example(match.group(1)), route))
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield "/" + path.replace("^", "").replace("$", ""), name, pattern.callback


def all_routes() -> list[tuple[str, str, Any]]:
    """(an example path, the route's name with its namespace, its view), sorted by path."""
    return sorted(_routes(get_resolver().url_patterns), key=lambda route: route[0])


# The routes with ids in their path that rows_for_routes() gives real rows to.
ROUTES_WITH_ROWS = frozenset(
    {
        "deal",
        "deal_history",
        "deal_conflict_decide",
        "deal_refused_decide",
        "api:opportunity-detail",
        "api:conflict-detail",
        "api:conflict-resolve",
        "api:stage-mapping-detail",
        "api:sync-run-detail",
        "api:rate-override-detail",
        "api:rate-override-remove",
        "password_reset_confirm",
    }
)


def rows_for_routes() -> dict[str, dict[str, int | str]]:
    """Real rows for each of ROUTES_WITH_ROWS, so its view gets past the 404: the route's
    name and its path arguments. Needs the database."""
    deal = OpportunityFactory.create()
    conflict = Conflict.objects.create(
        opportunity=deal,
        field="closing_date",
        base_value="2027-03-01",
        local_value="2027-04-15",
        zoho_value="2027-05-31",
        strategy="manual",
    )
    mapping = StageMappingFactory.create(stage="Shortlisted")
    run = SyncRun.objects.create(
        kind=SyncKind.FULL, status=SyncStatus.SUCCEEDED, trigger=SyncTrigger.SCHEDULE
    )
    override = rate_override_set(
        currency="INR",
        units_per_usd=Decimal("80"),
        reason="Budget",
        user=UserFactory.create(role=Role.VIEWER),
    )
    # A reset link that checks out, so the form behind it is fuzzed too.
    resetting = UserFactory.create(role=Role.REP)
    rows: dict[str, dict[str, int | str]] = {
        "password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(resetting.pk)),
            "token": default_token_generator.make_token(resetting),
        },
        "deal": {"pk": deal.pk},
        "deal_history": {"pk": deal.pk},
        "deal_conflict_decide": {"pk": deal.pk, "conflict_id": conflict.pk},
        "deal_refused_decide": {"pk": deal.pk, "field": "amount"},
        "api:opportunity-detail": {"pk": deal.pk},
        "api:conflict-detail": {"pk": conflict.pk},
        "api:conflict-resolve": {"pk": conflict.pk},
        "api:stage-mapping-detail": {"pk": mapping.pk},
        "api:sync-run-detail": {"pk": run.pk},
        "api:rate-override-detail": {"pk": override.pk},
        "api:rate-override-remove": {"pk": override.pk},
    }
    assert set(rows) == ROUTES_WITH_ROWS
    return rows


def paths_with_rows(
    *, skip: frozenset[str] = frozenset({"logout", "admin:logout"})
) -> Iterator[tuple[str, str]]:
    """Every route's path and name, with real rows' ids where rows_for_routes() has them;
    logging out is left out, as it would end the walk. Needs the database."""
    rows = rows_for_routes()
    for path, name, _ in all_routes():
        if name in skip:
            continue
        yield (reverse(name, kwargs=rows[name]), name) if name in rows else (path, name)
