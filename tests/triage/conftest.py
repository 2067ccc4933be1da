"""A small slice of the Endava tickets (real, anonymised), read in place from shared/data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.support import SHARED_DATA


@pytest.fixture(scope="session")
def endava_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 tickets of the three largest categories, as a CSV with a `category` column."""
    tickets = pl.read_csv(SHARED_DATA / "endava_subset.csv", infer_schema_length=0)
    picked = tickets.filter(pl.col("category").is_in(["4", "5", "6"])).head(1500)
    path = tmp_path_factory.mktemp("endava") / "endava_slice.csv"
    picked.write_csv(path)
    return path
