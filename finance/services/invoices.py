"""Drafting, editing, issuing and voiding invoices."""

import uuid
from datetime import date as Date

from django.conf import settings

from finance import repository
from finance.domain.invoice import Invoice, InvoiceLineInput
from finance.domain.journal import JournalEntry
from finance.domain.numbering import InvoiceNumbering
from finance.eventstore import store
from finance.services.clock import today
from finance.services.unit_of_work import commit, load_books, load_existing, run


def invoice_create(
    *, customer: str, currency: str, due_date: Date, lines: list[InvoiceLineInput], actor: str
) -> Invoice:
    invoice_id = str(uuid.uuid4())

    def command() -> Invoice:
        invoice = Invoice.draft(id=invoice_id, customer=customer, currency=currency, due_date=due_date, lines=lines)
        commit([invoice], actor=actor)
        return invoice

    return run(command)


def invoice_update(
    *,
    invoice_id: str,
    customer: str | None = None,
    due_date: Date | None = None,
    lines: list[InvoiceLineInput] | None = None,
    if_match: int | None = None,
    actor: str,
) -> Invoice:
    def command() -> Invoice:
        invoice = load_existing(Invoice, invoice_id, if_match=if_match)
        invoice.update_draft(customer=customer, due_date=due_date, lines=lines)
        commit([invoice], actor=actor)
        return invoice

    return run(command, if_match=if_match, target=Invoice.stream_id_for(invoice_id))


def invoice_issue(
    *, invoice_id: str, issue_date: Date | None = None, if_match: int | None = None, actor: str
) -> Invoice:
    """Give the draft the next number of its year and post it: Dr receivable, Cr revenue
    per account, Cr tax. Invoice, number and journal entry commit together."""
    entry_id = str(uuid.uuid4())

    def command() -> Invoice:
        chart, periods = load_books()
        invoice = load_existing(Invoice, invoice_id, if_match=if_match)
        day = issue_date or today()
        # Every issue of the year appends to this one stream: queue on its row rather
        # than load it, lose the race to append and retry (under load the retries ran
        # out; docs/performance.md "Load test").
        store.lock_stream_exclusive(InvoiceNumbering.stream_id_for(str(day.year)))
        numbering = repository.load(InvoiceNumbering, str(day.year))
        number = numbering.assign(invoice.id) if invoice.status == "draft" else ""
        lines = invoice.issue(
            number=number,
            issue_date=day,
            journal_entry=entry_id,
            receivable_account=settings.FINANCE_RECEIVABLE_ACCOUNT,
            tax_account=settings.FINANCE_TAX_ACCOUNT,
            chart=chart,
        )
        entry = JournalEntry.post(
            id=entry_id,
            date=day,
            description=f"Invoice {number} to {invoice.customer}",
            reference=number,
            currency=invoice.currency,
            lines=lines,
            chart=chart,
            periods=periods,
            source="invoice",
            source_id=invoice.id,
        )
        commit([invoice, numbering, entry], actor=actor)
        return invoice

    return run(command, if_match=if_match, target=Invoice.stream_id_for(invoice_id))


def invoice_void(
    *, invoice_id: str, reason: str, date: Date | None = None, if_match: int | None = None, actor: str
) -> Invoice:
    """Void an invoice with nothing allocated; an issued one gets its posting reversed."""
    reversal_id = str(uuid.uuid4())

    def command() -> Invoice:
        chart, periods = load_books()
        invoice = load_existing(Invoice, invoice_id, if_match=if_match)
        day = date or max(today(), invoice.issue_date or today())
        changed: list = [invoice]
        if invoice.void(reason=reason, date=day, journal_entry=reversal_id):
            original = load_existing(JournalEntry, invoice.journal_entry)
            changed += [
                original,
                original.reverse(
                    reversal_id=reversal_id,
                    date=day,
                    reason=f"invoice {invoice.number} void: {reason}",
                    chart=chart,
                    periods=periods,
                    document=invoice.id,
                ),
            ]
        commit(changed, actor=actor)
        return invoice

    return run(command, if_match=if_match, target=Invoice.stream_id_for(invoice_id))
