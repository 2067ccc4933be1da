"""The plugin's specialist: "please add the reception printer for me" becomes a manual step a
technician does and ticks off, a note, and a reply — planned only, like every specialist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.replies import note, reply

MAP_PRINTER = "printer_mapping"
# A printer share as tickets write it: \\print01\Reception-MFP
SHARE = re.compile(r"\\\\[\w.-]+\\[\w.$-]+")


class PrinterRequest(BaseModel):
    """Who gets which printer, on which computer."""

    user_id: str
    printer: str
    computer: str


class PrinterMapping(Specialist):
    name = "printer_mapping"
    description = "Maps a shared network printer for a user on their computer (a manual step)."
    intents: ClassVar[Mapping[str, Intent]] = {
        MAP_PRINTER: Intent(
            description="Add (map) a shared network printer for a user on their computer.",
            examples=(
                "map the printer",
                "add the printer for me",
                "connect me to the printer",
                "Drucker verbinden",
                "printer toevoegen",
                "ajouter l'imprimante",
            ),
        )
    }
    Parameters = PrinterRequest

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        user = context.targets[0] if len(context.targets) == 1 else context.requester
        if user is None:
            return Plan(
                summary="Printer mapping: for whom is not clear",
                handoff="The ticket names no one in the tenant's directory to map it for.",
            )
        shares = SHARE.findall(f"{ticket.subject}\n{ticket.body}")
        if len(set(shares)) != 1:
            return Plan(
                summary=f"Printer mapping for {user.user_principal_name}: which printer?",
                handoff="The ticket does not name exactly one printer share (\\\\server\\printer); "
                "a technician knows the client's printers.",
            )
        computer = context.devices[0] if len(context.devices) == 1 else "their computer"
        request = PrinterRequest(user_id=user.id, printer=shares[0], computer=computer)
        return Plan(
            summary=f"Map {request.printer} for {user.user_principal_name}",
            steps=(
                ProposedStep(
                    action="printing.map_printer",
                    params={
                        "user_id": user.id,
                        "user_principal_name": user.user_principal_name,
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "printer": request.printer,
                        "computer": request.computer,
                    },
                    reason=f"{ticket.requester_email} asks for {request.printer} on "
                    f"{request.computer}. Do it as shown, then approve to tick it off.",
                ),
                ProposedStep(
                    action="psa.add_internal_note",
                    params={
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "body": note(
                            f"Printer mapping for {user.user_principal_name} planned by "
                            f"{self.name}: {request.printer} on {request.computer}."
                        ),
                    },
                    reason="Record on the ticket what deskhand did and why.",
                ),
                ProposedStep(
                    action="psa.send_reply",
                    params={
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "to": ticket.requester_email,
                        "body": reply(
                            f"{request.printer} is now set up on {request.computer} for "
                            f"{user.display_name}. If it does not show in the print dialog, "
                            "restart the computer once.",
                        ),
                    },
                    reason="Tell the requester it is done.",
                ),
            ),
        )
