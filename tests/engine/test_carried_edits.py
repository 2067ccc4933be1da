"""Finding the mentions of a value an approver edited away in another draft of the plan."""

from __future__ import annotations

from deskhand.engine.carried_edits import ApprovedEdit, carry_over, stale_mentions

GROUP_EDIT = ApprovedEdit(
    draft_id=4, run_id=2, step_id=10, changes={"group_name": ("Finance Share", "Front Desk")}
)


def test_a_mention_is_found_in_any_letter_case_and_carried_over() -> None:
    params = {"to": "karen@contoso.example", "body": "Tom was added to FINANCE share today."}
    mentions = stale_mentions(params, step_id=12, edits=[GROUP_EDIT])
    assert [(m.field, m.old, m.new, m.edited_draft) for m in mentions] == [
        ("body", "Finance Share", "Front Desk", 4)
    ]
    assert carry_over(params, mentions) == {
        "to": "karen@contoso.example",
        "body": "Tom was added to Front Desk today.",
    }


def test_only_whole_words_count_and_the_edited_step_itself_is_not_checked() -> None:
    edit = ApprovedEdit(4, 2, 10, {"user_principal_name": ("tom@contoso.example", "tim@x.example")})
    assert stale_mentions({"to": "atom@contoso.example"}, 12, [edit]) == []
    assert stale_mentions({"to": "tom@contoso.example"}, 10, [edit]) == []  # its own step
    assert len(stale_mentions({"to": "tom@contoso.example"}, 12, [edit])) == 1


def test_a_new_value_that_contains_the_old_one_is_not_stale() -> None:
    edit = ApprovedEdit(4, 2, 10, {"group_name": ("Finance", "Finance Share")})
    assert stale_mentions({"body": "Added to Finance Share."}, 12, [edit]) == []
    assert len(stale_mentions({"body": "Added to Finance."}, 12, [edit])) == 1


def test_replacement_text_is_taken_literally() -> None:
    edit = ApprovedEdit(4, 2, 10, {"group_name": ("Finance Share", r"Ops \1 Share")})
    mentions = stale_mentions({"body": "Added to Finance Share."}, 12, [edit])
    assert carry_over({"body": "Added to Finance Share."}, mentions) == {
        "body": r"Added to Ops \1 Share."
    }
