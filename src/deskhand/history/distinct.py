"""Each distinct value of a text column once, and where each row's value is among them.

A million tickets hold a few hundred thousand distinct times at most (minutes repeat), so the
dates are read once per distinct text and the results put back in place (``importer``). Finding
the distinct texts and each row's place by the texts themselves hashes and compares a million
strings twice; by their 64-bit hashes, the strings are hashed once and the rest works on
integers. Two texts that share a hash would then share a place: every row is checked against the
text at its place, and if one differs (a chance of about one in a billion for a million
distinct texts, or text made to collide) the places are found again from the texts.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl


class Distinct(NamedTuple):
    """A column's distinct values (null among them when it has nulls), and each row's place
    among them: ``values.gather(places)`` is the column."""

    values: pl.Series
    places: pl.Series  # UInt32, one per row


def find_distinct(column: pl.Series) -> Distinct:
    """``column``'s distinct values, in the order they first occur, and each row's place."""
    return by_hashes(column, column.hash())


def by_hashes(column: pl.Series, hashes: pl.Series) -> Distinct:
    """``find_distinct`` from ``column``'s ``hashes`` (one per row), checked against the texts."""
    first = hashes.arg_unique().sort()  # each distinct hash's first row, in row order
    values = column.gather(first)
    places = _places(hashes, hashes.gather(first))
    if values.gather(places).eq_missing(column).all():
        return Distinct(values, places)
    # Two texts share a hash: their places are found by the texts.
    values = column.unique(maintain_order=True)
    return Distinct(values, _places(column, values))


def _places(keys: pl.Series, distinct_keys: pl.Series) -> pl.Series:
    """Each of ``keys``' place among ``distinct_keys`` (every key is one of them)."""
    table = pl.DataFrame(
        {
            "key": distinct_keys,
            "place": pl.int_range(distinct_keys.len(), dtype=pl.UInt32, eager=True),
        }
    )
    return (
        pl.DataFrame({"key": keys})
        .join(table, on="key", how="left", maintain_order="left", nulls_equal=True)
        .get_column("place")
    )
