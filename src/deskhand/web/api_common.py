"""What every route of the JSON API shares: who is asking, and how a problem is answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel

from deskhand.web.security import NotSignedIn, Viewer, viewer


class Problem(BaseModel):
    """What went wrong, and what to do about it."""

    error: str
    hint: str | None = None


def _who(request: Request) -> Viewer:
    try:
        return viewer(request)
    except NotSignedIn:
        raise NotSignedIn(
            "Authentication needed.",
            hint="Send Authorization: Bearer <token> (create one with `deskhand tokens create`).",
        ) from None


Who = Annotated[Viewer, Depends(_who)]
