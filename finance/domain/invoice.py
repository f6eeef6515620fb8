"""Invoices: drafted, edited while draft, issued with a gap-free number (posting to the
receivable, revenue and tax accounts), paid by allocations, or voided."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from functools import singledispatchmethod

from finance.domain import money
from finance.domain.aggregate import Aggregate
from finance.domain.chart import CODE_PATTERN, ChartOfAccounts
from finance.domain.errors import Problems, RuleViolation, StateConflict
from finance.domain.events import DomainEvent, event
from finance.domain.journal import LineInput

TEXT_MAX = 500
CUSTOMER_MAX = 200
MAX_LINES = 500
QUANTITY_PLACES = 6
TAX_RATE_PLACES = 6


@dataclass(frozen=True)
class InvoiceLineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    account: str
    tax_rate: Decimal = money.ZERO


@dataclass(frozen=True)
class InvoiceLine:
    """A line with its net and tax, each rounded half-up to the currency's minor unit."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    account: str
    tax_rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Allocation:
    payment: str
    amount: Decimal
    # The day the allocation counts from in reports: the later of payment and issue date.
    date: Date


@event
class InvoiceDrafted(DomainEvent):
    customer: str
    currency: str
    due_date: Date
    lines: tuple[InvoiceLine, ...]


@event
class InvoiceDraftUpdated(DomainEvent):
    customer: str
    due_date: Date
    lines: tuple[InvoiceLine, ...]


@event
class InvoiceIssued(DomainEvent):
    number: str
    issue_date: Date
    journal_entry: str
    receivable_account: str


@event
class InvoicePaymentApplied(DomainEvent):
    payment: str
    amount: Decimal
    date: Date


@event
class InvoiceVoided(DomainEvent):
    reason: str
    date: Date
    journal_entry: str | None


@dataclass
class Invoice(Aggregate):
    TYPE = "invoice"

    customer: str = ""
    currency: str = ""
    due_date: Date | None = None
    lines: tuple[InvoiceLine, ...] = ()
    number: str | None = None
    issue_date: Date | None = None
    journal_entry: str | None = None
    receivable_account: str | None = None
    allocations: tuple[Allocation, ...] = ()
    voided: bool = False
    void_date: Date | None = None
    void_reason: str = ""
    void_entry: str | None = None

    # --- figures ------------------------------------------------------------------------

    @property
    def subtotal(self) -> Decimal:
        return sum((line.net for line in self.lines), money.ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), money.ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    @property
    def amount_paid(self) -> Decimal:
        return sum((a.amount for a in self.allocations), money.ZERO)

    @property
    def outstanding(self) -> Decimal:
        if self.status in ("draft", "void"):
            return money.ZERO
        return self.total - self.amount_paid

    @property
    def status(self) -> str:
        if self.voided:
            return "void"
        if self.number is None:
            return "draft"
        paid = self.amount_paid
        if paid == 0:
            return "issued"
        return "paid" if paid >= self.total else "partially_paid"

    # --- commands -----------------------------------------------------------------------

    @classmethod
    def draft(
        cls, *, id: str, customer: str, currency: str, due_date: Date, lines: list[InvoiceLineInput]
    ) -> "Invoice":
        problems = Problems()
        _check_customer(problems, customer)
        priced: tuple[InvoiceLine, ...] = ()
        if problems.check(money.is_currency(currency), "currency", "is not an ISO 4217 currency"):
            priced = _price_lines(problems, lines, currency)
        problems.raise_if_any("the invoice cannot be drafted")
        invoice = cls(id=id)
        invoice._record(InvoiceDrafted(customer=customer.strip(), currency=currency, due_date=due_date, lines=priced))
        return invoice

    def update_draft(
        self, *, customer: str | None = None, due_date: Date | None = None, lines: list[InvoiceLineInput] | None = None
    ) -> None:
        """Replace customer, due date and/or lines of a draft."""
        if self.status != "draft":
            raise StateConflict(f"invoice {self.id} is {self.status}; only drafts can be edited")
        problems = Problems()
        if customer is not None:
            _check_customer(problems, customer)
        priced = self.lines if lines is None else _price_lines(problems, lines, self.currency)
        problems.raise_if_any("the invoice cannot be changed")
        self._record(
            InvoiceDraftUpdated(
                customer=self.customer if customer is None else customer.strip(),
                due_date=self.due_date if due_date is None else due_date,
                lines=priced,
            )
        )

    def issue(
        self,
        *,
        number: str,
        issue_date: Date,
        journal_entry: str,
        receivable_account: str,
        tax_account: str,
        chart: ChartOfAccounts,
    ) -> list[LineInput]:
        """Issue the draft; returns the lines of the journal entry it posts."""
        if self.status != "draft":
            raise StateConflict(f"invoice {self.id} is already {self.status}")
        problems = Problems()
        problems.check(self.total > 0, "lines", "an invoice must total more than zero to be issued")
        for index, line in enumerate(self.lines):
            problem = chart.postable_problem(line.account)
            if problem:
                problems.add(f"lines[{index}].account", problem)
        for field_name, code, needed in (
            ("receivable_account", receivable_account, True),
            ("tax_account", tax_account, self.tax > 0),
        ):
            problem = chart.postable_problem(code) if needed else None
            if problem:
                problems.add(field_name, f"{problem} ({field_name.replace('_', ' ')})")
        problems.raise_if_any("the invoice cannot be issued")
        self._record(
            InvoiceIssued(
                number=number,
                issue_date=issue_date,
                journal_entry=journal_entry,
                receivable_account=receivable_account,
            )
        )
        return self._posting(receivable_account, tax_account)

    def _posting(self, receivable_account: str, tax_account: str) -> list[LineInput]:
        revenue: dict[str, Decimal] = defaultdict(lambda: money.ZERO)
        for line in self.lines:
            revenue[line.account] += line.net
        lines = [LineInput(account=receivable_account, debit=self.total, memo=f"Invoice {self.number}")]
        lines += [
            LineInput(account=account, credit=amount, memo=f"Invoice {self.number}")
            for account, amount in revenue.items()
            if amount > 0
        ]
        if self.tax > 0:
            lines.append(LineInput(account=tax_account, credit=self.tax, memo=f"Tax on invoice {self.number}"))
        return lines

    def apply_payment(self, *, payment: str, amount: Decimal, date: Date) -> None:
        """Record an allocation from a payment (the payment checks its own side)."""
        if self.status == "void":
            raise StateConflict(f"invoice {self.id} is void")
        if self.status == "paid":
            raise StateConflict(f"invoice {self.id} is already paid")
        if self.status == "draft":
            raise RuleViolation.on("invoice", f"invoice {self.id} is a draft and cannot be paid")
        amount = money.check_amount(amount, self.currency, "amount")
        if amount > self.outstanding:
            raise RuleViolation.on(
                "amount",
                f"{amount} is more than the invoice's outstanding {money.fmt(self.outstanding, self.currency)}",
            )
        self._record(InvoicePaymentApplied(payment=payment, amount=amount, date=max(date, self.issue_date)))

    def void(self, *, reason: str, date: Date, journal_entry: str | None) -> bool:
        """Void the invoice. True when its posting must be reversed (it was issued)."""
        if self.status == "void":
            raise StateConflict(f"invoice {self.id} is already void")
        if self.allocations:
            raise StateConflict(f"invoice {self.id} has payments allocated and cannot be voided")
        if not isinstance(reason, str) or not reason.strip():
            raise RuleViolation.on("reason", "voiding needs a reason")
        was_issued = self.status == "issued"
        if was_issued and date < self.issue_date:
            raise RuleViolation.on("date", "an invoice cannot be voided before its issue date")
        self._record(
            InvoiceVoided(reason=reason.strip(), date=date, journal_entry=journal_entry if was_issued else None)
        )
        return was_issued

    # --- state --------------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"invoice cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: InvoiceDrafted) -> None:
        self.customer, self.currency, self.due_date, self.lines = e.customer, e.currency, e.due_date, e.lines

    @apply.register
    def _(self, e: InvoiceDraftUpdated) -> None:
        self.customer, self.due_date, self.lines = e.customer, e.due_date, e.lines

    @apply.register
    def _(self, e: InvoiceIssued) -> None:
        self.number, self.issue_date, self.journal_entry = e.number, e.issue_date, e.journal_entry
        self.receivable_account = e.receivable_account

    @apply.register
    def _(self, e: InvoicePaymentApplied) -> None:
        self.allocations = (*self.allocations, Allocation(payment=e.payment, amount=e.amount, date=e.date))

    @apply.register
    def _(self, e: InvoiceVoided) -> None:
        self.voided, self.void_date, self.void_reason, self.void_entry = True, e.date, e.reason, e.journal_entry


