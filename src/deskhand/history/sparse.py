"""Sparse rows of TF-IDF vectors, with the few products the themes' k-means needs, in NumPy.

SciPy's sparse matrices would do, but importing them takes about a seventh of a second of
``deskhand analyze``, which needs nothing else of SciPy. Every sum here adds its terms in the
order SciPy's CSR products do (row by row, and within a row in column order), so the results
are the same to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Rows:
    """A sparse matrix of ``height`` rows and ``width`` columns, row by row (CSR): row ``r``
    holds ``data[starts[r]:starts[r + 1]]`` in the columns ``columns[...]``, in column order."""

    starts: NDArray[np.int64]
    columns: NDArray[np.int64]
    data: NDArray[np.float64]
    width: int

    @property
    def height(self) -> int:
        return len(self.starts) - 1

    @property
    def lengths(self) -> NDArray[np.int64]:
        """How many columns each row holds."""
        return np.diff(self.starts)

    def row_of(self) -> NDArray[np.int64]:
        """The row of each stored value."""
        return np.repeat(np.arange(self.height), self.lengths)

    def take(self, rows: NDArray[np.intp]) -> Rows:
        """The rows ``rows``, in that order."""
        lengths = self.lengths[rows]
        starts = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        # Each value's place in ``data``: its row's old start plus its place in the row.
        at = np.repeat(self.starts[:-1][rows] - starts[:-1], lengths) + np.arange(starts[-1])
        return Rows(starts, self.columns[at], self.data[at], self.width)

    def dense(self) -> NDArray[np.float64]:
        """The rows as a dense array."""
        out = np.zeros((self.height, self.width))
        out[self.row_of(), self.columns] = self.data
        return out

    def times(self, vector: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each row's dot product with ``vector`` (one value per column)."""
        summed = np.bincount(
            self.row_of(), weights=self.data * vector[self.columns], minlength=self.height
        )
        return summed.astype(np.float64, copy=False)

    def times_rows(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each row's dot product with each row of ``matrix`` (``height`` x ``len(matrix)``)."""
        row_of = self.row_of()
        out = np.empty((self.height, len(matrix)))
        for j, vector in enumerate(matrix):
            out[:, j] = np.bincount(
                row_of, weights=self.data * vector[self.columns], minlength=self.height
            )
        return out

    def weighted_sum(self, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """The sum of the rows, row ``r`` weighted by ``weights[r]`` (one value per column)."""
        summed = np.bincount(
            self.columns, weights=self.data * weights[self.row_of()], minlength=self.width
        )
        return summed.astype(np.float64, copy=False)

    def group_sums(
        self, groups: NDArray[np.intp], weights: NDArray[np.float64], count: int
    ) -> NDArray[np.float64]:
        """For each of ``count`` groups, the sum of its rows (row ``r`` is in ``groups[r]``),
        weighted by ``weights`` (``count`` x ``width``)."""
        row_of = self.row_of()
        cells = groups[row_of] * self.width + self.columns
        summed = np.bincount(
            cells, weights=weights[row_of] * self.data, minlength=count * self.width
        )
        return summed.astype(np.float64, copy=False).reshape(count, self.width)
