"""How long an analysis window may be: apart from ``window.py``, so that ``deskhand analyze
--help`` can state the range without loading Polars."""

DEFAULT_DAYS = 90
MAX_DAYS = 3660  # ten years, as the web form allows; more overflows the calendar arithmetic
