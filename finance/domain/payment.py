"""Customer payments: recorded (posting cash against the receivable), allocated to the
customer's invoices, refunded from what is not allocated. Unallocated cash is credit."""

from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from functools import singledispatchmethod

from finance.domain import money
from finance.domain.aggregate import Aggregate
from finance.domain.chart import ChartOfAccounts
from finance.domain.errors import Problems, RuleViolation
from finance.domain.events import DomainEvent, event
from finance.domain.invoice import CUSTOMER_MAX, Invoice
from finance.domain.journal import LineInput

TEXT_MAX = 200


@dataclass(frozen=True)
class PaymentAllocation:
    invoice: str
    amount: Decimal


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    date: Date
    reason: str
    journal_entry: str


@event
class PaymentRecorded(DomainEvent):
    customer: str
    amount: Decimal
    currency: str
    date: Date
    deposit_account: str
    receivable_account: str
    method: str
    reference: str
    journal_entry: str


@event
class PaymentAllocated(DomainEvent):
    invoice: str
    amount: Decimal


@event
class PaymentRefunded(DomainEvent):
    amount: Decimal
    date: Date
    reason: str
    journal_entry: str


@dataclass
class Payment(Aggregate):
    TYPE = "payment"

    customer: str = ""
    amount: Decimal = money.ZERO
    currency: str = ""
    date: Date | None = None
    deposit_account: str = ""
    receivable_account: str = ""
    method: str = ""
    reference: str = ""
    journal_entry: str | None = None
    allocations: tuple[PaymentAllocation, ...] = ()
    refunds: tuple[Refund, ...] = ()

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), money.ZERO)

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), money.ZERO)

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.allocated - self.refunded

    @property
    def status(self) -> str:
        if self.unallocated > 0:
            return "unallocated" if self.allocated == 0 else "partially_allocated"
        return "allocated" if self.allocated > 0 else "refunded"

    @classmethod
    def record(
        cls,
        *,
        id: str,
        customer: str,
        amount: Decimal,
        currency: str,
        date: Date,
        deposit_account: str,
        receivable_account: str,
        method: str = "",
        reference: str = "",
        journal_entry: str,
        chart: ChartOfAccounts,
    ) -> tuple["Payment", list[LineInput]]:
        """Record the payment; returns it and the lines of the journal entry it posts."""
        problems = Problems()
        for field_name, code in (("deposit_account", deposit_account), ("receivable_account", receivable_account)):
            problem = chart.postable_problem(code)
            if problem:
                problems.add(field_name, problem)
        problems.check(
            isinstance(customer, str) and 0 < len(customer.strip()) <= CUSTOMER_MAX,
            "customer",
            f"must be 1-{CUSTOMER_MAX} characters",
        )
        problems.check(len(method or "") <= TEXT_MAX, "method", f"must be at most {TEXT_MAX} characters")
        problems.check(len(reference or "") <= TEXT_MAX, "reference", f"must be at most {TEXT_MAX} characters")
        if problems.check(money.is_currency(currency), "currency", "is not an ISO 4217 currency"):
            try:
                amount = money.check_amount(amount, currency, "amount")
            except RuleViolation as violation:
                problems.errors.extend(violation.errors)
        problems.raise_if_any("the payment cannot be recorded")
        payment = cls(id=id)
        payment._record(
            PaymentRecorded(
                customer=customer.strip(),
                amount=amount,
                currency=currency,
                date=date,
                deposit_account=deposit_account,
                receivable_account=receivable_account,
                method=method or "",
                reference=reference or "",
                journal_entry=journal_entry,
            )
        )
        memo = f"Payment from {payment.customer}"
        return payment, [
            LineInput(account=deposit_account, debit=payment.amount, memo=memo),
            LineInput(account=receivable_account, credit=payment.amount, memo=memo),
        ]

    def allocate(self, invoice: Invoice, amount: Decimal, *, field: str = "amount") -> None:
        """Match part of this payment to an invoice of the same customer and currency;
        both aggregates change and are appended together."""
        problems = Problems()
        problems.check(
            invoice.customer == self.customer,
            "invoice",
            f"invoice {invoice.id} belongs to {invoice.customer!r}, not {self.customer!r}",
        )
        problems.check(
            invoice.currency == self.currency,
            "invoice",
            f"invoice {invoice.id} is in {invoice.currency}, the payment in {self.currency}",
        )
        problems.raise_if_any("the payment cannot be allocated")
        amount = money.check_amount(amount, self.currency, field)
        if amount > self.unallocated:
            raise RuleViolation.on(
                field, f"{amount} is more than the payment's unallocated {money.fmt(self.unallocated, self.currency)}"
            )
        invoice.apply_payment(payment=self.id, amount=amount, date=self.date)
        self._record(PaymentAllocated(invoice=invoice.id, amount=amount))

    def refund(self, *, amount: Decimal, date: Date, reason: str, journal_entry: str) -> list[LineInput]:
        """Refund from the unallocated amount; returns the lines of the journal entry."""
        amount = money.check_amount(amount, self.currency, "amount")
        if amount > self.unallocated:
            raise RuleViolation.on(
                "amount", f"{amount} is more than the unallocated {money.fmt(self.unallocated, self.currency)}"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise RuleViolation.on("reason", "a refund needs a reason")
        if date < self.date:
            raise RuleViolation.on("date", "a refund cannot be dated before the payment")
        self._record(PaymentRefunded(amount=amount, date=date, reason=reason.strip(), journal_entry=journal_entry))
        memo = f"Refund to {self.customer}"
        return [
            LineInput(account=self.receivable_account, debit=amount, memo=memo),
            LineInput(account=self.deposit_account, credit=amount, memo=memo),
        ]

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"payment cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: PaymentRecorded) -> None:
        self.customer, self.amount, self.currency, self.date = e.customer, e.amount, e.currency, e.date
        self.deposit_account, self.receivable_account = e.deposit_account, e.receivable_account
        self.method, self.reference, self.journal_entry = e.method, e.reference, e.journal_entry

    @apply.register
    def _(self, e: PaymentAllocated) -> None:
        self.allocations = (*self.allocations, PaymentAllocation(invoice=e.invoice, amount=e.amount))

    @apply.register
    def _(self, e: PaymentRefunded) -> None:
        self.refunds = (
            *self.refunds,
            Refund(amount=e.amount, date=e.date, reason=e.reason, journal_entry=e.journal_entry),
        )
