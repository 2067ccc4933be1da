"""Types for request parameters every route shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1  # the largest id either database stores; larger ones are simply not found

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="The object's id.")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID)]
