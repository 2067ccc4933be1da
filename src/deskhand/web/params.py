"""Types for request parameters every route shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1  # the largest id either database stores; larger ones are simply not found

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="The object's id.")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID)]

# Text that is not blank: at least one character that is not white space by any of the three
# regex engines that read it. The OpenAPI schema's regex is ECMAScript's, whose \s leaves out
# U+0085 and U+001C–U+001F; pydantic's own (Rust's) leaves out U+FEFF; Python's str.strip, which
# the engine uses to refuse a blank text, removes all of them. Spelled out, a client generating
# from the schema and the server agree on what is blank.
NOT_BLANK = r"[^\s\u0085\u001c-\u001f\ufeff]"
