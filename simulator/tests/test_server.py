"""The shared simulator server: routing, keep-alive, fault injection and the call log."""

import threading
from collections.abc import Iterator

import pytest
import requests

from simulator.faults import Fault
from simulator.http import Request, Response
from simulator.server import SimulatedApi, SimulatorServer


class EchoApi(SimulatedApi):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.router.add("GET", "/echo/{word}", self.echo)
        self.router.add("POST", "/form", self.form)

    def echo(self, request: Request) -> Response:
        return Response.json({"word": request.path_params["word"], "n": request.arg("n")})

    def form(self, request: Request) -> Response:
        return Response.json({"grant_type": request.arg("grant_type")})


@pytest.fixture
def echo() -> Iterator[tuple[EchoApi, SimulatorServer]]:
    api = EchoApi()
    with SimulatorServer([api]) as server:
        yield api, server


def test_routes_by_path_and_method(echo: tuple[EchoApi, SimulatorServer]) -> None:
    _, server = echo
    assert requests.get(f"{server.url}/echo/hi?n=3", timeout=5).json() == {"word": "hi", "n": "3"}
    assert requests.post(f"{server.url}/echo/hi", timeout=5).status_code == 405
    assert requests.get(f"{server.url}/nowhere", timeout=5).status_code == 404
    body = requests.post(f"{server.url}/form", data={"grant_type": "refresh_token"}, timeout=5)
    assert body.json() == {"grant_type": "refresh_token"}


def test_scripted_faults_hit_the_next_calls_in_order(echo: tuple[EchoApi, SimulatorServer]) -> None:
    api, server = echo
    api.faults.fail_next(Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.MALFORMED)
    first = requests.get(f"{server.url}/echo/a", timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert requests.get(f"{server.url}/echo/a", timeout=5).status_code == 500
    with pytest.raises(requests.exceptions.JSONDecodeError):
        requests.get(f"{server.url}/echo/a", timeout=5).json()
    assert requests.get(f"{server.url}/echo/a", timeout=5).status_code == 200
    assert [call.status for call in server.calls_to("/echo")] == [429, 500, 200, 200]


def test_timeout_fault_stalls_past_the_client_timeout(
    echo: tuple[EchoApi, SimulatorServer],
) -> None:
    api, server = echo
    api.faults.stall_seconds = 0.5
    api.faults.fail_next(Fault.TIMEOUT)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{server.url}/echo/slow", timeout=0.2)
    assert requests.get(f"{server.url}/echo/fast", timeout=5).status_code == 200


def test_random_faults_are_reproducible_with_a_seed(echo: tuple[EchoApi, SimulatorServer]) -> None:
    api, server = echo

    def statuses() -> list[int]:
        api.faults.fail_randomly(0.5, (Fault.SERVER_ERROR,), seed=7)
        return [requests.get(f"{server.url}/echo/x", timeout=5).status_code for _ in range(20)]

    first, second = statuses(), statuses()
    assert first == second
    assert 0 < first.count(500) < 20


def _serving_threads(server: SimulatorServer) -> list[threading.Thread]:
    return [
        thread for thread in threading.enumerate() if thread.name == f"simulator on {server.url}"
    ]


def test_stop_ends_the_serving_thread_and_closes_the_port() -> None:
    server = SimulatorServer([EchoApi()]).start()
    url = server.url
    assert requests.get(f"{url}/echo/hi", timeout=5).status_code == 200
    assert _serving_threads(server)

    server.stop()

    # The loop sleeps without polling, so only stop()'s wake-up can have ended it.
    assert _serving_threads(server) == []
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/echo/hi", timeout=5)


def test_stop_is_harmless_before_start_and_when_repeated() -> None:
    never_started = SimulatorServer([EchoApi()])
    never_started.stop()
    with SimulatorServer([EchoApi()]) as server:
        server.stop()
    assert _serving_threads(server) == []
