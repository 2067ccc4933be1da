"""Each distinct value once, and each row's place among them (``history.distinct``)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from deskhand.history.distinct import by_hashes, find_distinct


def test_the_distinct_values_come_in_order_and_every_row_finds_its_own() -> None:
    column = pl.Series(["b", "a", None, "b", "", "a", None])
    found = find_distinct(column)
    assert found.values.to_list() == ["b", "a", None, ""]
    assert found.places.to_list() == [0, 1, 2, 0, 3, 1, 2]


def test_texts_that_share_a_hash_keep_places_of_their_own() -> None:
    # "11/20/2026" and "20/11/2026" made to collide: a place found by the hash alone would read
    # one date as the other.
    column = pl.Series(["11/20/2026", "20/11/2026", "11/20/2026", None])
    hashes = pl.Series([7, 7, 7, 9], dtype=pl.UInt64)
    found = by_hashes(column, hashes)
    assert found.values.gather(found.places).to_list() == column.to_list()
    assert sorted(found.values.drop_nulls().to_list()) == ["11/20/2026", "20/11/2026"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=40))
def test_every_row_is_the_value_at_its_place(texts: list[str | None]) -> None:
    column = pl.Series(texts, dtype=pl.String)
    found = find_distinct(column)
    assert found.values.gather(found.places).to_list() == texts
    assert found.values.n_unique() == found.values.len()
