"""The Zoho client against the Zoho simulator over real HTTP: paging, tokens, faults, parsing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from pipeline_pulse.retrying_http import RetryPolicy
from simulator.faults import Fault
from sync.tests.zoho_helpers import (
    Zoho,
    assert_matches_simulator,
    pull_everything,
    serve_zoho,
)
from sync.zoho import (
    ZohoApiError,
    ZohoAuthError,
    ZohoBadResponseError,
    ZohoRateLimitError,
    ZohoTokenRefreshThrottledError,
    ZohoUnavailableError,
)

TOKEN_PATH = "/oauth/v2/token"


def recording_session(urls: list[str]) -> requests.Session:
    """A real session that remembers the URLs it requested (to see which paging was used)."""
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: urls.append(response.url))
    return session


@pytest.fixture
def zoho_2450() -> Iterator[Zoho]:
    with serve_zoho(deals=2450, seed=11) as zoho:
        yield zoho


def test_full_pull_passes_2000_records_with_page_token(zoho_2450: Zoho) -> None:
    urls: list[str] = []
    client = zoho_2450.client(session=recording_session(urls))

    deals, malformed = pull_everything(client)

    expected_ids = [raw["id"] for raw in zoho_2450.simulator.deals()]
    assert [deal.zoho_id for deal in deals] == expected_ids  # every id once, in id order
    assert malformed == []
    assert client.api_calls == 13  # ceil(2450 / 200)
    assert zoho_2450.statuses() == [200] * 13
    queries = [parse_qs(urlsplit(url).query) for url in urls if "/crm/v8/Deals" in url]
    assert queries[0]["page"] == ["1"]
    assert all("page_token" in query and "page" not in query for query in queries[1:])
    assert all(query["sort_by"] == ["id"] for query in queries)
    assert all(query["sort_order"] == ["asc"] for query in queries)
    assert all(query["per_page"] == ["200"] for query in queries)


def test_every_record_equals_the_simulator_data(zoho_2450: Zoho) -> None:
    deals, _ = pull_everything(zoho_2450.client())

    raw_by_id = {raw["id"]: raw for raw in zoho_2450.simulator.deals()}
    for deal in deals:
        assert_matches_simulator(deal, raw_by_id[deal.zoho_id])
    assert all(isinstance(deal.amount, Decimal) for deal in deals)
    currencies = Counter(deal.currency for deal in deals)
    assert {"SGD", "USD", "INR", "PHP", "MYR", "IDR", "AUD", "EUR"} <= set(currencies)


def test_incremental_pull_returns_only_modified_deals_in_modified_time_order() -> None:
    with serve_zoho(deals=600, seed=3) as zoho:
        simulator = zoho.simulator
        watermark = simulator.clock.now()
        ids = [raw["id"] for raw in simulator.deals()]
        # Modified in this order, a minute apart, so Modified_Time orders them 500, 20, 350.
        for deal_id in (ids[500], ids[20], ids[350]):
            simulator.clock.advance(timedelta(minutes=1))
            simulator.modify_deal(deal_id, {"Stage": "Negotiation/Review"})
        client = zoho.client()

        pages = list(client.iter_deal_pages(modified_since=watermark))

    deals = [deal for page in pages for deal in page.deals]
    assert [deal.zoho_id for deal in deals] == [ids[500], ids[20], ids[350]]
    assert all(deal.stage == "Negotiation/Review" for deal in deals)
    assert [deal.zoho_modified_time for deal in deals] == sorted(
        deal.zoho_modified_time for deal in deals
    )
    assert client.api_calls == 1


def test_nothing_changed_costs_one_call_answered_304() -> None:
    with serve_zoho(deals=300) as zoho:
        client = zoho.client()

        pages = list(client.iter_deal_pages(modified_since=zoho.simulator.clock.now()))

        assert pages == []
        assert client.api_calls == 1
        assert zoho.statuses() == [304]


def test_an_empty_org_answers_204_and_yields_nothing() -> None:
    with serve_zoho(deals=0) as zoho:
        client = zoho.client()

        assert list(client.iter_deal_pages()) == []
        assert list(client.iter_deleted_deals()) == []
        assert zoho.statuses() == [204]
        assert zoho.statuses("/crm/v8/Deals/deleted") == [204]


def test_the_access_token_is_cached_and_reused_across_clients() -> None:
    with serve_zoho(deals=50) as zoho:
        first, second = zoho.client(), zoho.client()

        pull_everything(first)
        pull_everything(second)

        assert zoho.statuses(TOKEN_PATH) == [200]
        assert zoho.simulator.tokens.minted == 1
        assert (first.tokens.refreshes, second.tokens.refreshes) == (1, 0)


def test_token_expiry_mid_run_refreshes_once_and_loses_no_page(zoho_2450: Zoho) -> None:
    client = zoho_2450.client()
    ids: list[str] = []

    for number, page in enumerate(client.iter_deal_pages(), start=1):
        ids.extend(deal.zoho_id for deal in page.deals)
        if number == 3:
            zoho_2450.simulator.expire_tokens()

    assert ids == [raw["id"] for raw in zoho_2450.simulator.deals()]
    assert zoho_2450.statuses(TOKEN_PATH) == [200, 200]
    assert zoho_2450.statuses().count(401) == 1
    assert client.api_calls == 14  # 13 pages and the one answered 401


def test_the_token_is_refreshed_ahead_of_expiry_without_a_401() -> None:
    with serve_zoho(deals=10, token_lifetime_seconds=2) as zoho:
        client = zoho.client()  # the margin shrinks to half the lifetime: refresh after 1 s

        pull_everything(client)
        time.sleep(1.1)
        pull_everything(client)

        assert zoho.statuses(TOKEN_PATH) == [200, 200]
        assert 401 not in zoho.statuses()


def test_a_token_error_sent_as_http_200_is_an_auth_error_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with serve_zoho(deals=10) as zoho:
        secret = zoho.simulator.oauth.client_secret
        wrong_token = "1000.wrong-refresh-token-that-must-not-leak"
        client = zoho.client(refresh_token=wrong_token)

        with pytest.raises(ZohoAuthError) as refused:
            pull_everything(client)

        wrong_secret = zoho.client(client_secret="not-the-secret-either-0000")
        with pytest.raises(ZohoAuthError, match="invalid_client"):
            pull_everything(wrong_secret)

    message = str(refused.value)
    assert "invalid_code" in message
    assert "ZOHO_REFRESH_TOKEN" in message
    for leaked in (wrong_token, secret, "not-the-secret-either-0000"):
        assert leaked not in message
        assert leaked not in caplog.text
    assert zoho.statuses() == []  # never called the API without a token


def test_a_throttled_token_refresh_is_a_clear_error() -> None:
    with serve_zoho(deals=10, token_mint_limit=1) as zoho:
        pull_everything(zoho.client())
        zoho.simulator.expire_tokens()

        with pytest.raises(ZohoTokenRefreshThrottledError, match="too many refreshes"):
            pull_everything(zoho.client())

        assert zoho.statuses(TOKEN_PATH) == [200, 400]


def test_429_with_and_without_retry_after_500_and_timeouts_are_retried(zoho_2450: Zoho) -> None:
    zoho_2450.simulator.faults.retry_after_seconds = 2
    zoho_2450.simulator.faults.fail_next(
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED_NO_RETRY_AFTER,
        Fault.SERVER_ERROR,
        Fault.TIMEOUT,
        Fault.UNAVAILABLE,
        path_prefix="/crm/",
    )
    client = zoho_2450.client()

    deals, _ = pull_everything(client)

    assert [deal.zoho_id for deal in deals] == [raw["id"] for raw in zoho_2450.simulator.deals()]
    injected = [Fault.RATE_LIMITED, Fault.RATE_LIMITED_NO_RETRY_AFTER, Fault.SERVER_ERROR]
    assert zoho_2450.simulator.faults.injected == [*injected, Fault.TIMEOUT, Fault.UNAVAILABLE]
    # The timed-out call is logged only when the simulator's stall ends, so leave it out.
    answered = [status for status in zoho_2450.statuses() if status is not None]
    assert answered[:5] == [429, 429, 500, 503, 200]
    assert client.api_calls == 13 + 5
    assert zoho_2450.sleeps[0] == 2.0  # Retry-After honoured
    # Without Retry-After: full jitter below base * 2^(attempt-1).
    assert all(0 <= wait <= 0.05 * 2 ** (n + 1) for n, wait in enumerate(zoho_2450.sleeps[1:]))


def test_with_20_percent_random_faults_the_result_equals_the_simulator_data(
    zoho_2450: Zoho,
) -> None:
    faults = (
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED_NO_RETRY_AFTER,
        Fault.SERVER_ERROR,
        Fault.UNAVAILABLE,
        Fault.TIMEOUT,
        Fault.MALFORMED,
    )
    zoho_2450.simulator.faults.fail_randomly(0.2, faults, path_prefix="/crm/", seed=7)
    client = zoho_2450.client(
        retry_policy=RetryPolicy(max_attempts=12, backoff_base=0.01, read_timeout=1.0)
    )

    deals, malformed = pull_everything(client)

    raws = zoho_2450.simulator.deals()
    assert [deal.zoho_id for deal in deals] == [raw["id"] for raw in raws]
    for deal, raw in zip(deals, raws, strict=True):
        assert_matches_simulator(deal, raw)
    assert malformed == []
    injected = zoho_2450.simulator.faults.injected
    assert len(injected) >= 2
    assert client.api_calls == 13 + len(injected)  # each fault cost one retried call


@pytest.mark.parametrize(
    ("fault", "error", "reason"),
    [
        (Fault.SERVER_ERROR, ZohoUnavailableError, "HTTP 500 INTERNAL_ERROR on all 3 attempts"),
        (Fault.TIMEOUT, ZohoUnavailableError, "ReadTimeout on all 3 attempts"),
        (Fault.RATE_LIMITED, ZohoRateLimitError, "HTTP 429 TOO_MANY_REQUESTS on all 3 attempts"),
        (Fault.MALFORMED, ZohoBadResponseError, "not JSON"),
    ],
)
def test_when_attempts_run_out_the_error_is_typed_and_names_what_failed(
    fault: Fault, error: type[Exception], reason: str
) -> None:
    with serve_zoho(deals=10) as zoho:
        zoho.simulator.faults.fail_next(fault, fault, fault, path_prefix="/crm/")
        client = zoho.client(
            retry_policy=RetryPolicy(max_attempts=3, backoff_base=0.01, read_timeout=1.0)
        )

        with pytest.raises(error) as failed:
            pull_everything(client)

        assert reason in str(failed.value)
        assert "get deals page 1" in str(failed.value)
        assert client.api_calls == 3


def test_a_retry_after_longer_than_the_client_waits_fails_at_once() -> None:
    with serve_zoho(deals=10) as zoho:
        zoho.simulator.faults.retry_after_seconds = 3600
        zoho.simulator.faults.fail_next(Fault.RATE_LIMITED, path_prefix="/crm/")
        client = zoho.client()

        with pytest.raises(ZohoRateLimitError, match="asks to wait 3600 s"):
            pull_everything(client)

        assert client.api_calls == 1
        assert zoho.sleeps == []


def test_malformed_records_are_reported_and_never_abort_the_page() -> None:
    with serve_zoho(deals=30) as zoho:
        simulator = zoho.simulator
        injected = {
            kind: simulator.inject_malformed(kind)
            for kind in (
                "bad_date",
                "long_name",
                "unknown_currency",
                "negative_amount",
                "bad_probability",
                "missing_amount",
            )
        }

        deals, malformed = pull_everything(zoho.client())

    reasons = {item.zoho_id: item.reason for item in malformed}
    assert reasons[injected["bad_date"]] == "Closing_Date '2025-02-30' is not a real date"
    assert reasons[injected["long_name"]].startswith("Deal_Name is 157 characters long")
    assert reasons[injected["unknown_currency"]] == (
        "Currency 'DOGE' is not a three-letter ISO 4217 code"
    )
    assert reasons[injected["negative_amount"]] == "Amount -1500 is negative"
    assert reasons[injected["bad_probability"]] == (
        "Probability 140 is not a whole number from 0 to 100"
    )
    assert all(item.zoho_modified_time is not None for item in malformed)
    # A deal without an amount is well-formed: health decides what a missing amount means.
    missing_amount = next(d for d in deals if d.zoho_id == injected["missing_amount"])
    assert missing_amount.amount is None
    assert len(deals) + len(malformed) == 36


def test_deleted_deals_come_from_the_deleted_records_endpoint() -> None:
    with serve_zoho(deals=400) as zoho:
        simulator = zoho.simulator
        ids = [raw["id"] for raw in simulator.deals()]
        client = zoho.client()
        assert list(client.iter_deleted_deals()) == []  # 204: nothing deleted yet

        before = simulator.clock.now()
        simulator.clock.advance(timedelta(minutes=5))
        simulator.delete_deals(ids[:250])
        simulator.delete_deals(ids[250:252], permanent=True)
        pages = list(client.iter_deleted_deals(since=before))
        nothing_new = list(client.iter_deleted_deals(since=simulator.clock.now()))

    deleted = [item for page in pages for item in page]
    assert len(pages) == 2  # 252 deletions, 200 a page
    assert sorted(item.zoho_id for item in deleted) == sorted(ids[:252])
    kinds = Counter(item.deletion_type for item in deleted)
    assert kinds == {"recycle": 250, "permanent": 2}
    assert all(item.deleted_time == before + timedelta(minutes=5) for item in deleted)
    assert nothing_new == []
    assert zoho.statuses("/crm/v8/Deals/deleted") == [204, 200, 200, 304]


def test_a_zoho_error_body_becomes_a_typed_api_error() -> None:
    with serve_zoho(deals=10) as zoho:
        client = zoho.client()
        client._fields = ""  # what a bad field map would send: no `fields` at all

        with pytest.raises(ZohoApiError) as failed:
            pull_everything(client)

    error = failed.value
    assert (error.http_status, error.code) == (400, "REQUIRED_PARAM_MISSING")
    assert error.zoho_message == "One of the expected parameter is missing"
    assert error.details == {"param": "fields"}
