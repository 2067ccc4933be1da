"""Microsoft Graph v1.0's published schema (CSDL), as a checker of what the stand-in returns and
what deskhand sends: every property of an entity must be declared for its type (or a base
type), with a value of the declared type, never null where the schema says ``Nullable="false"``;
every bound action's body must carry exactly its declared parameters."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CSDL = Path("/work/shared/contracts/graph-v1.0.csdl")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class ContractViolationError(AssertionError):
    """A JSON body that Graph's schema does not allow."""


@dataclass(frozen=True)
class Member:
    type: str  # "graph.user", "Collection(Edm.Guid)", ...
    nullable: bool


@dataclass
class StructuredType:
    name: str
    base: str | None
    members: dict[str, Member] = field(default_factory=dict)  # properties and navigation


@dataclass
class Schema:
    types: dict[str, StructuredType]
    enums: dict[str, frozenset[str]]  # enum type → its member names
    # (action name, bound type) → the parameters after the binding parameter
    actions: dict[tuple[str, str], dict[str, Member]]

    def members(self, type_name: str) -> dict[str, Member]:
        """The type's properties and navigation properties, its base types' included."""
        found: dict[str, Member] = {}
        name: str | None = _short(type_name)
        while name is not None:
            structured = self.types.get(name)
            if structured is None:
                raise ContractViolationError(f"{type_name} is not a type of {NAMESPACE}")
            found = {**structured.members, **found}
            name = _short(structured.base) if structured.base else None
        return found

    def is_a(self, type_name: str, ancestor: str) -> bool:
        name: str | None = _short(type_name)
        while name is not None:
            if name == _short(ancestor):
                return True
            base = self.types[name].base if name in self.types else None
            name = _short(base) if base else None
        return False

    def check_entity(self, type_name: str, body: Any, where: str = "") -> list[str]:
        """What is wrong with ``body`` as a ``type_name`` (entity or complex type)."""
        type_name = _short(type_name)
        where = where or type_name
        if not isinstance(body, dict):
            return [f"{where}: expected an object, got {body!r}"]
        declared = body.get("@odata.type")
        if isinstance(declared, str):
            derived = declared.removeprefix("#").removeprefix(f"{NAMESPACE}.")
            if not self.is_a(derived, type_name):
                return [f"{where}: @odata.type {declared} is not a {type_name}"]
            type_name = derived
        members = self.members(type_name)
        problems = []
        for name, value in body.items():
            if name.startswith("@") or "@odata." in name:
                continue  # annotations: @odata.context, @odata.nextLink, members@odata.bind
            member = members.get(name)
            if member is None:
                problems.append(f"{where}: {name!r} is not a property of {type_name}")
                continue
            problems.extend(self.check_value(member, value, f"{where}.{name}"))
        return problems

    def check_value(self, member: Member, value: Any, where: str) -> list[str]:
        if value is None:
            return [] if member.nullable else [f"{where}: null, but the schema says not nullable"]
        collection = re.fullmatch(r"Collection\((.+)\)", member.type)
        if collection:
            if not isinstance(value, list):
                return [f"{where}: expected a list, got {value!r}"]
            item = Member(collection.group(1), nullable=False)
            return [
                p for i, v in enumerate(value) for p in self.check_value(item, v, f"{where}[{i}]")
            ]
        return self._check_single(member.type, value, where)

    def check_action(self, action: str, bound_to: str, body: Any) -> list[str]:
        """What is wrong with ``body`` as the parameters of the bound action."""
        parameters = self.actions.get((action, _short(bound_to)))
        if parameters is None:
            return [f"{action} is not an action bound to {bound_to}"]
        body = {} if body is None else body
        if not isinstance(body, dict):
            return [f"{action}: expected an object of parameters, got {body!r}"]
        problems = [
            f"{action}: {name!r} is not a parameter (parameters: {', '.join(parameters) or 'none'})"
            for name in body
            if name not in parameters
        ]
        for name, member in parameters.items():
            if name not in body:
                if not member.nullable:
                    problems.append(f"{action}: the parameter {name!r} is missing")
                continue
            problems.extend(self.check_value(member, body[name], f"{action}.{name}"))
        return problems

    def _check_single(self, type_name: str, value: Any, where: str) -> list[str]:
        simple: dict[str, type | tuple[type, ...]] = {
            "Edm.String": str,
            "Edm.Boolean": bool,
            "Edm.Int32": int,
            "Edm.Int64": int,
            "Edm.Double": (int, float),
        }
        if type_name in simple:
            kind = simple[type_name]
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            return [] if ok else [f"{where}: {value!r} is not an {type_name}"]
        if type_name == "Edm.Guid":
            ok = isinstance(value, str) and GUID.match(value) is not None
            return [] if ok else [f"{where}: {value!r} is not an Edm.Guid"]
        if type_name == "Edm.DateTimeOffset":
            ok = isinstance(value, str) and DATETIME.match(value) is not None
            return [] if ok else [f"{where}: {value!r} is not an Edm.DateTimeOffset"]
        if _short(type_name) in self.enums:
            allowed = self.enums[_short(type_name)]
            # A flags enum's value is its members joined by commas ("a,b").
            if isinstance(value, str) and set(value.split(",")) <= allowed:
                return []
            return [f"{where}: {value!r} is not one of {_short(type_name)}: {sorted(allowed)}"]
        if type_name.startswith("Edm."):
            return []  # other primitives (Binary, Date, Duration, ...) are not used here
        return self.check_entity(type_name, value, where)


def _short(type_name: str) -> str:
    """``graph.user`` and ``microsoft.graph.user`` as ``user``."""
    return type_name.removeprefix(f"{NAMESPACE}.").removeprefix("graph.")


@cache
def schema(path: Path = CSDL) -> Schema:
    """The ``microsoft.graph`` namespace of the CSDL file (parsed once per process)."""
    root = ET.parse(path).getroot()
    namespace = next(
        element for element in root.iter(f"{EDM}Schema") if element.get("Namespace") == NAMESPACE
    )
    types: dict[str, StructuredType] = {}
    enums: dict[str, frozenset[str]] = {}
    actions: dict[tuple[str, str], dict[str, Member]] = {}
    for element in namespace:
        tag = element.tag.removeprefix(EDM)
        name = element.get("Name", "")
        if tag in ("EntityType", "ComplexType"):
            structured = StructuredType(name, element.get("BaseType"))
            for child in element:
                if child.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    structured.members[child.get("Name", "")] = Member(
                        child.get("Type", ""), child.get("Nullable", "true") != "false"
                    )
            types[name] = structured
        elif tag == "EnumType":
            enums[name] = frozenset(m.get("Name", "") for m in element.findall(f"{EDM}Member"))
        elif tag == "Action" and element.get("IsBound") == "true":
            parameters = element.findall(f"{EDM}Parameter")
            bound = _short(parameters[0].get("Type", ""))
            actions[(name, bound)] = {
                p.get("Name", ""): Member(p.get("Type", ""), p.get("Nullable", "true") != "false")
                for p in parameters[1:]
            }
    return Schema(types, enums, actions)
