"""The one way a real connector calls its outside system: a time limit, retries with backoff and
jitter for idempotent calls only, and a circuit breaker per tenant and system.

A connector client wraps each request in ``Caller.call``; what fails comes out as a
``deskhand.connectors.errors`` exception that says, in plain words, what to fix — without the
connector's secrets, which its ``Redactor`` takes out of every error that leaves here.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from deskhand.connectors.errors import (
    CircuitOpenError,
    ConnectorError,
    RateLimitedError,
    UnavailableError,
)
from deskhand.connectors.redaction import Redactor

T = TypeVar("T")


@dataclass(frozen=True)
class CallPolicy:
    """How patient deskhand is with one system."""

    timeout_seconds: float = 20.0  # for one request; clients pass it to their transport
    attempts: int = 4  # an idempotent call is tried at most this often
    base_delay_seconds: float = 0.5  # the first back-off; doubled each time, with jitter
    max_delay_seconds: float = 30.0  # no single wait is longer (Retry-After included)
    failures_to_open: int = 5  # consecutive failures after which the circuit opens
    open_seconds: float = 60.0  # how long an open circuit refuses calls before one trial


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None


@dataclass
class Breakers:
    """The circuits of every tenant's systems in this process, keyed ``(tenant, system)``."""

    clock: Callable[[], float] = time.monotonic
    _circuits: dict[tuple[str, str], _Circuit] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before(self, key: tuple[str, str], policy: CallPolicy) -> None:
        """Refuse at once while the circuit is open; after ``open_seconds`` let one call try."""
        with self._lock:
            circuit = self._circuits.setdefault(key, _Circuit())
            if circuit.opened_at is None:
                return
            waited = self.clock() - circuit.opened_at
            if waited < policy.open_seconds:
                raise CircuitOpenError(
                    f"calls to {key[1]} for tenant {key[0]} failed {circuit.failures} times in "
                    f"a row; deskhand waits {policy.open_seconds - waited:.0f} s more before "
                    "trying again",
                    system=key[1],
                    fix="`deskhand tenants doctor` shows what is wrong with the connection",
                )
            circuit.opened_at = None  # half-open: this call is the trial

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._circuits[key] = _Circuit()

    def failed(self, key: tuple[str, str], policy: CallPolicy) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.failures += 1
            if circuit.failures >= policy.failures_to_open:
                circuit.opened_at = self.clock()

    def is_open(self, key: tuple[str, str]) -> bool:
        circuit = self._circuits.get(key)
        return circuit is not None and circuit.opened_at is not None


BREAKERS = Breakers()  # shared by every connector of this process


@dataclass
class Caller:
    """Calls one tenant's system under a ``CallPolicy``."""

    tenant_id: str
    system: str  # syncro, graph, ldap, smtp — as the escalation note names it
    policy: CallPolicy = field(default_factory=CallPolicy)
    breakers: Breakers = field(default_factory=lambda: BREAKERS)
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random  # 0 ≤ x < 1
    redactor: Redactor = field(default_factory=Redactor)  # the connector's secrets

    def call(self, request: Callable[[], T], *, idempotent: bool) -> T:
        """Run ``request``; retry an idempotent one while the system is unavailable.

        Only ``UnavailableError`` (timeouts, 5xx, 429) counts against the circuit and is
        retried: a refusal (403, 404, 409) is an answer, and trying again would not change it.
        A non-idempotent call (a POST that creates) is never repeated, since the first may
        have landed.

        An error that says one of the connector's secrets leaves without it (and without the
        exceptions it was raised from); so does any other exception that says one, as a
        ``ConnectorError``.
        """
        try:
            return self._attempts(request, idempotent=idempotent)
        except ConnectorError as error:
            clean = self.redactor.error(error)
            if clean is error:
                raise
        except Exception as error:
            if not self.redactor.holds(error):
                raise
            clean = ConnectorError(
                self.redactor(f"{type(error).__name__}: {error}"), system=self.system
            )
        raise clean from None  # outside the except: the original is not even its context

    def _attempts(self, request: Callable[[], T], *, idempotent: bool) -> T:
        key = (self.tenant_id, self.system)
        attempts = self.policy.attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            self.breakers.before(key, self.policy)
            try:
                result = request()
            except UnavailableError as error:
                self.breakers.failed(key, self.policy)
                if attempt == attempts or self.breakers.is_open(key):
                    raise
                self.sleep(self._delay(attempt, error))
            except ConnectorError:
                self.breakers.succeeded(key)  # the system answered
                raise
            else:
                self.breakers.succeeded(key)
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, attempt: int, error: UnavailableError) -> float:
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(error.retry_after, self.policy.max_delay_seconds)
        backoff = self.policy.base_delay_seconds * 2.0 ** (attempt - 1)
        # "Full jitter": spread retries of many workers over the whole window.
        return min(backoff, self.policy.max_delay_seconds) * (0.5 + self.jitter() / 2)


def caller_for(
    tenant_id: str,
    system: str,
    redactor: Redactor,
    timeout_seconds: float,
    *,
    given: Caller | None = None,
) -> Caller:
    """A connector's ``Caller``, redacting with the connector's ``redactor``: ``given`` (a
    test's, with its own clock and breakers) or a new one."""
    caller = given or Caller(tenant_id, system, policy=CallPolicy(timeout_seconds=timeout_seconds))
    return replace(caller, redactor=redactor)
