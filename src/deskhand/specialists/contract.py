"""The specialist contract: everything a specialist plugin is given and must return.

A specialist turns one kind of ticket into a plan. It **only plans**: it never calls a
connector, the database or the network, and it cannot run anything. The dispatcher gives it
the ticket and what the tenant's directory says about the people, groups and licences the
ticket names (already looked up and resolved); it returns the steps it proposes. The shared
policy decides which steps need a human, and the shared executor performs them.

Writing one::

    class Offboarding(Specialist):
        name = "offboarding"
        description = "Disables a leaver's account and hands their mailbox over."
        intents: ClassVar[Mapping[str, Intent]] = {
            "user_offboarding": Intent(
                description="A user leaves: disable their account, keep their mail.",
                examples=(
                    "user is leaving",
                    "disable the account of",
                    "Mitarbeiter ausgetreten",       # German
                    "medewerker uit dienst",         # Dutch
                    "départ d'un collaborateur",     # French
                ),
                categories=("User offboarding",),    # optional: see Intent
            ),
        }
        Parameters = OffboardingRequest      # a pydantic model of what it needs
        needs_identity = True                # security changes: the requester is checked
        resolves = frozenset({"group"})      # every group the ticket names must be resolved

        def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
            ...

and register it under the ``deskhand.specialists`` entry-point group of your package::

    [project.entry-points."deskhand.specialists"]
    offboarding = "my_msp_plugins.offboarding:Offboarding"

**Intents.** ``intents`` maps each intent the specialist handles (a lowercase name, never
``other``, handled by no other specialist) to its :class:`Intent`. Triage has no list of its
own: what a specialist declares here is how its tickets reach it. Before a triage model is
trained, a ticket that contains one of the ``examples`` (whole words, any case) reads as that
intent — in the subject a phrase is a clear request, in the body half of one — and each example
must route to its intent on its own. The optional LLM is offered exactly the installed intents,
with their descriptions and examples. ``categories`` adds the phrases of deskhand's taxonomy
categories (``history/taxonomy.yaml``) and reads history labelled with them as the intent when a
model is trained; ``patterns`` are regular expressions for requests a phrase cannot catch. The
dispatcher passes the intent it routed on in ``context.triage.intent``.

A step names an action by its name: deskhand's own (``deskhand.actions``) or a plugin's, which
is one class registered under the ``deskhand.actions`` entry-point group (see
``deskhand.actions.contract``); ``examples/printer-mapping`` is a complete plugin of both.
A client reply (``psa.send_reply``) carries only what it says (``body``): the engine frames it
in the tenant's reply template, greeting the requester by the name the directory has for them,
so a specialist never writes a greeting or a sign-off.
Every installed specialist and action must pass the conformance kit that ships with deskhand:
``pytest --pyargs deskhand.testing.conformance``. Plans are checked again at run time: an
unknown action, parameters that do not fit it, or a tenant whose systems lack what it needs
escalate the ticket instead of running.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deskhand.domain.dates import DateMention
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.intents import Intent
from deskhand.domain.lifecycle import Lifecycle

__all__ = [
    "Intent",
    "Plan",
    "PlanContext",
    "ProposedStep",
    "Specialist",
    "TenantView",
    "TicketView",
    "TriageView",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class TicketView(_View):
    """The ticket as the specialist sees it. Its text is untrusted input: it may propose what
    to do, never who may approve it, which tenant it is for, or how risky it is."""

    id: int
    tenant_id: str
    psa_ticket_id: str
    subject: str
    body: str
    requester_email: str
    requester_name: str
    received_at: datetime | None = None  # when it arrived: what "Monday" in its text is after


class TenantView(_View):
    id: str
    name: str
    domains: tuple[str, ...] = ()
    time_zone: str = "UTC"  # an IANA name (Europe/London): what "Friday 17:00" means here


class TriageView(_View):
    """What triage made of the ticket."""

    intent: str
    confidence: float
    removal: bool = Field(description="The ticket asks to take something away")
    evidence: tuple[str, ...] = ()


class PlanContext(_View):
    """Facts from the tenant's own systems, looked up by the dispatcher before planning."""

    tenant: TenantView
    triage: TriageView
    requester: DirectoryUser | None = Field(description="The requester's own directory account")
    targets: tuple[DirectoryUser, ...] = Field(description="Users the ticket is about, resolved")
    groups: tuple[DirectoryGroup, ...] = Field(description="Groups the ticket names, resolved")
    skus: tuple[Sku, ...] = Field(description="Licences the ticket names, with free seats")
    devices: tuple[str, ...] = Field(
        default=(), description="Device names the ticket names (hostnames, asset tags), unchecked"
    )
    dates: tuple[DateMention, ...] = Field(
        default=(), description="Dates the ticket names, read relative to when it arrived"
    )
    identity: str = Field(description="Identity check verdict: target, manager, …, unchecked")
    msp_name: str = "your IT team"
    lifecycle: Lifecycle = Field(
        default=Lifecycle(),
        description="The tenant's offboarding defaults, starter roles and vendor checklist",
    )
    managers: tuple[DirectoryUser, ...] = Field(
        default=(), description="The targets' managers, looked up in the directory"
    )
    memberships: dict[str, tuple[DirectoryGroup, ...]] = Field(
        default_factory=dict, description="The groups of each target (by user id)"
    )
    subscriptions: tuple[Sku, ...] = Field(
        default=(),
        description="Every licence the tenant subscribes to, with its seats (for a specialist "
        "that names new people: a starter's licences)",
    )
    directory: str = Field(
        "cloud",
        description="Where the tenant's users are mastered: cloud (Microsoft 365 only) or "
        "hybrid (an on-premises AD deskhand can reach)",
    )
    left_out: tuple[str, ...] = Field(
        default=(),
        description="Directory objects (the ids and names of groups and licences) an approver "
        "left out of an earlier plan for this ticket: the plan neither adds nor removes them, "
        "and its note says they were left out",
    )


