"""Closing and reopening accounting periods."""

from finance import repository
from finance.domain.periods import PERIODS_ID, Periods
from finance.eventstore import store
from finance.services.unit_of_work import commit, run


def period_close(*, period: str, actor: str) -> Periods:
    def command() -> Periods:
        # Wait for postings in flight (they share-lock the periods) before closing.
        store.lock_stream_exclusive(Periods.stream_id_for(PERIODS_ID))
        periods = repository.load(Periods, PERIODS_ID)
        periods.close(period)
        commit([periods], actor=actor)
        return periods

    return run(command)


def period_reopen(*, period: str, reason: str = "", actor: str) -> Periods:
    def command() -> Periods:
        periods = repository.load(Periods, PERIODS_ID)
        periods.reopen(period, reason=reason)
        commit([periods], actor=actor)
        return periods

    return run(command)
