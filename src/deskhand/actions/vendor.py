"""The tenant's vendor-portal checklist as steps: a line-of-business application or a
distributor's portal deskhand has no connection to (``lifecycle.vendor_checklist`` in the
tenant's policy). Each is a manual step: its summary is the exact instructions, the
technician's approval is the tick, and — because deskhand cannot read the portal — its record
says plainly that it was done on the technician's word, not read back."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from deskhand.actions.contract import Acted, Action, Baseline, Check
from deskhand.actions.exchange import DONE_BY_HAND
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import Params as Parameters
from deskhand.domain.risks import BlastRadius


class VendorStepParams(Parameters):
    system: str = Field(min_length=1, max_length=200, title="system")
    person: str = Field(
        min_length=1, max_length=320, title="person", description="Whom it is done for"
    )
    instructions: str = Field(min_length=1, max_length=2000, title="instructions")


class VendorChecklistItem(Action):
    """Internal: a person makes the change in the portal; deskhand only records the tick."""

    name = "vendor.checklist_item"
    Params = VendorStepParams
    radius = BlastRadius.INTERNAL
    summary = "{system}, for {person}: {instructions}"
    undo = "undo it by hand in the same portal"
    manual = True
    safe_to_repeat = True  # acting changes nothing
    needs = ()  # nothing of the tenant's systems: a person does it in the portal

    def target(self, params: Parameters) -> str:
        values = params.model_dump()
        return f"{values['system']}: {values['person']}"

    def snapshot(self, params: VendorStepParams, c: Connectors) -> dict[str, Any]:
        return {}

    def act(self, params: VendorStepParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted(dict(DONE_BY_HAND))

    def check(self, params: VendorStepParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        return Check(
            True,
            {
                "not_read_back": f"deskhand has no connection to {params.system}: done on the "
                "technician's word, not read back"
            },
        )


ACTIONS = (VendorChecklistItem,)
