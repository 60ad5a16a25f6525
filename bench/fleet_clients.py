"""The people using the fleet's web servers: readers of pages, a Manager editing deals and
pressing "Sync now", each through HTTP as a browser would (session cookie, CSRF token)."""

from __future__ import annotations

import functools
import itertools
import random
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar, cast

import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from bench.fleet_instruments import PageLog, failure_of, timed
from bench.fleet_processes import WebServer
from opportunities.roles import Role
from opportunities.services.logins import login_upsert

TIMEOUT_SECONDS = 60

Result = TypeVar("Result")


def login(username: str, role: Role, *, email: str = "") -> User:
    user = login_upsert(
        username=username,
        email=email or f"{username}@example.com",
        password=secrets.token_urlsafe(16),
        role=role,
        full_name=username.replace("-", " ").title(),
    )
    return cast(User, user)


def session_cookie(user: User) -> str:
    """A signed-in session for `user`, stored in the database every web server reads."""
    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def _post(
    web: WebServer, cookie: str, *, form_page: str, path: str, data: Mapping[str, str]
) -> int:
    """POST as the page's form would: the CSRF cookie from the page, its token in a header."""
    with web.session(cookie) as session:
        session.get(web.url(form_page), timeout=TIMEOUT_SECONDS)
        token = session.cookies.get(settings.CSRF_COOKIE_NAME, "")
        response = session.post(
            web.url(path),
            data=data,
            headers={"X-CSRFToken": token, "HX-Request": "true"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        return response.status_code


def press_sync_now(web: WebServer, cookie: str, *, kind: str) -> int:
    """The sync page's button: 200 when queued, 409 when a sync is already running."""
    return _post(web, cookie, form_page="/sync/", path="/sync/start/", data={"kind": kind})


def edit_deal(web: WebServer, cookie: str, deal_id: int, changes: Mapping[str, str]) -> int:
    """The deal page's edit form; 200 when saved."""
    page = f"/deals/{deal_id}/"
    return _post(web, cookie, form_page=page, path=page, data=changes)


def at_once(calls: Sequence[Callable[[], Result]]) -> list[Result | None]:
    """Make every call in a thread of its own, all released together; their results (None
    for one that raised, which the thread reports)."""
    results: list[Result | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def call(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=call, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def read_pages(
    webs: Sequence[WebServer],
    cookie: str,
    pages: Mapping[str, Sequence[str]],
    *,
    clients: int,
    log: PageLog,
    stop: threading.Event,
) -> list[threading.Thread]:
    """Start `clients` threads, spread over the web servers, each asking for the pages in
    turn (a page's paths at random) with a kept-alive connection, until `stop` is set."""

    def reader(number: int) -> None:
        web = webs[number % len(webs)]
        rng = random.Random(number)  # nosec B311 - which deal to read, not security
        labels = itertools.cycle(list(pages)[number % len(pages) :] + list(pages))
        with web.session(cookie) as session:
            while not stop.is_set():
                label = next(labels)
                url = web.url(rng.choice(pages[label]))
                milliseconds, status, error = timed(functools.partial(_get, session, url))
                log.record(label, milliseconds, failure_of(status, error))

    threads = [
        threading.Thread(target=reader, args=(number,), name=f"reader {number}", daemon=True)
        for number in range(clients)
    ]
    for thread in threads:
        thread.start()
    return threads


def _get(session: requests.Session, url: str) -> int:
    with session.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False) as response:
        return response.status_code
