"""A tenant's policy: which steps run on their own, which wait for a human, which never run.

A policy file gives a decision (auto, approve or forbid) per blast radius and per action, the
roles that may approve drafts, and how long an approval lasts; the built-in
``default_policy.yaml`` explains the format. Whatever a file says, a step whose blast radius is
in the approval floor never runs without a human (DESIGN.md, invariant 1): a policy that asks
for it is refused when it is made, and ``decide`` refuses it again for every step.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Protocol, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deskhand.domain.decisions import Decision
from deskhand.domain.lifecycle import Lifecycle
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.domain.roles import ROLES, Role
from deskhand.errors import InputError
from deskhand.policy import replies
from deskhand.policy.lifecycle import parse_lifecycle
from deskhand.yaml_nodes import compose

BUILTIN_SOURCE = "built-in policy"


MAX_EXPIRY_HOURS = 720  # 30 days: an approval older than that was given for a different situation
MAX_MINUTES = 480  # a working day: more than that for one request is not a standard time

_KEYS = (
    "blast_radius",
    "actions",
    "approvers",
    "approval_expiry_hours",
    "reply_template",
    "time_entries",
    "time_zone",
    "lifecycle",
    "autonomy",
    "shadow",
)
_TIME_KEYS = ("billable", "minutes")
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_REQUIRED = ("approvers", "approval_expiry_hours")
_RADII = {radius.value: radius for radius in BlastRadius}
_DECISIONS = {decision.value: decision for decision in Decision}
_NULL_TAG = "tag:yaml.org,2002:null"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_FLOOR_REASON = "actions always need a human's approval (deskhand's floor; no policy can lower it)"


class ActionTerms(Protocol):
    """What the policy needs to know of an action: its radius (and the one a privileged group
    gives it) and whether it is a manual step. ``deskhand.actions.contract.Action`` has them."""

    @property
    def radius(self) -> BlastRadius: ...

    @property
    def privileged_radius(self) -> BlastRadius | None: ...

    @property
    def manual(self) -> bool: ...


@dataclass(frozen=True)
class Installed:
    """The actions and intents a policy may name: those of the installed plugins, handed in by
    the caller (``deskhand.plugins.installed()``) so that the policy imports no registry."""

    actions: Mapping[str, ActionTerms]
    intents: Collection[str]


class Rule(BaseModel):
    """One rule of a policy: its decision, and the line of the policy file that says it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Decision
    line: int | None = None  # None: the rule was not read from a file


class TimeEntries(BaseModel):
    """The MSP's standard technician minutes per triage intent, logged on the PSA ticket as a
    billing step (always a draft); an intent not listed logs no time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    billable: bool = False  # the PSA's billable flag; false: covered by a services agreement
    minutes: dict[str, Annotated[int, Field(ge=1, le=MAX_MINUTES)]] = Field(default_factory=dict)

    def describe(self) -> str:
        """In a sentence, for the tenant's page and ``deskhand tenants policy``."""
        if not self.minutes:
            return "No technician time is logged on the PSA ticket (no minutes per request)."
        each = ", ".join(
            f"{intent.replace('_', ' ')} {minutes} min"
            for intent, minutes in sorted(self.minutes.items())
        )
        flag = "billable" if self.billable else "not billable"
        return (
            "Technician time logged on the PSA ticket when a run does work (a billing draft, "
            f"psa.log_time; {flag}): {each}."
        )


class Shadow(BaseModel):
    """``shadow``: what a tenant in shadow mode does besides recording its plans
    (``deskhand.engine.shadow``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: bool = False  # post the plan as an internal note on the PSA ticket, for the technicians


class Autonomy(BaseModel):
    """When a step the policy sends for approval may run on its own because deskhand earned it
    (``deskhand.trust.autonomy``): only steps whose blast radius is internal or read, after
    ``min_approvals`` approvals in a row unchanged, the first at least ``min_days`` days ago.
    ``window`` is how many recent decisions on the specialist's drafts the drop test reads.
    There is no setting for which blast radii may earn it: the floor never does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_approvals: int = Field(default=25, ge=5, le=1000)
    min_days: int = Field(default=14, ge=1, le=365)
    window: int = Field(default=40, ge=10, le=1000)

    def describe(self) -> str:
        """In a sentence, for the tenant's page and ``deskhand trust``."""
        if not self.enabled:
            return "Earned autonomy is off: every step the policy sends for approval waits."
        return (
            f"An internal or read step runs without approval once {self.min_approvals} drafts "
            f"of it in a row were approved unchanged over at least {self.min_days} days; the "
            f"last {self.window} decisions are watched for a drop."
        )


