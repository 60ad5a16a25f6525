"""What the Zoho client retries, and with which token: revoked tokens, 5xx answers, the budget.

Zoho invalidates the oldest access token once more than 15 exist for one refresh token, so a
busy org can lose ours at any moment, during a backoff or twice within one call.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline_pulse.retrying_http import RetryPolicy
from simulator.faults import Fault
from simulator.http import Request, Response
from sync.tests.zoho_helpers import Zoho, pull_everything, serve_zoho
from sync.zoho import ZohoApiError, ZohoAuthError, ZohoError

TOKEN_PATH = "/oauth/v2/token"


def revoking_during_backoff(
    zoho: Zoho, *, replaced_elsewhere: bool = False
) -> Callable[[float], None]:
    """A sleep that revokes every token while the client waits (once), as Zoho may.

    With `replaced_elsewhere`, another worker then mints the replacement into the shared cache,
    so the waiting client finds a working token without being refused first.
    """
    revoked = False

    def sleep(seconds: float) -> None:
        nonlocal revoked
        zoho.sleeps.append(seconds)
        if revoked:
            return
        revoked = True
        zoho.simulator.expire_tokens()
        if replaced_elsewhere:
            other_worker = zoho.client()
            other_worker.tokens.replace_rejected(other_worker.tokens.current())

    return sleep


def test_a_token_revoked_during_a_429_backoff_is_replaced_and_the_call_succeeds() -> None:
    with serve_zoho(deals=10) as zoho:
        zoho.simulator.faults.fail_next(Fault.RATE_LIMITED, path_prefix="/crm/")
        client = zoho.client(sleep=revoking_during_backoff(zoho))

        deals, _ = pull_everything(client)

    assert len(deals) == 10
    assert zoho.statuses() == [429, 401, 200]
    assert zoho.statuses(TOKEN_PATH) == [200, 200]
    assert client.api_calls == 3
    assert len(zoho.sleeps) == 1  # the replaced token is tried at once, without a second wait


def test_every_attempt_reads_the_token_afresh_so_a_replacement_needs_no_refusal() -> None:
    with serve_zoho(deals=10) as zoho:
        zoho.simulator.faults.fail_next(Fault.RATE_LIMITED, path_prefix="/crm/")
        client = zoho.client(sleep=revoking_during_backoff(zoho, replaced_elsewhere=True))

        deals, _ = pull_everything(client)

    assert len(deals) == 10
    assert zoho.statuses() == [429, 200]  # the retry carried the other worker's token
    assert client.tokens.refreshes == 1


def test_tokens_revoked_three_times_in_one_run_still_page_through_everything() -> None:
    with serve_zoho(deals=1000, seed=5) as zoho:
        faults = zoho.simulator.faults
        client = zoho.client()
        ids: list[str] = []

        for number, page in enumerate(client.iter_deal_pages(), start=1):
            ids.extend(deal.zoho_id for deal in page.deals)
            if number == 1:
                faults.fail_next(Fault.UNAUTHORIZED, path_prefix="/crm/")
            if number == 3:  # twice within the same call: its replacement is revoked too
                faults.fail_next(Fault.UNAUTHORIZED, Fault.UNAUTHORIZED, path_prefix="/crm/")

        assert ids == [raw["id"] for raw in zoho.simulator.deals()]
        assert zoho.statuses().count(401) == 3
        assert zoho.statuses(TOKEN_PATH) == [200] * 4
        assert client.api_calls == 5 + 3


def test_a_revoked_token_counts_against_the_attempts_like_any_failure() -> None:
    with serve_zoho(deals=10) as zoho:
        zoho.simulator.faults.fail_next(*[Fault.UNAUTHORIZED] * 10, path_prefix="/crm/")
        client = zoho.client(retry_policy=RetryPolicy(max_attempts=3, backoff_base=0.01))

        with pytest.raises(ZohoAuthError, match="HTTP 401 INVALID_TOKEN on all 3 attempts"):
            pull_everything(client)

        assert client.api_calls == 3
        # No token is minted after the last refusal: there is no attempt left to use it.
        assert zoho.statuses(TOKEN_PATH) == [200] * 3


def test_rate_limits_and_revoked_tokens_share_one_budget() -> None:
    with serve_zoho(deals=10) as zoho:
        alternating = [Fault.RATE_LIMITED_NO_RETRY_AFTER, Fault.UNAUTHORIZED] * 5
        zoho.simulator.faults.fail_next(*alternating, path_prefix="/crm/")
        client = zoho.client(retry_policy=RetryPolicy(max_attempts=4, backoff_base=0.01))

        with pytest.raises(ZohoError, match="on all 4 attempts"):
            pull_everything(client)

        assert client.api_calls == 4
        assert zoho.statuses() == [429, 401, 429, 401]


def answer_next_with(zoho: Zoho, monkeypatch: pytest.MonkeyPatch, status: int, times: int) -> None:
    """The next API calls get `status` with Zoho's error body (the fault plan names 500, 503)."""
    render = zoho.simulator.render_fault

    def render_with_status(fault: Fault, request: Request) -> Response:
        response = render(fault, request)
        if fault is Fault.SERVER_ERROR:
            response.status = status
        return response

    monkeypatch.setattr(zoho.simulator, "render_fault", render_with_status)
    zoho.simulator.faults.fail_next(*[Fault.SERVER_ERROR] * times, path_prefix="/crm/")


@pytest.mark.parametrize("status", [500, 502, 504, 505, 599])
def test_every_5xx_but_501_is_retried(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_zoho(deals=10) as zoho:
        answer_next_with(zoho, monkeypatch, status, times=2)
        client = zoho.client()

        deals, _ = pull_everything(client)

    assert len(deals) == 10
    assert zoho.statuses() == [status, status, 200]


def test_501_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_zoho(deals=10) as zoho:
        answer_next_with(zoho, monkeypatch, 501, times=2)
        client = zoho.client()

        with pytest.raises(ZohoApiError) as failed:
            pull_everything(client)

    assert (failed.value.http_status, failed.value.code) == (501, "INTERNAL_ERROR")
    assert zoho.statuses() == [501]
    assert zoho.sleeps == []