class ProposedStep(_View):
    """One action the specialist proposes, with its parameters and why, in a sentence a
    technician reads in the approval queue.

    ``after`` names the steps (by position, from 1) that must be verified before this one
    runs: a failure stops its dependents, and the steps that do not depend on it still run.
    None (the default) means every earlier step, as a plain sequence. A reply to the client
    always waits for every change before it, whatever it says."""

    action: str
    params: dict[str, Any]
    reason: str
    after: tuple[int, ...] | None = None


class Plan(_View):
    """The steps, in the order they must run. ``handoff`` set (and no steps) means: this needs
    a person, and says why — the ticket escalates with that explanation. ``question`` set (and
    no steps) means: the ticket leaves something out or is ambiguous, and the requester is asked
    this one question, in plain words, instead of a guess — a reply a technician approves, after
    which the ticket waits on the answer and is planned again with it."""

    summary: str
    steps: tuple[ProposedStep, ...] = ()
    handoff: str | None = None
    question: str | None = None
    # When the steps run: None, as soon as they are approved; a moment (timezone-aware) for a
    # leaver's last day or a starter's first, when the approval is given ahead and nothing
    # runs before it. What was approved is checked against the directory again just before.
    not_before: datetime | None = None

    @field_validator("not_before")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("must say its time zone (a naive time is read nowhere the same)")
        return value

    # What the ticket asks that no step does, in words ("forward the mail"): a technician does
    # it. Filled in by the engine (``deskhand.domain.asks``), never left to each specialist.
    left: tuple[str, ...] = ()


class Specialist(ABC):
    """Base class of every specialist. Subclasses set the class attributes and ``plan``."""

    name: ClassVar[str]  # unique, lowercase: password_reset
    description: ClassVar[str]  # one sentence for the docs and the web app
    # Raise it when what the specialist plans changes: an autonomy it earned on a tenant
    # (deskhand.trust.autonomy) was earned by the old plans, and is revoked at the next plan.
    version: ClassVar[str] = "1"
    # The triage intents it handles, by name, each with its description and examples (Intent);
    # no two specialists share an intent.
    intents: ClassVar[Mapping[str, Intent]]
    Parameters: ClassVar[type[BaseModel]]  # what it needs from the ticket, validated in plan
    needs_identity: ClassVar[bool] = False  # the requester must be verified against the target
    # The kinds of directory object it plans with ("group", "licence"): every one the ticket
    # names must resolve exactly, or the requester is asked (near matches) or the ticket escalates.
    resolves: ClassVar[frozenset[str]] = frozenset()
    # The targets' managers are looked up for it (context.managers): who takes over a leaver's
    # mail and files, to whom a starter reports. Off by default: it costs a directory call.
    needs_managers: ClassVar[bool] = False
    # It tells apart several users the ticket names (context.targets): a leaver and the
    # colleague who takes over. Otherwise a ticket naming more than one user is not planned.
    several_users: ClassVar[bool] = False
    # The ticket names people who are not in the directory yet (a starter): names that match
    # nobody are not asked about, and the plan may have no target user.
    new_people: ClassVar[bool] = False
    # The groups of the users the ticket names are looked up (context.memberships): a starter
    # "with the same access as Bob" gets Bob's groups.
    needs_memberships: ClassVar[bool] = False

    def subject(self, ticket: TicketView, context: PlanContext) -> DirectoryUser | None:
        """Which of several users the ticket names the plan is about (the leaver, not the
        colleague who takes over): the requester is checked against this one. Asked only of a
        specialist with ``several_users``; None when it cannot tell."""
        return context.targets[0] if len(context.targets) == 1 else None

    @abstractmethod
    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        """The plan for this ticket. Pure: the same input gives the same plan, with no I/O."""
