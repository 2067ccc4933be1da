"""A tenant's connection file: how deskhand reaches the client's PSA, Microsoft 365, Active
Directory and mail, and the facts about the client that the engine relies on.

Each system's section has a ``kind`` (a real system, or ``sandbox``) and, for a real one, the
settings of its client (``SyncroSettings``, ``GraphSettings``, ``LdapSettings``,
``SmtpSettings``) beside one secret reference (see ``deskhand.connectors.secrets``). A file is
checked completely when it is read; a mistake is reported with the file, line and field.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from deskhand.connectors.secrets import HOW_TO_REFERENCE, SecretRef
from deskhand.domain.notifications import NoticeKind, shown_target
from deskhand.errors import InputError
from deskhand.yaml_nodes import compose


def _reference(value: object) -> SecretRef:
    if isinstance(value, SecretRef):
        return value
    if not isinstance(value, str):
        raise ValueError("is not a secret reference. Write it as text, like env:NAME")
    return SecretRef.parse(value)


def _written(ref: SecretRef, info: SerializationInfo) -> str:
    # Shown to people (context {"show": True}): the kind of reference only, never a token.
    return ref.describe() if (info.context or {}).get("show") else str(ref)


Secret = Annotated[SecretRef, BeforeValidator(_reference), PlainSerializer(_written)]


class _Section(BaseModel):
    """One system's section: ``kind``, a secret, and the client's own settings (the extras)."""

    # coerce: `customer_id: 4107`, unquoted, is how people write an id in YAML.
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    system: ClassVar[str]  # how messages and the doctor name the system
    secret_field: ClassVar[str]
    clients: ClassVar[dict[str, str]]  # kind → "module:SettingsClass" of the real client

    kind: str  # each section narrows it to its kinds: a real system's, sandbox, …

    @model_validator(mode="after")
    def _sandbox_has_no_settings(self) -> _Section:
        if not self.real and self.model_extra:
            extra = ", ".join(sorted(self.model_extra))
            raise ValueError(f"kind {self.kind} takes no settings; remove {extra}")
        return self

    @property
    def real(self) -> bool:
        return self.kind in self.clients

    def secret(self) -> SecretRef | None:
        value = getattr(self, self.secret_field)
        return value if isinstance(value, SecretRef) else None

    def needs_secret(self) -> bool:
        return self.real

    def client_settings(self) -> dict[str, Any]:
        """The settings handed to the real client's settings model."""
        return dict(self.model_extra or {})


class PsaSection(_Section):
    system: ClassVar[str] = "psa"
    secret_field: ClassVar[str] = "api_key"
    clients: ClassVar[dict[str, str]] = {"syncro": "deskhand.connectors.syncro:SyncroSettings"}

    kind: Literal["syncro", "sandbox"] = "sandbox"
    customer_id: str | None = None  # the client's customer id in the PSA
    api_key: Secret | None = None

    def client_settings(self) -> dict[str, Any]:
        settings = super().client_settings()
        if self.customer_id is not None:
            settings["customer_id"] = self.customer_id
        return settings


class M365Section(_Section):
    system: ClassVar[str] = "m365"
    secret_field: ClassVar[str] = "client_secret"
    clients: ClassVar[dict[str, str]] = {"graph": "deskhand.connectors.graph:GraphSettings"}

    kind: Literal["graph", "sandbox"] = "sandbox"
    client_secret: Secret | None = None  # or a certificate, named in the settings

    def needs_secret(self) -> bool:
        return self.real and "certificate_path" not in (self.model_extra or {})


class AdSection(_Section):
    system: ClassVar[str] = "ad"
    secret_field: ClassVar[str] = "bind_password"
    clients: ClassVar[dict[str, str]] = {"ldap": "deskhand.connectors.ldap:LdapSettings"}

    kind: Literal["ldap", "sandbox", "none"] = "sandbox"
    bind_password: Secret | None = None


class MailSection(_Section):
    system: ClassVar[str] = "mail"
    secret_field: ClassVar[str] = "password"
    clients: ClassVar[dict[str, str]] = {"smtp": "deskhand.connectors.mail.settings:SmtpSettings"}

    kind: Literal["psa", "smtp"] = "psa"  # psa: replies are public comments on the PSA ticket
    password: Secret | None = None

    def needs_secret(self) -> bool:
        return self.real and "username" in (self.model_extra or {})


