"""Which ticket ids are joined as integers (``integer_keys``)."""

from __future__ import annotations

import polars as pl
import pytest

from deskhand.history.schema import integer_keys, with_key


@pytest.mark.parametrize(
    "ids",
    [
        ["24001", "7", None],
        ["999999999999999999"],  # 18 digits
    ],
)
def test_plain_integers_become_keys(ids: list[str | None]) -> None:
    keys = integer_keys(pl.DataFrame({"ticket_id": ids}, schema={"ticket_id": pl.String}))
    assert keys is not None
    assert keys.to_list() == [None if i is None else int(i) for i in ids]


@pytest.mark.parametrize(
    "odd",
    [
        "024001",  # a leading zero: not ticket 24001
        "0",
        "+24001",
        "-5",
        "-05",
        " 24001",
        "24001 ",
        "24001.0",
        "#24001",
        "T20240101.0001",
        "1234567890123456789",  # 19 digits
        "99999999999999999999",  # past any 64-bit integer
        "١٢",  # digits, but not ASCII ones
        "",
    ],
)
def test_one_id_not_written_plainly_keeps_every_id_text(odd: str) -> None:
    frame = pl.DataFrame({"ticket_id": ["24001", odd, None]})
    assert integer_keys(frame) is None


def test_an_integer_key_is_kept_and_text_replaces_it_when_some_id_is_not_plain() -> None:
    frame = pl.DataFrame({"ticket_id": ["42"], "key": [42]})
    assert with_key(frame, integer=True).get_column("key").to_list() == [42]
    assert with_key(frame, integer=False).get_column("key").to_list() == ["42"]
