"""The action contract: everything one action is, in one class — deskhand's own and any an MSP
installs under the ``deskhand.actions`` entry-point group.

An action is one typed change to one of a tenant's systems. Its class says what it is — its
parameters (a pydantic model whose directory references are declared with
``deskhand.domain.actions.Reference``), its blast radius and the facts that raise it, how it
reads in a draft, how it is undone, whether it is a manual step, whether it is safe to repeat
after a takeover, which capabilities of the tenant's connectors it needs — and how it is done:
``snapshot`` the state before, ``act``, and ``check`` by reading the system back. Only the
executor calls ``snapshot``/``act``/``check``; everything else reads the declarations.

Writing one::

    class ResetMfa(Action):
        name = "m365.reset_mfa"
        Params = UserParams                      # user_id is a declared USER reference
        radius = BlastRadius.SECURITY
        summary = "Remove every MFA method of {user_principal_name}"
        undo = None                              # cannot be undone: say so
        safe_to_repeat = True                    # removing what is gone again changes nothing
        needs = (MY_AUTH_METHODS,)               # a Capability over connectors.m365

        def snapshot(self, params, c): ...
        def act(self, params, c, key, secret):
            MY_AUTH_METHODS.of(c).remove_auth_methods(params.user_id)  # typed as its protocol
            ...
        def check(self, params, c, key, baseline): ...

and register it (or a tuple of them) under the ``deskhand.actions`` entry-point group::

    [project.entry-points."deskhand.actions"]
    my_actions = "my_msp_plugins.actions:ACTIONS"
"""

from __future__ import annotations

import secrets
import string
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from deskhand.connectors.capabilities import Capability
from deskhand.domain.actions import (
    GIVEN_KINDS,
    GROUP_KINDS,
    ActionError,
    Facts,
    Reference,
    ReferenceKind,
    references,
)
from deskhand.domain.actions import Params as Parameters
from deskhand.domain.risks import BlastRadius

# What a directory reference names, in a technician's words.
OBJECT_WORDS: Mapping[ReferenceKind, str] = {
    "user": "user",
    "group": "group",
    "ad_group": "group",
    "ad_user": "user",
    "licence": "licence",
    "ticket": "ticket",
    "requester": "recipient",
}


@dataclass(frozen=True)
class Acted:
    """What acting returned, for the record."""

    result: dict[str, Any]


@dataclass(frozen=True)
class Baseline:
    """When the step started, and the state snapshotted just before: what "done" is
    measured against."""

    started_at: datetime
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class Check:
    """Whether the intended state is in place, and what reading back showed. What a step that
    is done still leaves for a technician (a group deskhand cannot change) is listed in words
    under ``observed[LEFT_FOR_TECHNICIAN]``: the ticket goes to a technician for it."""

    done: bool
    observed: dict[str, Any]


LEFT_FOR_TECHNICIAN = "left_for_technician"


