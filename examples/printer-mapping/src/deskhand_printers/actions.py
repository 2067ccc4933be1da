"""The plugin's one action: map a shared printer on a user's computer.

deskhand has no way into a workstation, so this is a manual step: the draft is the exact
path a technician follows, their approval is the tick that says it is done. Nothing can read
a workstation's printers back, so the read-back is the technician's confirmation, written as
an internal note on the ticket by acting and found again by its marker — the trace says so.
It needs only what every tenant's PSA offers (notes on the ticket).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from deskhand.actions.contract import Acted, Action, Baseline, Check
from deskhand.connectors.capabilities import PSA_COMMENTS
from deskhand.domain.actions import TICKET, USER, Params
from deskhand.domain.risks import BlastRadius


class MapPrinterParams(Params):
    user_id: Annotated[str, USER] = Field(description="Directory id of the user")
    user_principal_name: str = Field(description="The user's sign-in name, from the directory")
    psa_ticket_id: Annotated[str, TICKET]
    printer: str = Field(
        pattern=r"^\\\\[\w.-]+\\[\w .$-]+$",
        max_length=200,
        description=r"The printer's share, as \\server\printer",
    )
    computer: str = Field(
        default="their computer", max_length=64, description="The computer to map it on"
    )


def _marker(key: str) -> str:
    return f"[deskhand {key}]"


class MapPrinter(Action):
    name = "printing.map_printer"
    Params = MapPrinterParams
    radius = BlastRadius.INTERNAL  # only this user's printer list; removed in a click
    summary = (
        "On {computer}, signed in as {user_principal_name}: Settings → Bluetooth & devices → "
        "Printers & scanners → Add device → Add manually → Select a shared printer by name → "
        "{printer} → Next → Print a test page → Finish"
    )
    undo = "Settings → Printers & scanners → the printer → Remove, on the same computer"
    manual = True
    safe_to_repeat = True  # a second confirmation note changes nothing on the computer
    needs = (PSA_COMMENTS,)

    def snapshot(self, params: MapPrinterParams, c: Any) -> dict[str, Any]:
        return {"notes": len(c.psa.list_comments(params.psa_ticket_id))}

    def act(self, params: MapPrinterParams, c: Any, key: str, secret: str | None) -> Acted:
        note = (
            f"Printer {params.printer} mapped on {params.computer} for "
            f"{params.user_principal_name}, and a test page printed: confirmed by the "
            f"technician who ticked the step off.\n\n{_marker(key)}"
        )
        comment = c.psa.add_comment(params.psa_ticket_id, "deskhand note", note, hidden=True)
        return Acted({"confirmation_note": comment.id})

    def check(self, params: MapPrinterParams, c: Any, key: str, baseline: Baseline) -> Check:
        for comment in c.psa.list_comments(params.psa_ticket_id):
            if comment.hidden and _marker(key) in comment.body:
                return Check(
                    True,
                    {
                        "confirmation_note": comment.id,
                        "read_back": "the technician's confirmation: a workstation's printers "
                        "cannot be read from here",
                    },
                )
        return Check(False, {"confirmation_note": None})


ACTIONS = (MapPrinter,)
