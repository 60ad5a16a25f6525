"""The data version: every service that changes what the screens show moves it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from currency.tests.factories import ExchangeRateFactory
from opportunities.data_version import (
    data_version,
    deals_changed,
    keep_at_version,
    kept_at_version,
)
from opportunities.roles import Role
from opportunities.services import health_recompute
from opportunities.services.edits import opportunity_edit
from opportunities.services.fx import opportunities_reconvert
from opportunities.tests.factories import OpportunityFactory, UserFactory
from opportunities.tests.syncing import sync_new
from sync.models import SyncKind, SyncStatus, SyncTrigger
from sync.services import zoho_sync
from sync.tests.fakes import FakeDealSource, deal_record


def _moves(action: Callable[[], Any]) -> bool:
    before = data_version()
    action()
    return data_version() > before


def test_outside_a_transaction_it_moves_once() -> None:
    cache.clear()
    first = data_version()
    deals_changed()
    assert data_version() == first + 1


def test_a_kept_value_lasts_until_the_version_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    assert kept_at_version("figure") == (data_version(), None)
    version, _ = kept_at_version("figure")
    keep_at_version("figure", {"open": Decimal("12.50")}, version, 30)
    reads: list[str] = []
    depth = [0]

    def counted(name: str) -> Callable[..., Any]:
        original = getattr(cache, name)

        def read(*args: Any, **kwargs: Any) -> Any:
            # The calls this code makes, not the ones a backend makes of itself (the file
            # cache's get_many calls get once a key).
            if not depth[0]:
                reads.append(name)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return read

    monkeypatch.setattr(cache, "get", counted("get"))
    monkeypatch.setattr(cache, "get_many", counted("get_many"))
    assert kept_at_version("figure") == (version, {"open": Decimal("12.50")})
    assert reads == ["get_many"]  # the version and the value in one round trip
    deals_changed()
    assert kept_at_version("figure") == (version + 1, None)


def test_a_value_computed_before_a_move_is_not_served_after_it() -> None:
    cache.clear()
    version, _ = kept_at_version("figure")
    deals_changed()  # a write landed while the figure was being computed
    keep_at_version("figure", 41, version, 30)
    assert kept_at_version("figure") == (version + 1, None)


@pytest.mark.django_db
def test_inside_a_transaction_it_moves_now_and_again_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A page drawn between the write and the commit (old rows) is kept under a version that
    the commit leaves behind."""
    first = data_version()
    with django_capture_on_commit_callbacks(execute=True):
        deals_changed()
        assert data_version() == first + 1
    assert data_version() == first + 2


@pytest.mark.django_db
def test_a_local_edit_moves_it() -> None:
    deal = sync_new(stage="Needs Analysis", probability=40)
    manager = UserFactory.create(role=Role.MANAGER)
    assert _moves(lambda: opportunity_edit(deal=deal, user=manager, changes={"probability": "45"}))


@pytest.mark.django_db
def test_rescoring_moves_it_when_it_scores_deals() -> None:
    assert not _moves(health_recompute)  # no deal: nothing shown changed
    deal = OpportunityFactory.create()
    assert _moves(health_recompute)
    assert _moves(lambda: health_recompute(opportunity_ids=[deal.pk]))


@pytest.mark.django_db
def test_a_reconversion_moves_it_when_an_sgd_amount_changes() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"))
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"))
    OpportunityFactory.create(currency="USD", amount=Decimal("100.00"))
    assert _moves(opportunities_reconvert)
    assert not _moves(opportunities_reconvert)  # the same rates: every amount stands


@pytest.mark.django_db
def test_every_sync_run_moves_it_when_it_ends_succeeded_or_failed() -> None:
    ExchangeRateFactory.create(currency="SGD", units_per_usd=Decimal("1.35"))
    ExchangeRateFactory.create(currency="USD", units_per_usd=Decimal("1"))
    source = FakeDealSource([deal_record(n) for n in range(3)])

    def pulled() -> None:
        run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND, source=source)
        assert run.status == SyncStatus.SUCCEEDED

    def failed() -> None:
        # No Zoho configured here: the run fails, and whatever it committed shows at once.
        run = zoho_sync(kind=SyncKind.FULL, trigger=SyncTrigger.COMMAND)
        assert run.status == SyncStatus.FAILED

    assert _moves(pulled)
    assert _moves(failed)
