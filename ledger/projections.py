"""Events → read models, run inline in the transaction that appended the events.

Journal entries, the chart and periods are projected event by event (lines and daily
totals only ever add up). Invoice and payment summaries are written from the
aggregate's state after the events, so status and figures have one definition: the
domain's.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import F

from finance.domain.aggregate import Aggregate
from finance.domain.chart import DEBIT_NORMAL, AccountOpened
from finance.domain.invoice import Invoice
from finance.domain.journal import JournalEntryPosted, JournalEntryReversed
from finance.domain.payment import Payment
from finance.domain.periods import PeriodClosed, PeriodReopened
from finance.eventstore.serialization import aggregate_id
from finance.eventstore.store import RecordedEvent
from finance.repository import to_domain_event
from ledger import models


def project(recorded: Iterable[RecordedEvent], aggregates: Iterable[Aggregate]) -> None:
    """Apply freshly appended events, and the aggregates they were appended from."""
    recorded = list(recorded)
    first_seen: dict[str, RecordedEvent] = {}
    for event in recorded:
        first_seen.setdefault(event.stream_id, event)
        handler = _EVENT_HANDLERS.get(event.type)
        if handler is not None:
            handler(to_domain_event(event), event)
    # Payments first: an invoice's allocation rows refer to the payment's row.
    for aggregate in sorted(aggregates, key=lambda a: not isinstance(a, Payment)):
        writer = _STATE_WRITERS.get(type(aggregate))
        if writer is not None and aggregate.stream_id in first_seen:
            writer(aggregate, first_seen[aggregate.stream_id])


# --- chart and periods --------------------------------------------------------------


def _account_opened(e: AccountOpened, recorded: RecordedEvent) -> None:
    models.Account.objects.create(
        code=e.code,
        name=e.name,
        type=e.type,
        parent=e.parent,
        active=True,
        normal_balance="debit" if e.type in DEBIT_NORMAL else "credit",
        version=1,
    )


def _account_changed(**fields):
    def handler(e, recorded: RecordedEvent) -> None:
        values = {key: getattr(e, key) if value is None else value for key, value in fields.items()}
        models.Account.objects.filter(code=e.code).update(version=F("version") + 1, **values)

    return handler


def _period_closed(e: PeriodClosed, recorded: RecordedEvent) -> None:
    models.ClosedPeriod.objects.create(period=e.period, closed_at=recorded.recorded_at)


def _period_reopened(e: PeriodReopened, recorded: RecordedEvent) -> None:
    models.ClosedPeriod.objects.filter(period=e.period).delete()


# --- journal ------------------------------------------------------------------------


def _journal_entry_posted(e: JournalEntryPosted, recorded: RecordedEvent) -> None:
    entry_id = aggregate_id(recorded.stream_id, recorded.stream_type)
    models.JournalEntry.objects.create(
        id=entry_id,
        date=e.date,
        description=e.description,
        reference=e.reference,
        currency=e.currency,
        source=e.source,
        source_id=e.source_id,
        status="posted",
        reverses=e.reverses,
        reversed_by=None,
        version=recorded.version,
        recorded_at=recorded.recorded_at,
        recorded_seq=recorded.sequence,
    )
    models.JournalLine.objects.bulk_create(
        models.JournalLine(
            entry_id=entry_id,
            line_no=number,
            date=e.date,
            account=line.account,
            currency=line.currency,
            debit=line.debit,
            credit=line.credit,
            memo=line.memo,
        )
        for number, line in enumerate(e.lines, start=1)
    )
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in e.lines:
        totals[(line.account, line.currency)][0] += line.debit
        totals[(line.account, line.currency)][1] += line.credit
    _add_daily_totals(e.date, totals)


def _add_daily_totals(day, totals: dict[tuple[str, str], list[Decimal]]) -> None:
    params: list = []
    for (account, currency), (debit, credit) in sorted(totals.items()):
        params += [account, currency, day, debit, credit]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_account_daily_total (account, currency, date, debit, credit) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(totals))
            + " ON CONFLICT (account, currency, date) DO UPDATE SET"
            " debit = ledger_account_daily_total.debit + excluded.debit,"
            " credit = ledger_account_daily_total.credit + excluded.credit",
            params,
        )


def _journal_entry_reversed(e: JournalEntryReversed, recorded: RecordedEvent) -> None:
    models.JournalEntry.objects.filter(id=aggregate_id(recorded.stream_id, recorded.stream_type)).update(
        status="reversed", reversed_by=e.reversal_id, version=recorded.version
    )


_EVENT_HANDLERS = {
    "AccountOpened": _account_opened,
    "AccountUpdated": _account_changed(name=None, parent=None),
    "AccountDeactivated": _account_changed(active=False),
    "AccountReactivated": _account_changed(active=True),
    "PeriodClosed": _period_closed,
    "PeriodReopened": _period_reopened,
    "JournalEntryPosted": _journal_entry_posted,
    "JournalEntryReversed": _journal_entry_reversed,
}


# --- invoices and payments ----------------------------------------------------------


def _write_invoice(invoice: Invoice, first: RecordedEvent) -> None:
    fields = {
        "number": invoice.number,
        "customer": invoice.customer,
        "currency": invoice.currency,
        "status": invoice.status,
        "lines": [
            {
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "account": line.account,
                "tax_rate": str(line.tax_rate),
                "net": str(line.net),
                "tax": str(line.tax),
            }
            for line in invoice.lines
        ],
        "subtotal": invoice.subtotal,
        "tax": invoice.tax,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "outstanding": invoice.outstanding,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "journal_entry": invoice.journal_entry,
        "receivable_account": invoice.receivable_account,
        "void_date": invoice.void_date,
        "void_reason": invoice.void_reason,
        "void_entry": invoice.void_entry,
        "version": invoice.version,
    }
    _upsert(models.Invoice, invoice.id, fields, first)
    existing = models.Allocation.objects.filter(invoice_id=invoice.id).count()
    models.Allocation.objects.bulk_create(
        models.Allocation(invoice_id=invoice.id, seq=seq, payment_id=a.payment, amount=a.amount, date=a.date)
        for seq, a in enumerate(invoice.allocations, start=1)
        if seq > existing
    )


def _write_payment(payment: Payment, first: RecordedEvent) -> None:
    fields = {
        "customer": payment.customer,
        "amount": payment.amount,
        "currency": payment.currency,
        "date": payment.date,
        "deposit_account": payment.deposit_account,
        "receivable_account": payment.receivable_account,
        "method": payment.method,
        "reference": payment.reference,
        "allocated": payment.allocated,
        "refunded": payment.refunded,
        "unallocated": payment.unallocated,
        "status": payment.status,
        "journal_entry": payment.journal_entry,
        "version": payment.version,
    }
    _upsert(models.Payment, payment.id, fields, first)
    existing = models.Refund.objects.filter(payment_id=payment.id).count()
    models.Refund.objects.bulk_create(
        models.Refund(
            payment_id=payment.id, seq=seq, amount=r.amount, date=r.date, reason=r.reason, journal_entry=r.journal_entry
        )
        for seq, r in enumerate(payment.refunds, start=1)
        if seq > existing
    )


def _upsert(model, pk: str, fields: dict, first: RecordedEvent) -> None:
    if not model.objects.filter(pk=pk).update(**fields):
        model.objects.create(pk=pk, created_at=first.recorded_at, recorded_seq=first.sequence, **fields)


_STATE_WRITERS = {Invoice: _write_invoice, Payment: _write_payment}