def _check_customer(problems: Problems, customer: object) -> None:
    problems.check(
        isinstance(customer, str) and 0 < len(customer.strip()) <= CUSTOMER_MAX,
        "customer",
        f"must be 1-{CUSTOMER_MAX} characters",
    )


def _price_lines(problems: Problems, lines: list[InvoiceLineInput], currency: str) -> tuple[InvoiceLine, ...]:
    if not problems.check(0 < len(lines) <= MAX_LINES, "lines", f"an invoice needs 1-{MAX_LINES} lines"):
        return ()
    priced = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        ok = problems.check(
            isinstance(line.description, str) and 0 < len(line.description.strip()) <= TEXT_MAX,
            f"{where}.description",
            f"must be 1-{TEXT_MAX} characters",
        )
        ok &= problems.check(
            isinstance(line.account, str) and bool(CODE_PATTERN.match(line.account)),
            f"{where}.account",
            "is not an account code",
        )
        ok &= problems.check(
            line.quantity > 0 and line.quantity.as_tuple().exponent >= -QUANTITY_PLACES and line.quantity < 10**9,
            f"{where}.quantity",
            f"must be greater than zero with at most {QUANTITY_PLACES} decimal places",
        )
        ok &= problems.check(
            0 <= line.tax_rate <= 1 and line.tax_rate.as_tuple().exponent >= -TAX_RATE_PLACES,
            f"{where}.tax_rate",
            f"must be between 0 and 1 with at most {TAX_RATE_PLACES} decimal places",
        )
        try:
            unit_price = money.check_amount(line.unit_price, currency, f"{where}.unit_price", allow_zero=True)
        except RuleViolation as violation:
            problems.errors.extend(violation.errors)
            ok = False
        if ok:
            net = money.round_half_up(line.quantity * unit_price, currency)
            priced.append(
                InvoiceLine(
                    description=line.description.strip(),
                    quantity=line.quantity,
                    unit_price=unit_price,
                    account=line.account,
                    tax_rate=line.tax_rate,
                    net=net,
                    tax=money.round_half_up(net * line.tax_rate, currency),
                )
            )
    return tuple(priced)