class ImapSection(_Section):
    system: ClassVar[str] = "imap"
    secret_field: ClassVar[str] = "password"
    clients: ClassVar[dict[str, str]] = {"imap": "deskhand.connectors.mail.settings:ImapSettings"}

    kind: Literal["imap"] = "imap"
    password: Secret | None = None


class IntakeSection(BaseModel):
    """Where tickets come from besides the PSA: a support mailbox, read over IMAP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    imap: ImapSection | None = None


def _notify_target(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("is not an apprise URL. Write it as text, like json://host/path")
    if value.partition(":")[0] in ("env", "file", "enc"):
        SecretRef.parse(value)  # a ValueError worded for the user when it is malformed
    elif "://" not in value:
        # Never echo the text: it may be a webhook's token, pasted in by mistake.
        raise ValueError(
            f"is not an apprise URL (scheme://…) nor a secret reference. {HOW_TO_REFERENCE}"
        )
    return value


def _notify_written(target: str, info: SerializationInfo) -> str:
    return shown_target(target) if (info.context or {}).get("show") else target


class NotifyTarget(BaseModel):
    """Where the tenant's messages to technicians go (``deskhand.notifications``): an apprise
    URL, or a secret reference to one when it holds a token or a password; ``kinds`` keeps
    only those kinds of message (none listed: every kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str, BeforeValidator(_notify_target), PlainSerializer(_notify_written)]
    kinds: list[NoticeKind] = Field(default_factory=list)


class TenantFile(BaseModel):
    """Everything a tenant's connection file says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    psa: PsaSection = PsaSection()
    m365: M365Section = M365Section()
    ad: AdSection = AdSection()
    mail: MailSection = MailSection()
    intake: IntakeSection = IntakeSection()
    domains: list[str] = Field(default_factory=list)  # the client's e-mail domains
    authorised_contacts: list[str] = Field(default_factory=list)  # may ask for others' changes
    vips: list[str] = Field(default_factory=list)  # users who need extra care (UPN or e-mail)
    licenses: dict[str, str] = Field(default_factory=dict)  # "Business Premium" → SKU id
    approvers: list[str] = Field(default_factory=list)  # deskhand users (e-mail) who approve
    policy: str | None = None  # the policy file, relative to this file
    notify: list[NotifyTarget] = Field(default_factory=list)  # where technicians are told

    def sections(self) -> tuple[_Section, ...]:
        return tuple(section for _, section in self.located_sections())

    def located_sections(self) -> list[tuple[tuple[str, ...], _Section]]:
        """Each system's section with where it sits in the file: (("psa",), …)."""
        found: list[tuple[tuple[str, ...], _Section]] = [
            ((name,), getattr(self, name)) for name in ("psa", "m365", "ad", "mail")
        ]
        if self.intake.imap is not None:
            found.append((("intake", "imap"), self.intake.imap))
        return found


@dataclass(frozen=True)
class Connection:
    """A checked connection file: what it says and each real client's validated settings."""

    path: Path
    file: TenantFile
    settings: dict[str, BaseModel]  # by section (psa, m365, ad, mail, intake.imap), real only

    def policy_path(self) -> Path | None:
        if self.file.policy is None:
            return None
        return (self.path.parent / self.file.policy).resolve()

    def shown(self) -> dict[str, Any]:
        """The file as it may be printed: every secret only as the kind of its reference."""
        return self.file.model_dump(mode="json", context={"show": True}, exclude_none=True)

    def permission_warnings(self) -> list[str]:
        found = []
        for section in self.file.sections():
            ref = section.secret()
            warning = ref.permission_warning() if ref else None
            if warning:
                found.append(f"{section.system}.{section.secret_field}: {warning}")
        return found


