"""A tenant's reply template: checked when the policy file is read, rendered around every reply,
and never able to run what a ticket says."""

from __future__ import annotations

import pytest

from deskhand.errors import InputError
from deskhand.policy.replies import DEFAULT, ReplyTemplate, ReplyTemplateError, check
from tests.policy.installed import parse_policy

BASE = "approvers: [approver]\napproval_expiry_hours: 24\n"


def policy_with(template: str) -> str:
    indented = "".join(f"  {line}\n" for line in template.splitlines())
    return BASE + "reply_template: |\n" + indented


def test_a_policy_without_one_uses_the_built_in_frame() -> None:
    assert parse_policy(BASE, "contoso.yaml").reply_template == DEFAULT
    text = ReplyTemplate().render(first_name="Karen", body="Done.", tenant="C", msp="Acme IT")
    assert text == "Hi Karen,\n\nDone.\n\nKind regards,\nAcme IT"


def test_a_tenant_template_is_read_and_rendered() -> None:
    source = "Dear {{ first_name }},\n\n{{ body }}\n\n{{ msp }} for {{ tenant }}"
    policy = parse_policy(policy_with(source), "contoso.yaml")
    rendered = ReplyTemplate(policy.reply_template).render(
        first_name="Karen", body="Tom was added.", tenant="Contoso Dental", msp="Acme IT"
    )
    assert rendered == "Dear Karen,\n\nTom was added.\n\nAcme IT for Contoso Dental"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "Hi {{ first_name }},\n{{ body }\n",
            r"contoso.yaml, line 5: `reply_template` \(its line 2\): not a valid template",
        ),
        ("Hi {{ name }},\n{{ body }}\n", r"'name' is undefined.*\{\{ first_name \}\}"),
        ("Hi {{ first_name }}, all done.\n", r"must include \{\{ body \}\}"),
        (
            "{{ body.__class__.__mro__ }}\n{{ body }}\n",
            r"(unsafe|not safely|the template fails)",
        ),
    ],
)
def test_a_bad_template_is_refused_naming_the_line(template: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_policy(policy_with(template), "contoso.yaml")


def test_a_template_must_be_text() -> None:
    with pytest.raises(InputError, match="`reply_template` must be text"):
        parse_policy(BASE + "reply_template: [a, b]\n", "contoso.yaml")


def test_ticket_text_is_a_value_never_template_code() -> None:
    hostile = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}"
    rendered = ReplyTemplate().render(first_name=hostile, body=hostile, tenant="C", msp="M")
    assert "49" not in rendered and rendered.count(hostile) == 2


def test_an_overlong_template_is_refused() -> None:
    with pytest.raises(ReplyTemplateError, match="longer than"):
        check("{{ body }}" + "x" * 5000)
