"""The ``deskhand analyze`` options the web app offers: read from a form or a JSON body, checked
with the command line's own messages, and turned into the library's ``AnalyzeOptions``."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, JsonValue, ValidationError, field_validator

from deskhand.errors import InputError

if TYPE_CHECKING:
    from deskhand.history.analysis import AnalyzeOptions

MinutesFrom = Literal["auto", "logged", "elapsed", "business_hours"]
FormatName = Literal["syncro", "connectwise", "autotask", "halo", "generic"]

OPTION_LABELS = {
    "format": "PSA",
    "map": "column mapping",
    "dayfirst": "dates are written",
    "tz": "time zone",
    "minutes_from": "minutes from",
    "business_hours": "business hours",
    "days": "days to analyse",
    "since": "from",
    "until": "to",
    "rate": "technician cost per hour",
}


# Control characters have no place in an option; the published schema says so too, so that
# a request the schema allows is one the server takes.
CONTROL = "\x00-\x1f\x7f-\x9f"
PlainText = Annotated[str, Field(json_schema_extra={"pattern": f"^[^{CONTROL}]*$"})]

# Files in the zone database that are not zones: this machine's own setting, and helpers.
NOT_ZONES = {"localtime", "posixrules", "Factory"}


@functools.cache
def time_zones() -> list[str]:
    """The IANA time zone names this machine knows."""
    return sorted(available_timezones() - NOT_ZONES)


class AnalysisOptions(BaseModel):
    """The ``deskhand analyze`` options the web app offers, as stored with each analysis."""

    format: FormatName | None = Field(None, description="The PSA; default: from the headers.")
    map: list[Annotated[PlainText, Field(max_length=400)]] = Field(
        default_factory=list,
        max_length=30,
        description="field=column pairs, like the CLI's --map.",
    )
    dayfirst: bool | None = Field(None, description="Dates are day/month; default: detect.")
    tz: str = Field(
        "UTC",
        description="Time zone of times written without one (an IANA name).",
        json_schema_extra={"enum": list[JsonValue](time_zones())},
    )
    minutes_from: MinutesFrom = "auto"
    business_hours: PlainText | None = Field(None, max_length=20, examples=["08:00-18:00"])
    recategorize: bool = False
    days: int | None = Field(None, ge=1, le=3660, description="Window length in days.")
    since: PlainText | None = Field(None, max_length=30, description="Window start, YYYY-MM-DD.")
    until: PlainText | None = Field(None, max_length=30, description="Window end, YYYY-MM-DD.")
    rate: float | None = Field(
        None, ge=0, le=1_000_000, allow_inf_nan=False, description="Technician cost per hour."
    )
    currency: PlainText = Field("USD", min_length=1, max_length=8)

    @field_validator("map", "business_hours", "since", "until", "currency")
    @classmethod
    def _printable(cls, value: str | list[str] | None) -> str | list[str] | None:
        for text in [value] if isinstance(value, str) else value or []:
            if re.search(f"[{CONTROL}]", text):
                raise ValueError("contains a control character; type it as plain text")
        return value

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        if tz not in time_zones():
            raise ValueError(f"unknown time zone {tz!r}; use an IANA name such as Europe/London")
        return tz

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], *, check: bool = True) -> AnalysisOptions:
        """Options from a form's text fields; a clear message for any that is wrong. With
        ``check``, also the CLI's own checks that no schema expresses (map, business hours,
        dates); without, a wrong one fails the analysis when it runs, with the same message."""
        given: dict[str, Any] = {
            k: v.strip() for k, v in fields.items() if k in cls.model_fields and v.strip()
        }
        if "map" in given:
            given["map"] = [line.strip() for line in given["map"].splitlines() if line.strip()]
        if "dayfirst" in given:
            given["dayfirst"] = _dayfirst(given["dayfirst"])
        if "minutes_from" in given:
            given["minutes_from"] = given["minutes_from"].replace("-", "_")
        try:
            options = cls.model_validate(given)
        except ValidationError as error:
            problem = error.errors()[0]
            name = str(problem["loc"][0]) if problem["loc"] else "options"
            message = problem["msg"].removeprefix("Value error, ").rstrip(".")
            raise InputError(
                f"Option {OPTION_LABELS.get(name, name)}: {message}.",
                hint="Correct it and try again.",
            ) from None
        if check:
            options.check()
        return options

    def check(self) -> None:
        """Raise the CLI's own messages for options it would refuse, before any work starts."""
        from deskhand.history.dates import parse_bound
        from deskhand.history.formats import parse_map
        from deskhand.history.minutes import BusinessHours

        parse_map(self.map)
        if self.business_hours:
            BusinessHours.parse(self.business_hours)
        for bound in (self.since, self.until):
            if bound:
                parse_bound(bound, self.tz)

    def for_paths(self, paths: list[Path]) -> AnalyzeOptions:
        from deskhand.history.analysis import AnalyzeOptions
        from deskhand.history.formats import parse_map

        return AnalyzeOptions(
            paths=paths,
            format=self.format,
            mapping=parse_map(self.map),
            dayfirst=self.dayfirst,
            tz=self.tz,
            minutes_from=self.minutes_from,
            business_hours=self.business_hours,
            recategorize=self.recategorize,
            days=self.days,
            since=self.since,
            until=self.until,
            rate=self.rate,
            currency=self.currency,
        )


def _dayfirst(text: str) -> bool | None:
    value = text.lower()
    if value in ("auto", "detect"):
        return None
    if value in ("day", "true", "yes", "1", "on"):
        return True
    if value in ("month", "false", "no", "0", "off"):
        return False
    raise InputError(
        f"Option dayfirst: {text!r} is not day, month or auto.", hint="Correct it and retry."
    )