class Action(ABC):
    """Base class of every action. Subclasses set the class attributes and the three methods."""

    name: ClassVar[str]  # "<system>.<verb>_<object>": m365.reset_password
    Params: ClassVar[type[Parameters]]
    radius: ClassVar[BlastRadius]
    summary: ClassVar[str]  # one line for the draft, a format string over the parameters
    undo: ClassVar[str | None]  # how to undo it; None: it cannot be undone
    # The radius when a group the step names is privileged (Domain Admins): None, no change.
    privileged_radius: ClassVar[BlastRadius | None] = None
    # A manual step: the summary is the exact instructions a technician follows, their
    # approval is the tick that says it is done, acting changes nothing, and checking reads
    # the result back so a tick without the change is not verified.
    manual: ClassVar[bool] = False
    # Whether acting twice leaves things as acting once would (set a membership, assign a
    # licence). After a takeover a step whose outcome cannot be read back is repeated only if
    # this is true; otherwise (buy seats, log time, send a reply) the run escalates instead.
    safe_to_repeat: ClassVar[bool] = False
    needs: ClassVar[tuple[Capability[Any], ...]] = ()  # what the tenant's connectors must offer
    # A change that shows only after a while (a user created in AD reaches Microsoft 365 at the
    # next directory sync): reading back is repeated every ``recheck_every`` until it shows,
    # for at most this long after the step started; then the step fails and the run escalates.
    # None: reading back right after acting is final.
    settles_within: ClassVar[timedelta | None] = None
    # The parameter holding the sign-in name of the user this step creates (a starter): the
    # later steps of the same plan may name that user by it before the user exists.
    creates: ClassVar[str | None] = None
    recheck_every: ClassVar[timedelta] = timedelta(minutes=2)

    # --- what it is (pure) ------------------------------------------------------------------

    @property
    def references(self) -> dict[str, Reference]:
        """Which parameters name objects in the tenant's systems, and of what kind."""
        return references(self.Params)

    @property
    def shown(self) -> frozenset[str]:
        """Parameters filled in from the directory (display names): never edited directly."""
        return frozenset(name for ref in self.references.values() for name in ref.shows)

    def given(self, params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        """The groups and licences a step with ``params`` gives or takes away, as (id, name) —
        not the people it acts on: what an approver may leave out of its plan."""
        found = []
        for name, reference in self.references.items():
            if reference.kind in GIVEN_KINDS and params.get(name):
                shown = [str(params[field]) for field in reference.shows if params.get(field)]
                found.append((str(params[name]), shown[0] if shown else str(params[name])))
        return tuple(found)

    def validate(self, raw: Mapping[str, Any]) -> Parameters:
        """The parameters as this action's model; an ActionError that names what is wrong."""
        try:
            return self.Params.model_validate(dict(raw))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}"
                for e in error.errors()
            )
            raise ActionError(f"Parameters for {self.name} are not valid: {problems}.") from None

    def blast_radius(self, params: Parameters, facts: Facts) -> BlastRadius:
        """The radius of this step, raised by what the directory says about what it names."""
        groups = [
            getattr(params, name)
            for name, reference in self.references.items()
            if reference.kind in GROUP_KINDS
        ]
        if self.privileged_radius is not None and set(groups) & facts.privileged_groups:
            return self.privileged_radius
        return self.radius

    def facts(self, params: Parameters, c: Any) -> Facts:
        """What the tenant's systems say that raises this step's radius beyond the objects its
        parameters name (the groups of a user a step removes from all of them); read by the
        engine when it binds the step. Most actions name what they touch: nothing more."""
        return Facts()

    def describe(self, params: Parameters) -> str:
        """One line a technician reads in the approval queue: a yes-or-no parameter reads
        "yes" or "no", not Python's True and False."""
        words = {True: "yes", False: "no"}
        values = params.model_dump()
        return self.summary.format(
            **{k: words[v] if isinstance(v, bool) else v for k, v in values.items()}
        )

    def label(self, name: str) -> str:
        """A parameter in a technician's words: a directory reference, and each name it fills
        in, is the object it names ("group"); any other parameter is its field's title."""
        for reference_name, reference in self.references.items():
            if name == reference_name or name in reference.shows:
                # A reference with a title of its own names its role: the user's "manager".
                titled = self.Params.model_fields[reference_name].title
                return titled or OBJECT_WORDS[reference.kind]
        info = self.Params.model_fields.get(name)
        return (info.title if info is not None and info.title else None) or name.replace("_", " ")

    def edited(self, names: Iterable[str]) -> str:
        """The parameters an edit changed, as a technician reads them: "the group and the
        seats", each object once however many of its parameters changed."""
        return listing(self.label(name) for name in names)

    def undo_words(self, params: Parameters, catalogue: Mapping[str, Action]) -> str:
        """How the step would be undone, in the words a technician reads: an undo declared as
        "another.action with the same parameters" is that action's own description."""
        if self.undo is None:
            return "cannot be undone"
        name, same, rest = self.undo.partition(" with the same parameters")
        other = catalogue.get(name) if same else None
        if other is None:
            return self.undo
        try:
            return other.describe(other.validate(params.model_dump())) + rest
        except ActionError:
            return self.undo

    def undo_steps(
        self, params: Parameters, snapshot: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]] | None:
        """The steps that would undo this one once it ran, from its parameters and the snapshot
        kept before it acted: (action name, parameters) each, in the order to run them. None
        when it cannot be undone by deskhand (``undo`` says why or how, in words). The default
        reads an ``undo`` declared as "other.action with the same parameters"; an action whose
        undo needs the snapshot (the groups it removed, the status it replaced) overrides it."""
        if self.undo is None:
            return None
        name, same, _ = self.undo.partition(" with the same parameters")
        if not same:
            return None
        return [(name, params.model_dump(mode="json"))]

    def target(self, params: Parameters) -> str:
        """Who or what the action changes, for the card's headline."""
        for field in ("user_principal_name", "to", "sku_name", "psa_ticket_id"):
            value = getattr(params, field, None)
            if value:
                return str(value)
        return self.name

    def missing(self, connectors: Any) -> list[str]:
        """Why the tenant's connectors cannot do this action (empty when they can)."""
        return [why for need in self.needs if (why := need.missing(connectors)) is not None]

    # --- how it is done (called by the executor only) ------------------------------------

    def secret(self) -> str | None:
        """A secret the action sets (a temporary password), made before acting so that it is
        stored first."""
        return None

    @abstractmethod
    def snapshot(self, params: Any, c: Any) -> dict[str, Any]:
        """The state before the change, kept for a rollback."""

    @abstractmethod
    def act(self, params: Any, c: Any, key: str, secret: str | None) -> Acted:
        """Make the change; ``key`` is the step's idempotency key."""

    @abstractmethod
    def check(self, params: Any, c: Any, key: str, baseline: Baseline) -> Check:
        """Read the system back: is the intended state in place?"""


def listing(labels: Iterable[str]) -> str:
    """Labels as a sentence names them: "the group and the seats", each once."""
    named = list(dict.fromkeys(f"the {label}" for label in labels))
    if len(named) < 2:
        return "".join(named)
    return f"{', '.join(named[:-1])} and {named[-1]}"


def temporary_password() -> str:
    """Three groups of four, letters and digits: passes every default complexity rule and
    can be read out over the phone."""
    alphabet = string.ascii_letters + string.digits
    while True:
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)]
        word = "-".join(groups)
        if (
            any(c.isupper() for c in word)
            and any(c.islower() for c in word)
            and any(c.isdigit() for c in word)
        ):
            return word


def since(moment: datetime | None, started_at: datetime) -> bool:
    """Whether ``moment`` is at or after the step started. Graph and AD keep whole seconds: a
    change in the step's first second counts."""
    return moment is not None and moment >= started_at.replace(microsecond=0)
