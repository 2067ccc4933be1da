"""Reading the ``lifecycle`` section of a tenant's policy file: the templates of
``deskhand.domain.lifecycle``, with every mistake named by file and line ("contoso.yaml, line
31: `lifecycle.offboarding.remove_mfa` must be true or false")."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from deskhand.domain.lifecycle import Lifecycle
from deskhand.errors import InputError

HINT = (
    "deskhand's default_policy.yaml shows a whole `lifecycle:` section with each setting "
    "explained; `deskhand tenants policy TENANT` shows what deskhand read."
)
_NULL_TAG = "tag:yaml.org,2002:null"


def parse_lifecycle(node: yaml.Node, source: str) -> Lifecycle:
    """The templates under ``node``; an InputError naming ``source`` and the line otherwise."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
        return Lifecycle()  # `lifecycle:` with everything under it commented out
    data = _python(node)
    try:
        return Lifecycle.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where, at = _located(node, first["loc"])
        path = ".".join(["lifecycle", *where])
        raise InputError(
            f"{source}, line {at.start_mark.line + 1}: `{path}`: {_worded(first)}.", hint=HINT
        ) from None


def _python(node: yaml.Node) -> Any:
    """The node as plain Python values (YAML 1.1's scalars: true, 17:00 as text)."""
    if isinstance(node, yaml.MappingNode):
        return {_python(k): _python(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_python(item) for item in node.value]
    if node.tag == _NULL_TAG:
        return None
    if node.tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in ("true", "yes", "on")
    if node.tag == "tag:yaml.org,2002:int":
        try:
            return int(node.value)
        except ValueError:
            return node.value  # 17:00 is a sexagesimal int to YAML 1.1: keep it as written
    return node.value


def _located(node: yaml.Node, loc: tuple[int | str, ...]) -> tuple[list[str], yaml.Node]:
    """The path and the deepest node a validation error's location reaches."""
    where: list[str] = []
    here = node
    for part in loc:
        if isinstance(here, yaml.MappingNode) and isinstance(part, str):
            found = next(((k, v) for k, v in here.value if k.value == part), None)
            if found is None:
                where.append(part)
                break
            key, here = found
            where.append(part)
            if isinstance(here, yaml.ScalarNode):
                here = here if here.tag != _NULL_TAG else key
        elif isinstance(here, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(here.value):
                break
            here = here.value[part]
            where[-1:] = [f"{where[-1]}[{part + 1}]" if where else f"[{part + 1}]"]
        else:
            break
    return where, here


def _worded(error: Any) -> str:
    """Pydantic's message in a policy author's words."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "is not a lifecycle setting; check its spelling"
    if kind == "missing":
        return "is missing"
    if kind.startswith("bool"):
        return "must be true or false"
    if kind.startswith("time"):
        return "must be a time of day as HH:MM, like 17:00"
    if kind in ("string_too_short",):
        return "must not be empty"
    if kind in ("string_too_long",):
        return f"is too long ({error['ctx']['max_length']} characters at most)"
    if kind in ("greater_than_equal", "less_than_equal", "int_parsing", "int_type"):
        return "must be a whole number of days from 0 to 90"
    if kind == "string_pattern_mismatch":  # the one pattern: a usage location
        return "must be a country's two capital letters, like GB or DE"
    if kind in ("list_type",):
        return "must be a list (one `- item` per line)"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be `name: value` lines"
    return str(error["msg"]).removeprefix("Value error, ")
