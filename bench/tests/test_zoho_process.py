"""The simulators served from a process of their own, changed through the command pipe."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bench.zoho_process import SimulatorProcess
from sync.zoho.records import DealUpdate


def test_serves_an_aged_data_set_and_applies_changes_sent_down_the_pipe() -> None:
    with SimulatorProcess(deals=30, data_age=timedelta(hours=1)) as simulators:
        process = simulators._process
        deals = [deal for page in simulators.zoho_client().iter_deal_pages() for deal in page.deals]
        assert len(deals) == 30
        newest = max(deal.zoho_modified_time for deal in deals)

        stamp = simulators.modify_deal(deals[3].zoho_id, {"Deal_Name": "Changed in Zoho"})
        changed = [
            deal
            for page in simulators.zoho_client().iter_deal_pages(modified_since=newest)
            for deal in page.deals
        ]
        assert [(deal.zoho_id, deal.name) for deal in changed] == [
            (deals[3].zoho_id, "Changed in Zoho")
        ]
        # The data set is an hour old by the simulator's own clock (a process of its own,
        # which the tests' frozen clock does not reach); an edit carries the time it is made.
        assert datetime.fromisoformat(stamp) - newest >= timedelta(minutes=59)

        stats = simulators.stats()
        assert stats.deal_pages == 2
        assert stats.calls == 3  # one token (the second client reuses it) and two pages
        assert stats.serve_seconds > 0
        assert stats.since(stats).deal_pages == 0
    assert not process.is_alive()


def test_a_failed_command_is_reported_with_the_simulator_s_error() -> None:
    with SimulatorProcess(deals=5) as simulators:
        with pytest.raises(RuntimeError, match="KeyError"):
            simulators.modify_deal("no-such-deal", {"Deal_Name": "x"})
        assert simulators.stats().deal_pages == 0  # still answering after the failure


def test_counts_each_deal_sent_to_update_records_and_reads_deals_back() -> None:
    with SimulatorProcess(deals=5) as simulators:
        client = simulators.zoho_client()
        first, second = [deal.zoho_id for deal in next(iter(client.iter_deal_pages())).deals][:2]
        client.update_deals([DealUpdate(first, {"probability": 13})])
        client.update_deals(
            [DealUpdate(first, {"probability": 14}), DealUpdate(second, {"probability": 500})]
        )

        counts = simulators.update_counts()
        assert counts.sent == {first: 2, second: 1}
        assert counts.applied == {first: 2}  # Zoho refused the second's probability
        assert simulators.deal_values([first, "gone"], ["Probability"]) == {
            first: {"Probability": 14}
        }
        assert simulators.team_edits() == []  # the team edits only when asked to
        served = simulators.served
        assert served is not None
        assert set(served.environment) >= {"ZOHO_API_DOMAIN", "CURRENCYFREAKS_API_KEY"}