def load_connection(path: Path) -> Connection:
    """The connection file at ``path``; an InputError naming the file and line if it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"Cannot read the tenant connection file {path}: {error.strerror}.",
            hint="`deskhand tenants add` writes one; `deskhand tenants list` shows the tenants.",
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not UTF-8 text: {error.reason} at byte {error.start}."
        ) from None
    return parse_connection(text, path)


def parse_connection(text: str, path: Path) -> Connection:
    source = path.name
    root = compose(text, source, "setting")
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            f"{source} is not a tenant connection file (it should be `name: value` lines).",
            hint="`deskhand tenants add NAME` writes one to start from.",
        )
    _refuse_duplicates(root, source)
    data = yaml.safe_load(text)
    try:
        tenant_file = TenantFile.model_validate(data)
    except ValidationError as error:
        raise _located(error.errors()[0], root, source, ()) from None
    settings: dict[str, BaseModel] = {}
    for loc, section in tenant_file.located_sections():
        name = ".".join(loc)  # intake.imap
        if not section.real:
            continue
        if section.secret() is None and section.needs_secret():
            line = _node_at(root, loc).start_mark.line + 1  # the section's key
            raise InputError(
                f"{source}, line {line}: `{name}.{section.secret_field}` is missing; "
                f"{name} kind {section.kind} needs it.",
                hint=f"Add `{section.secret_field}: env:NAME` under `{name}:`. {HOW_TO_REFERENCE}",
            )
        model = settings_model(section)
        values = section.client_settings()
        for shared in _SHARED:
            # The file says these once, at the top; a client that wants them gets them.
            if shared in model.model_fields and shared not in values:
                values[shared] = getattr(tenant_file, shared)
        try:
            settings[name] = model.model_validate(values)
        except ValidationError as error:
            raise _located(error.errors()[0], root, source, loc) from None
    return Connection(path=path.resolve(), file=tenant_file, settings=settings)


_SHARED = ("authorised_contacts", "domains", "vips")


def settings_model(section: _Section) -> type[BaseModel]:
    """The settings model of the real client for ``section``'s kind."""
    module_name, _, class_name = section.clients[section.kind].partition(":")
    try:
        model = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise InputError(
            f"This deskhand has no {section.kind} connector ({module_name}).",
            hint=f"Use `kind: sandbox` for {section.system} until it is installed.",
        ) from None
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def _located(
    error: ErrorDetails, root: yaml.MappingNode, source: str, prefix: tuple[str, ...]
) -> InputError:
    """A validation error as "contoso.yaml, line 7: `psa.api_key` …"."""
    loc = prefix + tuple(str(part) for part in error["loc"])
    node = _node_at(root, loc)
    field = ".".join(loc) or "the file"
    if error["type"] == "extra_forbidden":
        known = _known_names(loc[:-1])
        message = f"`{field}` is not a setting deskhand knows." + _did_you_mean(loc[-1], known)
    elif error["type"] == "missing":
        message = f"`{field}` is missing."
    else:
        message = f"`{field}` {_worded(error['msg'])}"
    return InputError(f"{source}, line {node.start_mark.line + 1}: {message}")


def _worded(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    if msg.startswith("is ") or msg.startswith("kind") or msg.startswith("`"):
        return msg if msg.endswith(".") else msg + "."
    return f"is wrong: {msg}."


def _known_names(loc: tuple[str, ...]) -> Iterable[str]:
    if not loc:
        return TenantFile.model_fields
    section = TenantFile.model_fields.get(loc[0])
    annotation = section.annotation if section else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_fields
    return ()


def _node_at(root: yaml.Node, loc: tuple[str, ...]) -> yaml.Node:
    """The deepest node on the path ``loc``: the value of a key, an item of a list. A section
    (a mapping) is named by its key's line, which is where a reader looks for it."""
    node, key_of_node = root, root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node, key_of_node = value, key
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = key_of_node = node.value[int(part)]
        else:
            break
    # A key with no value has a null node that sits at the start of the next line.
    if isinstance(node, yaml.MappingNode) or node.tag == "tag:yaml.org,2002:null":
        return key_of_node
    return node


def _refuse_duplicates(node: yaml.Node, source: str) -> None:
    """Plain YAML silently keeps the last of two equal keys; a tenant file must mean what it
    reads as."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                raise InputError(
                    f"{source}, line {line}: `{key.value}` is set twice (also on line "
                    f"{seen[key.value]})."
                )
            seen[key.value] = line
            _refuse_duplicates(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicates(item, source)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" Did you mean `{close[0]}`?" if close else ""
