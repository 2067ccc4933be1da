"""The connector call wrapper: retries only what is safe to retry, backs off, opens circuits."""

from __future__ import annotations

import pytest

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.errors import (
    CircuitOpenError,
    ForbiddenError,
    RateLimitedError,
    UnavailableError,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def caller(clock: Clock, **policy: float) -> Caller:
    return Caller(
        "contoso",
        "graph",
        policy=CallPolicy(**policy),  # type: ignore[arg-type]
        breakers=Breakers(clock=clock),
        sleep=clock.sleep,
        jitter=lambda: 1.0,
    )


def flaky(failures: list[Exception], result: str = "ok"):  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def request() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result

    return request, calls


def test_idempotent_call_is_retried_with_growing_backoff_until_it_succeeds() -> None:
    clock = Clock()
    request, calls = flaky([UnavailableError("502", system="graph", status=502)] * 2)
    assert caller(clock).call(request, idempotent=True) == "ok"
    assert len(calls) == 3
    assert clock.slept == [0.5, 1.0]


def test_non_idempotent_call_is_never_repeated() -> None:
    clock = Clock()
    request, calls = flaky([UnavailableError("timeout", system="graph")])
    with pytest.raises(UnavailableError):
        caller(clock).call(request, idempotent=False)
    assert len(calls) == 1
    assert clock.slept == []


def test_a_refusal_is_an_answer_and_is_not_retried() -> None:
    clock = Clock()
    request, calls = flaky([ForbiddenError("no", system="graph", status=403, fix="grant X")])
    with pytest.raises(ForbiddenError) as raised:
        caller(clock).call(request, idempotent=True)
    assert len(calls) == 1
    assert str(raised.value) == "graph (403): no — grant X"


def test_retry_after_is_honoured_but_capped() -> None:
    clock = Clock()
    request, _ = flaky(
        [
            RateLimitedError("slow down", system="graph", retry_after=7),
            RateLimitedError("slow down", system="graph", retry_after=500),
        ]
    )
    caller(clock, max_delay_seconds=30).call(request, idempotent=True)
    assert clock.slept == [7, 30]


def test_gives_up_after_the_last_attempt() -> None:
    clock = Clock()
    request, calls = flaky([UnavailableError("down", system="graph")] * 10)
    with pytest.raises(UnavailableError):
        caller(clock, attempts=3).call(request, idempotent=True)
    assert len(calls) == 3


def test_circuit_opens_after_consecutive_failures_then_lets_one_trial_through() -> None:
    clock = Clock()
    c = caller(clock, attempts=1, failures_to_open=2, open_seconds=60)
    down, _ = flaky([UnavailableError("down", system="graph")] * 10)
    for _ in range(2):
        with pytest.raises(UnavailableError):
            c.call(down, idempotent=True)
    never, never_calls = flaky([])
    with pytest.raises(CircuitOpenError, match="tenants doctor"):
        c.call(never, idempotent=True)
    assert never_calls == []
    clock.now += 61
    assert c.call(never, idempotent=True) == "ok"
    assert c.call(never, idempotent=True) == "ok"


def test_circuits_are_per_tenant_and_system() -> None:
    clock = Clock()
    breakers = Breakers(clock=clock)
    policy = CallPolicy(attempts=1, failures_to_open=1)
    down, _ = flaky([UnavailableError("down", system="graph")])
    with pytest.raises(UnavailableError):
        Caller("contoso", "graph", policy, breakers, clock.sleep).call(down, idempotent=True)
    ok, _ = flaky([])
    assert Caller("fabrikam", "graph", policy, breakers, clock.sleep).call(ok, idempotent=True)
    assert Caller("contoso", "syncro", policy, breakers, clock.sleep).call(ok, idempotent=True)
    with pytest.raises(CircuitOpenError):
        Caller("contoso", "graph", policy, breakers, clock.sleep).call(ok, idempotent=True)
