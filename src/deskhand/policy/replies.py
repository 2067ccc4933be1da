"""The frame of every reply deskhand drafts to a client: a Jinja template per tenant.

Specialists write what happened ("The password … has been reset."); the tenant's template puts
the greeting and sign-off around it, so each client hears the MSP's own voice. The template is
the `reply_template` of the tenant's policy file; without one, the built-in ``DEFAULT``.

Templates run in Jinja's sandbox with undefined names refused. Ticket text only ever reaches
them as the *value* of a variable (a requester's name, the body), never as template source, so
a ticket cannot inject template code. Every reply is still a draft a human approves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import SandboxedEnvironment

DEFAULT = """Hi {{ first_name }},

{{ body }}

Kind regards,
{{ msp }}"""

# What a template may use; the values in SAMPLE are what `check` renders it with.
VARIABLES = {
    "first_name": "the requester's first name",
    "body": "what deskhand says: what was done, or the question it asks",
    "tenant": "the client's name",
    "msp": "the MSP's name as the client knows it",
}
SAMPLE = {
    "first_name": "Karen",
    "body": "Tom Becker has been added to: Front Desk.",
    "tenant": "Contoso Dental",
    "msp": "your IT team",
}
MAX_CHARS = 4000


class ReplyTemplateError(ValueError):
    """The template cannot be used; ``line`` is its line (1-based) where Jinja knows it."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@dataclass(frozen=True)
class ReplyTemplate:
    """A checked reply template."""

    source: str = DEFAULT

    def render(self, *, first_name: str, body: str, tenant: str, msp: str) -> str:
        values = {"first_name": first_name, "body": body, "tenant": tenant, "msp": msp}
        return _compiled(self.source).render(**values).strip()


def check(source: str) -> ReplyTemplate:
    """``source`` as a template, if it compiles, uses only the known variables, renders, and
    keeps the body; a ReplyTemplateError saying what is wrong otherwise."""
    if len(source) > MAX_CHARS:
        raise ReplyTemplateError(f"the reply template is longer than {MAX_CHARS} characters")
    try:
        rendered = _compiled(source).render(**SAMPLE)
    except TemplateSyntaxError as error:
        raise ReplyTemplateError(f"not a valid template: {error.message}", error.lineno) from None
    except UndefinedError as error:
        known = ", ".join(f"{{{{ {name} }}}}" for name in VARIABLES)
        raise ReplyTemplateError(f"{error.message}; a reply template may use {known}") from None
    except TemplateError as error:  # the sandbox refusing an attribute, a failing filter
        raise ReplyTemplateError(f"the template fails: {error}") from None
    if SAMPLE["body"] not in rendered:
        raise ReplyTemplateError("the template must include {{ body }}, what deskhand says")
    return ReplyTemplate(source)


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)
