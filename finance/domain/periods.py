"""Accounting periods (calendar months). Nothing posts with a date in a closed one."""

import re
from dataclasses import dataclass
from datetime import date
from functools import singledispatchmethod

from finance.domain.aggregate import Aggregate
from finance.domain.errors import RuleViolation, StateConflict
from finance.domain.events import DomainEvent, event

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PERIODS_ID = "main"


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise RuleViolation.on("period", "must be YYYY-MM")
    return period


@event
class PeriodClosed(DomainEvent):
    period: str


@event
class PeriodReopened(DomainEvent):
    period: str
    reason: str


@dataclass
class Periods(Aggregate):
    TYPE = "periods"

    closed: tuple[str, ...] = ()

    def is_closed(self, day: date) -> bool:
        return period_of(day) in self.closed

    def closed_problem(self, day: date) -> str | None:
        if self.is_closed(day):
            return f"period {period_of(day)} is closed"
        return None

    def close(self, period: str) -> None:
        check_period(period)
        if period in self.closed:
            raise StateConflict(f"period {period} is already closed")
        self._record(PeriodClosed(period=period))

    def reopen(self, period: str, *, reason: str = "") -> None:
        check_period(period)
        if period not in self.closed:
            raise StateConflict(f"period {period} is not closed")
        self._record(PeriodReopened(period=period, reason=reason))

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"periods cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: PeriodClosed) -> None:
        self.closed = tuple(sorted({*self.closed, e.period}))

    @apply.register
    def _(self, e: PeriodReopened) -> None:
        self.closed = tuple(p for p in self.closed if p != e.period)
