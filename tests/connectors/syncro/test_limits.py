"""Keeping to Syncro's 180 requests a minute, and what happens when Syncro says no anyway:
429 and 5xx are retried for reads, never for a POST that creates."""

from __future__ import annotations

import threading

import pytest

from deskhand.connectors.errors import RateLimitedError, UnavailableError
from deskhand.connectors.syncro.limiter import RequestLimiter, limiter_for
from tests.connectors.syncro.conftest import Client, FakeClock


def _busiest_minute(moments: list[float]) -> int:
    return max(sum(1 for m in moments if start <= m < start + 60) for start in moments)


def test_the_limiter_never_lets_more_than_the_limit_through_in_any_minute() -> None:
    clock = FakeClock()
    sent: list[float] = []
    limiter = RequestLimiter(180, clock=clock, sleep=clock.sleep)
    for _ in range(500):
        limiter.acquire()
        sent.append(clock())
    assert _busiest_minute(sent) == 180
    assert clock() - 1_000.0 >= 120  # 500 requests need at least two more minutes


def test_the_limiter_is_shared_by_threads() -> None:
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    limiter = RequestLimiter(50, clock=clock, sleep=sleep)
    sent: list[float] = []

    def send() -> None:
        for _ in range(30):
            limiter.acquire()
            with lock:
                sent.append(clock())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 120
    assert _busiest_minute(sent) <= 50


def test_one_limiter_per_api_key() -> None:
    assert limiter_for("key-a", 180) is limiter_for("key-a", 180)
    assert limiter_for("key-a", 180) is not limiter_for("key-b", 180)


def test_the_client_keeps_under_syncros_limit(syncro: Client) -> None:
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))
    psa = syncro.psa()  # its limiter and the stand-in's limit share the fake clock
    for _ in range(200):
        psa.get_ticket(ticket_id)
    statuses = [r.status for r in syncro.standin.received]
    assert statuses.count(200) == 200 and 429 not in statuses
    assert syncro.clock.slept, "the 181st request had to wait"


def test_a_429_is_waited_out_as_retry_after_says_then_retried(syncro: Client) -> None:
    syncro.standin.requests_per_minute = 3
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))
    psa = syncro.psa(per_minute=1000)  # as if another program used up the limit
    for _ in range(3):
        psa.get_ticket(ticket_id)
    syncro.clock.moment += 40
    psa.get_ticket(ticket_id)
    assert [r.status for r in syncro.standin.received] == [200, 200, 200, 429, 200]
    assert syncro.clock.slept == [20.0]  # the stand-in's Retry-After: the minute's rest


def test_a_429_on_a_post_is_not_retried(syncro: Client) -> None:
    ticket_id = str(syncro.standin.add_ticket(syncro.customer_id, "VPN", "down"))
    syncro.standin.requests_per_minute = 1  # the GET that checks the ticket uses it up
    with pytest.raises(RateLimitedError) as raised:
        syncro.psa(per_minute=1000).add_comment(ticket_id, "note", "text", hidden=True)
    assert raised.value.retry_after == 60
    assert "Rate limit exceeded" in raised.value.message
    assert syncro.standin.tickets[int(ticket_id)]["comments"][1:] == []


def test_a_read_is_retried_through_server_failures(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    syncro.standin.fail_next(503, times=2, method="GET", path=f"/tickets/{ticket_id}")
    assert syncro.psa().get_ticket(str(ticket_id)).subject == "VPN"
    gets = syncro.standin.requests_to("GET", f"/api/v1/tickets/{ticket_id}")
    assert [r.status for r in gets] == [503, 503, 200]
    assert syncro.clock.slept == [0.25, 0.5]  # backoff, doubled (no jitter in tests)


def test_a_comment_post_is_never_repeated_after_a_server_failure(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    syncro.standin.fail_next(500, method="POST", path="/comment")
    with pytest.raises(UnavailableError) as raised:
        syncro.psa().add_comment(str(ticket_id), "note", "text", hidden=True)
    assert raised.value.status == 500 and raised.value.message == "Internal Server Error"
    assert len(syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/comment")) == 1


def test_a_timer_entry_post_is_never_repeated_after_a_server_failure(syncro: Client) -> None:
    ticket_id = syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    syncro.standin.fail_next(502, method="POST", path="/timer_entry")
    with pytest.raises(UnavailableError):
        syncro.psa().log_minutes(str(ticket_id), 5, "time")
    assert len(syncro.standin.requests_to("POST", f"/api/v1/tickets/{ticket_id}/timer_entry")) == 1
