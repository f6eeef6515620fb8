"""Today's date for commands that default a date: UTC, the books' time zone."""

from datetime import UTC, date, datetime


def today() -> date:
    return datetime.now(UTC).date()