class TenantPolicy(BaseModel):
    """A tenant's rules for deciding steps, who may approve drafts, and how long approvals last."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str  # where the policy came from, as messages name it: "contoso.yaml"
    blast_radius: dict[BlastRadius, Rule] = Field(default_factory=dict)
    actions: dict[str, Rule] = Field(default_factory=dict)
    approvers: frozenset[Role] = Field(min_length=1)
    approval_expiry_hours: float = Field(gt=0, le=MAX_EXPIRY_HOURS)
    reply_template: str = replies.DEFAULT  # the frame of every reply to the client (Jinja)
    time_entries: TimeEntries | None = None  # None: deskhand never plans logging time
    # The client's time zone (IANA name): what "her last day is Friday" and "17:00" mean.
    time_zone: str = "UTC"
    # Offboarding defaults, starter roles and the vendor-portal checklist (domain.lifecycle).
    lifecycle: Lifecycle = Lifecycle()
    # Earned autonomy for internal and read steps (deskhand.trust.autonomy).
    autonomy: Autonomy = Autonomy()
    # Shadow mode's settings (deskhand.engine.shadow): by default it only records.
    shadow: Shadow = Shadow()

    @model_validator(mode="after")
    def _keeps_the_floor(self) -> Self:
        # Checked on the model, not only when a file is read, so that no way of making a
        # policy (a file, a database row, code) can lower the floor. An action's rule is held
        # against its radius when the file is read (``parse_policy``, which knows the actions),
        # and ``decide`` applies the floor again to every step.
        for radius, rule in self.blast_radius.items():
            if rule.decision is Decision.AUTO and radius in APPROVAL_FLOOR:
                raise ValueError(self._at(rule) + _not_allowed(radius, f"{radius} {_FLOOR_REASON}"))
        return self

    @property
    def expiry(self) -> timedelta:
        """How long an approval stays good for."""
        return timedelta(hours=self.approval_expiry_hours)

    def may_approve(self, role: str) -> bool:
        """Whether a user with ``role`` may approve this tenant's drafts."""
        return role in self.approvers

    def decide(self, action: str, radius: BlastRadius, *, manual: bool) -> tuple[Decision, str]:
        """The decision for a step of ``action`` whose blast radius is ``radius``, and the rule
        that made it, in words a technician reads beside the step.

        A rule for the action wins, then the rule for the blast radius, then approve. ``radius``
        is the step's radius at decision time (a privileged group makes a group change security),
        so the floor is applied to it here as well: a floor radius is never AUTO.
        """
        if (rule := self.actions.get(action)) is not None:
            decision = rule.decision
            because = f"actions: {action}: {decision} ({self._cite(rule)})"
        elif (rule := self.blast_radius.get(radius)) is not None:
            decision = rule.decision
            because = f"blast radius {radius}: {decision} ({self._cite(rule)})"
        else:
            decision = Decision.APPROVE
            because = f"no rule for {action} or blast radius {radius} in {self.source}: approve"
        if decision is Decision.AUTO and radius in APPROVAL_FLOOR:
            return Decision.APPROVE, f"floor: {radius} is never auto"
        if decision is Decision.AUTO and manual:
            # The technician's tick is the approval: a manual step without one would only
            # read back work nobody was asked to do.
            return Decision.APPROVE, f"{action} is a manual step: the technician ticks it off"
        return decision, because

    def _at(self, rule: Rule) -> str:
        """The start of a message about ``rule``: "contoso.yaml, line 4: "."""
        return f"{self.source}: " if rule.line is None else f"{self.source}, line {rule.line}: "

    def _cite(self, rule: Rule) -> str:
        """Where ``rule`` is written: "contoso.yaml line 12", or just "built-in policy"."""
        # The built-in file is not somewhere a technician edits, so its lines mean nothing to them.
        if rule.line is None or self.source == BUILTIN_SOURCE:
            return self.source
        return f"{self.source} line {rule.line}"


def load_policy(path: Path | None, installed: Installed) -> TenantPolicy:
    """A tenant's policy file, or deskhand's built-in policy when ``path`` is None; the rules may
    name the ``installed`` actions and intents."""
    if path is None:
        builtin = resources.files("deskhand.policy").joinpath("default_policy.yaml")
        return parse_policy(builtin.read_text(encoding="utf-8"), BUILTIN_SOURCE, installed)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"Cannot read policy file {path}: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path.name} is not UTF-8 text: {error.reason} at byte {error.start}."
        ) from None
    return parse_policy(text, path.name, installed)


