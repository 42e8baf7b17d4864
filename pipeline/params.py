"""The validated parameters every task shares: a day, a top-list period, a bounded count, a date interval.

Each refuses a bad value when parsed from the command line and when passed from code (`normalize`), with
a message naming the value and the rule; `import pipeline` turns that error into one line
`ERROR: --name: message` (pipeline/luigi_internals.py). Book ids become paths and URLs, so they are
checked before anything else sees them.
"""

from __future__ import annotations

import datetime
import operator
import re
from typing import Any

import luigi
from luigi import date_interval

from pipeline.gutenberg import PERIOD_SECTIONS

MAX_COUNT = 1_000_000_000
_DECIMAL = re.compile(r"[+-]?[0-9]+")


class DateParameter(luigi.DateParameter):
    """A day, YYYY-MM-DD; a datetime given in code is taken as its date."""

    def parse(self, s: str) -> datetime.date:
        try:
            return super().parse(s)
        except ValueError:
            raise ValueError(f"{s!r} is not a date (YYYY-MM-DD)") from None

    def normalize(self, x: Any) -> datetime.date:
        if isinstance(x, datetime.datetime):
            x = x.date()
        if not isinstance(x, datetime.date):
            raise ValueError(f"{x!r} is not a date (YYYY-MM-DD)")
        return super().normalize(x)


class PeriodParameter(luigi.ChoiceParameter):
    """One of the top page's lists: yesterday, last7 or last30."""

    def normalize(self, x: Any) -> str:
        if not isinstance(x, str) or x not in PERIOD_SECTIONS:
            raise ValueError(f"{x!r} is not one of {', '.join(PERIOD_SECTIONS)}")
        return x


class CountParameter(luigi.NumericalParameter):
    """An int in [minimum, maximum]; plain decimal digits only on the command line, ints only in code."""

    def __init__(self, *, minimum: int, maximum: int = MAX_COUNT, **kwargs: Any) -> None:
        super().__init__(
            var_type=int,
            min_value=minimum,
            max_value=maximum,
            left_op=operator.le,
            right_op=operator.le,
            **kwargs,
        )
        self.minimum, self.maximum = minimum, maximum

    def parse(self, x: str) -> int:
        if not _DECIMAL.fullmatch(x.strip()):
            raise ValueError(f"{x!r} is not an integer")
        return self.normalize(int(x))

    def normalize(self, x: Any) -> int:
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"{x!r} is not an integer")
        if not self.minimum <= x <= self.maximum:
            raise ValueError(f"{x} is not in [{self.minimum}, {self.maximum}]")
        return x


class DateIntervalParameter(luigi.DateIntervalParameter):
    """luigi's DateIntervalParameter, refusing text it cannot parse and intervals without a day."""

    def parse(self, s: str) -> date_interval.DateInterval:
        try:
            interval = super().parse(s)
        except ValueError:
            raise ValueError(
                f"{s!r} is not a date interval (YYYY-MM-DD-YYYY-MM-DD with the end day excluded, "
                "YYYY-Www, YYYY-MM-DD, YYYY-MM or YYYY)"
            ) from None
        return self.normalize(interval)

    def normalize(self, x: Any) -> date_interval.DateInterval:
        if not isinstance(x, date_interval.DateInterval):
            raise ValueError(f"{x!r} is not a date interval")
        if x.date_b <= x.date_a:
            raise ValueError(f"{x} has no day: the end day is excluded, so it must be after the start")
        return x


def date() -> DateParameter:
    """The day a top list is fetched (one list per day); today by default."""
    return DateParameter(
        default=datetime.date.today(), description="day the top list is fetched (one list per day)"
    )


def period() -> PeriodParameter:
    return PeriodParameter(
        choices=list(PERIOD_SECTIONS), default="yesterday", description="yesterday, last7 or last30"
    )


def count(default: int, minimum: int, description: str, significant: bool = True) -> CountParameter:
    """An int parameter in [minimum, MAX_COUNT]."""
    return CountParameter(minimum=minimum, default=default, significant=significant, description=description)


def stopwords() -> luigi.Parameter:
    return luigi.Parameter(default="english", description="english, none, or a one-word-a-line file")
