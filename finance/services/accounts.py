"""Use cases of the chart of accounts."""

from finance import repository
from finance.domain.chart import CHART_ID, Account, ChartOfAccounts
from finance.domain.errors import PreconditionFailed
from finance.eventstore import store
from finance.services.unit_of_work import commit, run
from ledger import selectors

_CHART_STREAM = ChartOfAccounts.stream_id_for(CHART_ID)


def _load_chart() -> ChartOfAccounts:
    return repository.load(ChartOfAccounts, CHART_ID)


def _check_account_version(chart: ChartOfAccounts, code: str, if_match: int | None) -> None:
    # An account's version counts the events about it, so an unrelated account opened
    # meanwhile does not make a client's If-Match fail.
    if if_match is not None:
        actual = selectors.account_version(code)
        if actual is not None and actual != if_match:
            raise PreconditionFailed(if_match, actual)


def account_open(*, code: str, name: str, type: str, parent: str | None, actor: str) -> Account:
    def command() -> Account:
        chart = _load_chart()
        account = chart.open_account(code=code, name=name, type=type, parent=parent)
        commit([chart], actor=actor)
        return account

    return run(command)


def account_update(
    *, code: str, name: str | None = None, parent: str | None = ..., if_match: int | None = None, actor: str
) -> Account:
    """Rename and/or move an account; ``parent=...`` keeps the current parent."""

    def command() -> Account:
        chart = _load_chart()
        chart.require(code)
        _check_account_version(chart, code, if_match)
        account = chart.update_account(code, name=name, parent=parent)
        commit([chart], actor=actor)
        return account

    return run(command)


def account_deactivate(*, code: str, if_match: int | None = None, actor: str) -> Account:
    def command() -> Account:
        # Postings hold a share lock on the chart until they commit: taking it exclusively
        # first means the balance read next includes every posting there will ever be
        # before this commit.
        store.lock_stream_exclusive(_CHART_STREAM)
        chart = _load_chart()
        chart.require(code)
        _check_account_version(chart, code, if_match)
        account = chart.deactivate(code, balance_is_zero=selectors.account_balance_is_zero(code))
        commit([chart], actor=actor)
        return account

    return run(command)


def account_reactivate(*, code: str, if_match: int | None = None, actor: str) -> Account:
    def command() -> Account:
        chart = _load_chart()
        chart.require(code)
        _check_account_version(chart, code, if_match)
        account = chart.reactivate(code)
        commit([chart], actor=actor)
        return account

    return run(command)
