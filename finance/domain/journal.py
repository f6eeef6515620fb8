"""Journal entries: posted once, never changed; a reversal is a new entry."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from functools import singledispatchmethod

from finance.domain import money
from finance.domain.aggregate import Aggregate
from finance.domain.chart import ChartOfAccounts
from finance.domain.errors import Problems, RuleViolation, StateConflict
from finance.domain.events import DomainEvent, event
from finance.domain.periods import Periods

SOURCES = ("manual", "invoice", "payment")
TEXT_MAX = 500


@dataclass(frozen=True)
class LineInput:
    """A line as a caller gives it: exactly one of debit and credit."""

    account: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    currency: str | None = None
    memo: str = ""


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal
    credit: Decimal
    currency: str
    memo: str = ""


@event
class JournalEntryPosted(DomainEvent):
    date: Date
    description: str
    reference: str
    currency: str
    lines: tuple[Line, ...]
    source: str
    source_id: str | None
    reverses: str | None


@event
class JournalEntryReversed(DomainEvent):
    reversal_id: str
    date: Date
    reason: str


@dataclass
class JournalEntry(Aggregate):
    TYPE = "journal"

    date: Date | None = None
    description: str = ""
    reference: str = ""
    currency: str = ""
    lines: tuple[Line, ...] = ()
    source: str = "manual"
    source_id: str | None = None
    reverses: str | None = None
    reversed_by: str | None = None

    @property
    def status(self) -> str:
        return "reversed" if self.reversed_by else "posted"

    @classmethod
    def post(
        cls,
        *,
        id: str,
        date: Date,
        description: str,
        reference: str = "",
        currency: str,
        lines: list[LineInput],
        chart: ChartOfAccounts,
        periods: Periods,
        source: str = "manual",
        source_id: str | None = None,
        reverses: str | None = None,
        control_accounts: frozenset[str] = frozenset(),
    ) -> "JournalEntry":
        """Validate every rule, naming each offending field, then post.

        ``control_accounts`` (the receivable) take postings only from the documents they
        summarise: a manual line there would put the sub-ledger out of step."""
        problems = Problems()
        problems.check(
            isinstance(description, str) and 0 < len(description.strip()) <= TEXT_MAX,
            "description",
            f"must be 1-{TEXT_MAX} characters",
        )
        problems.check(len(reference or "") <= 100, "reference", "must be at most 100 characters")
        problems.check(source in SOURCES, "source", f"must be one of {', '.join(SOURCES)}")
        currency_ok = problems.check(money.is_currency(currency), "currency", "is not an ISO 4217 currency")
        closed = periods.closed_problem(date)
        if closed:
            problems.add("date", closed)
        if not problems.check(len(lines) >= 2, "lines", "an entry needs at least two lines"):
            problems.raise_if_any("the journal entry cannot be posted")
        posted: list[Line] = []
        totals: dict[str, list[Decimal]] = defaultdict(lambda: [money.ZERO, money.ZERO])
        for index, line in enumerate(lines):
            if source == "manual" and line.account in control_accounts:
                problems.add(
                    f"lines[{index}].account",
                    f"account {line.account} is a control account: post to it through invoices and payments",
                )
            valid = _check_line(problems, f"lines[{index}]", line, currency if currency_ok else None, chart)
            if valid is not None:
                posted.append(valid)
                totals[valid.currency][0] += valid.debit
                totals[valid.currency][1] += valid.credit
        if len(posted) == len(lines):
            for line_currency, (debits, credits) in sorted(totals.items()):
                problems.check(
                    debits == credits,
                    "lines",
                    f"debits {debits} and credits {credits} in {line_currency} do not balance",
                )
        problems.raise_if_any("the journal entry cannot be posted")
        entry = cls(id=id)
        entry._record(
            JournalEntryPosted(
                date=date,
                description=description.strip(),
                reference=reference or "",
                currency=currency,
                lines=tuple(posted),
                source=source,
                source_id=source_id,
                reverses=reverses,
            )
        )
        return entry

    def reverse(
        self,
        *,
        reversal_id: str,
        date: Date,
        reason: str,
        chart: ChartOfAccounts,
        periods: Periods,
        document: str | None = None,
    ) -> "JournalEntry":
        """Post the mirror entry and mark this one reversed; returns the new entry.

        An entry that an invoice or a payment posted is reversed only by that document
        (``document``: its id), when it is voided: reversed on its own, the receivable
        would no longer equal what the documents say customers owe."""
        if self.source != "manual" and document != self.source_id:
            raise RuleViolation.on(
                "entry",
                f"journal entry {self.id} was posted by {self.source} {self.source_id}; "
                f"change that {self.source} instead of reversing its entry",
            )
        if self.reversed_by:
            raise StateConflict(f"journal entry {self.id} is already reversed by {self.reversed_by}")
        if not isinstance(reason, str) or not reason.strip():
            raise RuleViolation.on("reason", "a reversal needs a reason")
        if date < self.date:
            raise RuleViolation.on("date", "a reversal cannot be dated before the entry it reverses")
        reversal = JournalEntry.post(
            id=reversal_id,
            date=date,
            description=f"Reversal of {self.description}: {reason.strip()}"[:TEXT_MAX],
            reference=self.reference,
            currency=self.currency,
            lines=[
                LineInput(
                    account=line.account,
                    debit=line.credit or None,
                    credit=line.debit or None,
                    currency=line.currency,
                    memo=line.memo,
                )
                for line in self.lines
            ],
            chart=chart,
            periods=periods,
            source=self.source,
            source_id=self.source_id,
            reverses=self.id,
        )
        self._record(JournalEntryReversed(reversal_id=reversal_id, date=date, reason=reason.strip()))
        return reversal

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"journal entry cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: JournalEntryPosted) -> None:
        self.date = e.date
        self.description = e.description
        self.reference = e.reference
        self.currency = e.currency
        self.lines = e.lines
        self.source = e.source
        self.source_id = e.source_id
        self.reverses = e.reverses

    @apply.register
    def _(self, e: JournalEntryReversed) -> None:
        self.reversed_by = e.reversal_id


def _check_line(problems: Problems, where: str, line: LineInput, currency: str | None, chart) -> Line | None:
    """A validated line, or None after recording why not."""
    ok = True
    line_currency = line.currency or currency
    if line.currency is not None and not money.is_currency(line.currency):
        problems.add(f"{where}.currency", "is not an ISO 4217 currency")
        ok = False
    account_problem = chart.postable_problem(line.account)
    if account_problem:
        problems.add(f"{where}.account", account_problem)
        ok = False
    if (line.debit is None) == (line.credit is None):
        problems.add(where, "a line has exactly one of debit and credit")
        return None
    side, amount = ("debit", line.debit) if line.debit is not None else ("credit", line.credit)
    if line_currency is None or not money.is_currency(line_currency):
        return None
    try:
        amount = money.check_amount(amount, line_currency, f"{where}.{side}")
    except RuleViolation as violation:
        problems.errors.extend(violation.errors)
        return None
    if len(line.memo or "") > TEXT_MAX:
        problems.add(f"{where}.memo", f"must be at most {TEXT_MAX} characters")
        ok = False
    if not ok:
        return None
    return Line(
        account=line.account,
        debit=amount if side == "debit" else money.ZERO,
        credit=amount if side == "credit" else money.ZERO,
        currency=line_currency,
        memo=line.memo or "",
    )
