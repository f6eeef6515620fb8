"""The chart of accounts: one aggregate, so unique codes and a valid tree are enforced
in one place."""

import re
from dataclasses import dataclass, field, replace
from functools import singledispatchmethod

from finance.domain.aggregate import Aggregate
from finance.domain.errors import NotFound, Problems, StateConflict
from finance.domain.events import DomainEvent, event

ACCOUNT_TYPES = ("asset", "liability", "equity", "revenue", "expense")
DEBIT_NORMAL = frozenset({"asset", "expense"})
CODE_PATTERN = re.compile(r"^[A-Za-z0-9.\-]{1,32}$")
NAME_MAX = 200


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str
    parent: str | None = None
    active: bool = True

    @property
    def normal_balance(self) -> str:
        return "debit" if self.type in DEBIT_NORMAL else "credit"


@event
class AccountOpened(DomainEvent):
    code: str
    name: str
    type: str
    parent: str | None


@event
class AccountUpdated(DomainEvent):
    code: str
    name: str
    parent: str | None


@event
class AccountDeactivated(DomainEvent):
    code: str


@event
class AccountReactivated(DomainEvent):
    code: str


CHART_ID = "main"


@dataclass
class ChartOfAccounts(Aggregate):
    TYPE = "chart"

    accounts: dict[str, Account] = field(default_factory=dict)

    # --- queries ------------------------------------------------------------------------

    def get(self, code: str) -> Account | None:
        return self.accounts.get(code)

    def require(self, code: str) -> Account:
        account = self.accounts.get(code)
        if account is None:
            raise NotFound(f"account {code} does not exist")
        return account

    def postable_problem(self, code: str) -> str | None:
        """Why nothing can be posted to this account, or None."""
        account = self.accounts.get(code)
        if account is None:
            return f"account {code} does not exist"
        if not account.active:
            return f"account {code} is inactive"
        return None

    # --- commands -----------------------------------------------------------------------

    def open_account(self, *, code: str, name: str, type: str, parent: str | None) -> Account:
        problems = Problems()
        problems.check(
            isinstance(code, str) and bool(CODE_PATTERN.match(code)), "code", "must be 1-32 letters, digits, '.' or '-'"
        )
        _check_name(problems, name)
        problems.check(type in ACCOUNT_TYPES, "type", f"must be one of {', '.join(ACCOUNT_TYPES)}")
        if parent is not None and type in ACCOUNT_TYPES:
            self._check_parent(problems, code=code, parent=parent, type=type)
        problems.raise_if_any("the account cannot be opened")
        if code in self.accounts:
            raise StateConflict(f"account {code} already exists")
        self._record(AccountOpened(code=code, name=name.strip(), type=type, parent=parent))
        return self.accounts[code]

    def update_account(self, code: str, *, name: str | None = None, parent: str | None = ...) -> Account:
        """Rename and/or move the account; ``parent=...`` leaves the parent unchanged."""
        account = self.require(code)
        problems = Problems()
        if name is not None:
            _check_name(problems, name)
        new_parent = account.parent if parent is ... else parent
        if new_parent is not None and new_parent != account.parent:
            self._check_parent(problems, code=code, parent=new_parent, type=account.type)
        problems.raise_if_any("the account cannot be changed")
        new_name = account.name if name is None else name.strip()
        if (new_name, new_parent) != (account.name, account.parent):
            self._record(AccountUpdated(code=code, name=new_name, parent=new_parent))
        return self.accounts[code]

    def deactivate(self, code: str, *, balance_is_zero: bool) -> Account:
        account = self.require(code)
        if not account.active:
            raise StateConflict(f"account {code} is already inactive")
        if not balance_is_zero:
            raise StateConflict(f"account {code} has a non-zero balance and cannot be deactivated")
        self._record(AccountDeactivated(code=code))
        return self.accounts[code]

    def reactivate(self, code: str) -> Account:
        account = self.require(code)
        if account.active:
            raise StateConflict(f"account {code} is already active")
        self._record(AccountReactivated(code=code))
        return self.accounts[code]

    def _check_parent(self, problems: Problems, *, code: str, parent: str, type: str) -> None:
        parent_account = self.accounts.get(parent)
        if parent_account is None:
            problems.add("parent", f"account {parent} does not exist")
            return
        if parent_account.type != type:
            problems.add("parent", f"account {parent} is {parent_account.type}, not {type}")
            return
        # Walking up from the new parent must not reach the account itself.
        seen = parent
        while seen is not None:
            if seen == code:
                problems.add("parent", "an account cannot be its own ancestor")
                return
            seen = self.accounts[seen].parent

    # --- state --------------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"chart cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: AccountOpened) -> None:
        self.accounts[e.code] = Account(code=e.code, name=e.name, type=e.type, parent=e.parent)

    @apply.register
    def _(self, e: AccountUpdated) -> None:
        self.accounts[e.code] = replace(self.accounts[e.code], name=e.name, parent=e.parent)

    @apply.register
    def _(self, e: AccountDeactivated) -> None:
        self.accounts[e.code] = replace(self.accounts[e.code], active=False)

    @apply.register
    def _(self, e: AccountReactivated) -> None:
        self.accounts[e.code] = replace(self.accounts[e.code], active=True)


def _check_name(problems: Problems, name: object) -> None:
    problems.check(
        isinstance(name, str) and 0 < len(name.strip()) <= NAME_MAX, "name", f"must be 1-{NAME_MAX} characters"
    )
