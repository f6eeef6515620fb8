"""Recording, allocating and refunding customer payments."""

import uuid
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from django.conf import settings

from finance import repository
from finance.domain.errors import DomainError, FieldError, RuleViolation
from finance.domain.invoice import Invoice
from finance.domain.journal import JournalEntry
from finance.domain.payment import Payment
from finance.services.unit_of_work import commit, load_books, load_existing, run


@dataclass(frozen=True)
class AllocationInput:
    invoice: str
    amount: Decimal


def _load_invoice_for_allocation(invoice_id: str, field: str) -> Invoice:
    invoice = repository.load(Invoice, invoice_id)
    if invoice.version == 0:
        raise RuleViolation.on(field, f"invoice {invoice_id} does not exist")
    return invoice


def _prefixed(error: DomainError, prefix: str) -> DomainError:
    if isinstance(error, RuleViolation):
        return RuleViolation(error.detail, [FieldError(f"{prefix}.{e.field}", e.message) for e in error.errors])
    return error


def payment_record(
    *,
    customer: str,
    amount: Decimal,
    currency: str,
    date: Date,
    deposit_account: str,
    method: str = "",
    reference: str = "",
    allocations: list[AllocationInput] = (),
    actor: str,
) -> Payment:
    """Record a payment (Dr deposit / Cr receivable) and, optionally, allocate it — all
    in one atomic append with the invoices it pays."""
    payment_id, entry_id = str(uuid.uuid4()), str(uuid.uuid4())

    def command() -> Payment:
        chart, periods = load_books()
        payment, lines = Payment.record(
            id=payment_id,
            customer=customer,
            amount=amount,
            currency=currency,
            date=date,
            deposit_account=deposit_account,
            receivable_account=settings.FINANCE_RECEIVABLE_ACCOUNT,
            method=method,
            reference=reference,
            journal_entry=entry_id,
            chart=chart,
        )
        entry = JournalEntry.post(
            id=entry_id,
            date=date,
            description=f"Payment from {payment.customer}",
            reference=reference,
            currency=currency,
            lines=lines,
            chart=chart,
            periods=periods,
            source="payment",
            source_id=payment_id,
        )
        invoices: dict[str, Invoice] = {}
        for index, allocation in enumerate(allocations):
            where = f"allocations[{index}]"
            invoice = invoices.get(allocation.invoice) or _load_invoice_for_allocation(
                allocation.invoice, f"{where}.invoice"
            )
            invoices[invoice.id] = invoice
            try:
                payment.allocate(invoice, allocation.amount)
            except DomainError as error:
                raise _prefixed(error, where) from None
        commit([payment, entry, *invoices.values()], actor=actor)
        return payment

    return run(command)


def payment_allocate(
    *, payment_id: str, invoice_id: str, amount: Decimal, if_match: int | None = None, actor: str
) -> Payment:
    """Match part of the payment to an invoice; both change in one atomic append."""

    def command() -> Payment:
        payment = load_existing(Payment, payment_id, if_match=if_match)
        invoice = _load_invoice_for_allocation(invoice_id, "invoice")
        payment.allocate(invoice, amount)
        commit([payment, invoice], actor=actor)
        return payment

    return run(command, if_match=if_match, target=Payment.stream_id_for(payment_id))


def payment_refund(
    *, payment_id: str, amount: Decimal, date: Date, reason: str, if_match: int | None = None, actor: str
) -> Payment:
    """Refund from the unallocated amount: Dr receivable / Cr deposit account."""
    entry_id = str(uuid.uuid4())

    def command() -> Payment:
        chart, periods = load_books()
        payment = load_existing(Payment, payment_id, if_match=if_match)
        lines = payment.refund(amount=amount, date=date, reason=reason, journal_entry=entry_id)
        entry = JournalEntry.post(
            id=entry_id,
            date=date,
            description=f"Refund to {payment.customer}: {reason}"[:500],
            reference=payment.reference,
            currency=payment.currency,
            lines=lines,
            chart=chart,
            periods=periods,
            source="payment",
            source_id=payment_id,
        )
        commit([payment, entry], actor=actor)
        return payment

    return run(command, if_match=if_match, target=Payment.stream_id_for(payment_id))