def parse_policy(text: str, source: str, installed: Installed) -> TenantPolicy:
    """The policy in ``text``; an InputError naming ``source`` and the line for anything wrong.
    ``actions`` rules may name the ``installed`` actions, ``time_entries`` its intents."""
    root = compose(text, source, "rule")
    if root is None:
        raise InputError(
            f"{source} is empty.", hint="Start from a copy of deskhand's default_policy.yaml."
        )
    sections = _entries(root, source, "the policy")
    for name, (key, _) in sections.items():
        if name not in _KEYS:
            raise _error(
                source,
                key,
                f"`{name}` is not a policy setting." + _did_you_mean(name, _KEYS),
                hint="A policy has " + ", ".join(_KEYS) + ".",
            )
    blast_radius = (
        _radius_rules(sections["blast_radius"][1], source) if "blast_radius" in sections else {}
    )
    actions = (
        _action_rules(sections["actions"][1], source, installed.actions)
        if "actions" in sections
        else {}
    )
    for name in _REQUIRED:
        if name not in sections:
            raise InputError(
                f"{source}: `{name}` is missing.",
                hint="Copy it from deskhand's default_policy.yaml, which explains it.",
            )
    try:
        return TenantPolicy(
            source=source,
            blast_radius=blast_radius,
            actions=actions,
            approvers=_approvers(*sections["approvers"], source),
            approval_expiry_hours=_expiry_hours(sections["approval_expiry_hours"][1], source),
            reply_template=(
                _reply_template(sections["reply_template"][1], source)
                if "reply_template" in sections
                else replies.DEFAULT
            ),
            time_entries=(
                _time_entries(*sections["time_entries"], source, installed.intents)
                if "time_entries" in sections
                else None
            ),
            time_zone=(
                _time_zone(sections["time_zone"][1], source) if "time_zone" in sections else "UTC"
            ),
            lifecycle=(
                parse_lifecycle(sections["lifecycle"][1], source)
                if "lifecycle" in sections
                else Lifecycle()
            ),
            autonomy=(
                _autonomy(sections["autonomy"][1], source) if "autonomy" in sections else Autonomy()
            ),
            shadow=_shadow(sections["shadow"][1], source) if "shadow" in sections else Shadow(),
        )
    except ValidationError as error:
        # What the model refuses (the floor, unknown actions) is already worded with its line.
        raise InputError(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None


_AUTONOMY_KEYS = ("enabled", "min_approvals", "min_days", "window")
_AUTONOMY_LIMITS = {"min_approvals": (5, 1000), "min_days": (1, 365), "window": (10, 1000)}


def _autonomy(node: yaml.Node, source: str) -> Autonomy:
    """``autonomy``: whether it is on, and the record a step must earn. Nothing in it can name
    a blast radius or an action: which steps may earn autonomy is deskhand's, not a file's."""
    values: dict[str, bool | int] = {}
    for name, (key, value) in _entries(node, source, "autonomy").items():
        if name not in _AUTONOMY_KEYS:
            raise _error(
                source,
                key,
                f"`{name}` is not an autonomy setting." + _did_you_mean(name, _AUTONOMY_KEYS),
                hint="autonomy has enabled, min_approvals, min_days and window. Only internal "
                "and read steps can ever earn autonomy; security, billing, external "
                "communication and destructive steps always wait for a person.",
            )
        if name == "enabled":
            if not (isinstance(value, yaml.ScalarNode) and value.tag == _BOOL_TAG):
                raise _error(
                    source, value, f"`enabled` is {_shape(value)}; it must be true or false."
                )
            values[name] = bool(yaml.safe_load(value.value))
            continue
        low, high = _AUTONOMY_LIMITS[name]
        number = _whole_number(value)
        if number is None or not low <= number <= high:
            raise _error(
                source,
                value,
                f"`{name}` is {_shape(value)}; it must be a whole number from {low} to {high}.",
            )
        values[name] = number
    return Autonomy.model_validate(values)


def _shadow(node: yaml.Node, source: str) -> Shadow:
    """``shadow``: ``note: true`` posts a shadow plan as an internal note on the PSA ticket."""
    values: dict[str, bool] = {}
    for name, (key, value) in _entries(node, source, "shadow").items():
        if name != "note":
            raise _error(source, key, f"`{name}` is not a shadow setting; shadow has note.")
        if not (isinstance(value, yaml.ScalarNode) and value.tag == _BOOL_TAG):
            raise _error(source, value, f"`note` is {_shape(value)}; it must be true or false.")
        values[name] = bool(yaml.safe_load(value.value))
    return Shadow.model_validate(values)


def _time_zone(node: yaml.Node, source: str) -> str:
    """``time_zone``: an IANA name the machine's time zone database knows."""
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or not value.strip():
        raise _error(
            source, node, "`time_zone` must be a time zone's name, like Europe/London.", _TZ_HINT
        )
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(
            source, node, f"`time_zone`: {value!r} is not a time zone this machine knows.", _TZ_HINT
        ) from None
    return value.strip()


_TZ_HINT = "Use the IANA name (Europe/London, America/New_York, Australia/Sydney), not BST or EST."


def _reply_template(node: yaml.Node, source: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        raise _error(
            source,
            node,
            f"`reply_template` must be text, not {_shape(node)}.",
            hint="Write it as a block: `reply_template: |` and the template indented below.",
        )
    try:
        return replies.check(str(node.value)).source
    except replies.ReplyTemplateError as error:
        line = node.start_mark.line + 1  # a block (`|`) starts on the line after its key
        if error.line and node.style in ("|", ">"):
            line += error.line
        where = f" (its line {error.line})" if error.line else ""
        raise InputError(
            f"{source}, line {line}: `reply_template`{where}: {error}.",
            hint="Variables: "
            + ", ".join(f"{{{{ {k} }}}} {v}" for k, v in replies.VARIABLES.items()),
        ) from None


def _time_entries(
    key: yaml.Node, node: yaml.Node, source: str, intents: Collection[str]
) -> TimeEntries | None:
    """``time_entries``: the billable flag and the minutes per intent; None when it is empty."""
    entries = _entries(node, source, "time_entries")
    if not entries:
        return None  # `time_entries:` with everything under it commented out
    for name, (setting, _) in entries.items():
        if name not in _TIME_KEYS:
            raise _error(
                source,
                setting,
                f"`{name}` is not a time_entries setting." + _did_you_mean(name, _TIME_KEYS),
                hint="time_entries has billable (true or false) and minutes (per intent).",
            )
    billable = False
    if "billable" in entries:
        value = entries["billable"][1]
        if not (isinstance(value, yaml.ScalarNode) and value.tag == _BOOL_TAG):
            raise _error(source, value, f"`billable` is {_shape(value)}; it must be true or false.")
        billable = bool(yaml.safe_load(value.value))
    if "minutes" not in entries:
        raise _error(
            source,
            key,
            "`time_entries` has no `minutes`: list the standard minutes per intent, like "
            "`password_reset: 10`.",
        )
    known = sorted(set(intents))
    minutes: dict[str, int] = {}
    for intent, (label, value) in _entries(entries["minutes"][1], source, "minutes").items():
        if intent not in known:
            raise _error(
                source,
                label,
                f"`{intent}` is not an intent a specialist handles." + _did_you_mean(intent, known),
                hint="The intents are " + ", ".join(known) + ".",
            )
        number = _whole_number(value)
        if number is None or not 1 <= number <= MAX_MINUTES:
            raise _error(
                source,
                value,
                f"`{intent}` is {_shape(value)}; minutes must be a whole number from 1 to "
                f"{MAX_MINUTES} (a working day).",
            )
        minutes[intent] = number
    return TimeEntries(billable=billable, minutes=minutes)


def _whole_number(node: yaml.Node) -> int | None:
    """The node's whole number as YAML reads it (10, +10, 0x0A), or None if it is none."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG:
        return int(yaml.safe_load(node.value))
    return None


def _radius_rules(node: yaml.Node, source: str) -> dict[BlastRadius, Rule]:
    """The rules under ``blast_radius``, each for a blast radius deskhand has."""
    rules: dict[BlastRadius, Rule] = {}
    for name, (key, value) in _entries(node, source, "blast_radius").items():
        if name not in _RADII:
            raise _error(
                source,
                key,
                f"`{name}` is not a blast radius." + _did_you_mean(name, _RADII),
                hint="The blast radii are " + ", ".join(_RADII) + ".",
            )
        rules[_RADII[name]] = _rule(key, value, source)
    return rules


def _action_rules(
    node: yaml.Node, source: str, known: Mapping[str, ActionTerms]
) -> dict[str, Rule]:
    """The rules under ``actions``, each for an installed action and none that would let a step
    in the approval floor run on its own."""
    rules: dict[str, Rule] = {}
    for name, (key, value) in _entries(node, source, "actions").items():
        rule = _rule(key, value, source)
        terms = known.get(name)
        if terms is None:
            # An action we do not know has no blast radius to hold against the floor.
            raise _error(
                source,
                key,
                f"`{name}` is not an action deskhand knows." + _did_you_mean(name, known),
            )
        if rule.decision is Decision.AUTO:
            if terms.radius in APPROVAL_FLOOR:
                why = f"{name}'s blast radius is {terms.radius}, and {terms.radius} {_FLOOR_REASON}"
                raise _error(source, key, _not_allowed(name, why))
            privileged = terms.privileged_radius
            if privileged is not None and privileged in APPROVAL_FLOOR:
                why = (
                    f"{name}'s blast radius is {privileged} when the group is privileged, and "
                    f"{privileged} {_FLOOR_REASON}"
                )
                raise _error(source, key, _not_allowed(name, why))
        rules[name] = rule
    return rules


def _entries(node: yaml.Node, source: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """The (key, value) nodes of a mapping by key name; an empty mapping for an empty value."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
        return {}  # `actions:` with every rule commented out
    if not isinstance(node, yaml.MappingNode):
        raise _error(source, node, f"{what} must be `name: value` lines, not {_shape(node)}.")
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _error(source, key, f"a name in {what} must be plain text, not {_shape(key)}.")
        if key.value in entries:
            # Plain YAML would silently keep the last one; a policy must mean what it reads as.
            first = entries[key.value][0].start_mark.line + 1
            raise _error(source, key, f"`{key.value}` is set twice (also on line {first}).")
        entries[key.value] = (key, value)
    return entries


def _rule(key: yaml.Node, value: yaml.Node, source: str) -> Rule:
    """The rule ``key: value``, where the value must be a decision."""
    if isinstance(value, yaml.ScalarNode) and value.value in _DECISIONS:
        return Rule(decision=_DECISIONS[value.value], line=key.start_mark.line + 1)
    said = value.value if isinstance(value, yaml.ScalarNode) else ""
    raise _error(
        source,
        value,
        f"`{key.value}` is {_shape(value)}; a rule must be auto, approve or forbid."
        + _did_you_mean(said, _DECISIONS),
    )


def _approvers(key: yaml.Node, value: yaml.Node, source: str) -> frozenset[Role]:
    """The roles listed under ``approvers``: at least one, each a role deskhand has."""
    example = "list the roles that may approve drafts, like [approver, admin]"
    if isinstance(value, yaml.ScalarNode) and value.tag == _NULL_TAG:
        raise _error(source, key, f"`approvers` is empty: {example}.")
    if not isinstance(value, yaml.SequenceNode):
        raise _error(source, value, f"`approvers` is {_shape(value)}: {example}.")
    if not value.value:
        raise _error(
            source, value, f"`approvers` is empty, so no draft could be approved: {example}."
        )
    roles: set[Role] = set()
    for item in value.value:
        if not (isinstance(item, yaml.ScalarNode) and item.value in ROLES):
            said = item.value if isinstance(item, yaml.ScalarNode) else ""
            raise _error(
                source,
                item,
                f"{_shape(item)} in `approvers` is not a role." + _did_you_mean(said, ROLES),
                hint="The roles are " + ", ".join(ROLES) + ".",
            )
        roles.add(item.value)
    return frozenset(roles)


def _expiry_hours(value: yaml.Node, source: str) -> float:
    """``approval_expiry_hours``: a number of hours, more than 0 and at most the maximum."""
    if isinstance(value, yaml.ScalarNode) and value.tag in _NUMBER_TAGS:
        hours = float(yaml.safe_load(value.value))  # the number as YAML reads it: 24, 1.5, +36
        if 0 < hours <= MAX_EXPIRY_HOURS:
            return hours
    raise _error(
        source,
        value,
        f"`approval_expiry_hours` is {_shape(value)}; it must be a number of hours, more than 0 "
        f"and at most {MAX_EXPIRY_HOURS} (30 days).",
    )


def _not_allowed(name: str, why: str) -> str:
    return f"`{name}: auto` is not allowed — {why}. Use approve or forbid."


def _shape(node: yaml.Node) -> str:
    """A node as a message names it: "`yes`", "a list", "a mapping", "empty"."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if node.tag == _NULL_TAG:
        return "empty"
    return f"`{node.value}`"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The suffix " Did you mean `x`?" for the closest of ``choices``; empty if none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def _error(source: str, node: yaml.Node, message: str, hint: str | None = None) -> InputError:
    """An InputError about ``node``, naming the file and the line: "contoso.yaml, line 4: …"."""
    return InputError(f"{source}, line {node.start_mark.line + 1}: {message}", hint=hint)
