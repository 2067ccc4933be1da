"""A running Syncro stand-in with one MSP client (Contoso Dental) and a client of someone else,
and a ``SyncroPsa`` for Contoso that never really waits: its sleeps advance a fake clock that
the stand-in's rate limit and the client's limiter share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from deskhand.connectors.syncro.limiter import RequestLimiter
from tests.connectors.syncro.standin import API_KEY, SyncroStandIn


@dataclass
class FakeClock:
    """Seconds that pass only when someone sleeps."""

    moment: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += seconds


@dataclass
class Client:
    """The MSP's Syncro, seen from one of its customers."""

    standin: SyncroStandIn
    clock: FakeClock
    customer_id: int
    other_customer_id: int
    dana: int  # contact ids
    sam: int
    phone_only: int  # a contact without an e-mail address

    def psa(self, *, api_key: str = API_KEY, per_minute: int = 180) -> SyncroPsa:
        """A fresh client with its own circuit breakers and a limiter on the fake clock."""
        config = SyncroSettings(
            base_url=self.standin.base_url,
            customer_id=self.customer_id,
            authorised_contacts=("dana.reyes@contoso-dental.example",),
        )
        caller = Caller(
            "contoso",
            "syncro",
            policy=CallPolicy(timeout_seconds=5),
            breakers=Breakers(clock=self.clock),
            sleep=self.clock.sleep,
            jitter=lambda: 0.0,
        )
        limiter = RequestLimiter(per_minute, clock=self.clock, sleep=self.clock.sleep)
        return SyncroPsa("contoso", config, api_key, caller=caller, limiter=limiter)


@pytest.fixture
def standin() -> Iterator[SyncroStandIn]:
    """The stand-in; the test fails if anything it saw or sent did not match the spec."""
    server = SyncroStandIn().start()
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def syncro(standin: SyncroStandIn) -> Client:
    clock = FakeClock()
    standin.clock = clock
    contoso = standin.add_customer("Contoso Dental", "office@contoso-dental.example")
    other = standin.add_customer("Fabrikam Legal", "office@fabrikam.example")
    dana = standin.add_contact(contoso, "Dana Reyes", "dana.reyes@contoso-dental.example")
    sam = standin.add_contact(contoso, "Sam Ortiz", "sam.ortiz@contoso-dental.example")
    phone = standin.add_contact(contoso, "Front desk phone", None)
    standin.add_contact(other, "Fay Fabrikam", "fay@fabrikam.example")
    return Client(standin, clock, contoso, other, dana, sam, phone)
