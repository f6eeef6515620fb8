from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.domain.chart import ChartOfAccounts
from finance.domain.errors import RuleViolation, StateConflict
from finance.domain.invoice import Invoice, InvoiceLineInput
from finance.domain.journal import JournalEntry, LineInput
from finance.domain.payment import Payment
from finance.domain.periods import Periods


@pytest.fixture
def chart() -> ChartOfAccounts:
    chart = ChartOfAccounts(id="t")
    for code, account_type in (("1000", "asset"), ("1100", "asset"), ("2200", "liability"), ("4000", "revenue")):
        chart.open_account(code=code, name=code, type=account_type, parent=None)
    return chart


def post(chart, lines, day=date(2026, 1, 5), periods=None):
    return JournalEntry.post(
        id="e", date=day, description="d", currency="USD", lines=lines, chart=chart, periods=periods or Periods(id="p")
    )


def test_chart_keeps_a_tree_of_one_type(chart):
    chart.open_account(code="1010", name="Till", type="asset", parent="1000")
    with pytest.raises(RuleViolation):
        chart.open_account(code="4010", name="x", type="revenue", parent="1000")
    with pytest.raises(RuleViolation):
        chart.update_account("1000", parent="1010")
    with pytest.raises(StateConflict):
        chart.open_account(code="1000", name="Again", type="asset", parent=None)
    assert chart.get("1010").normal_balance == "debit"
    assert chart.get("4000").normal_balance == "credit"


@given(st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2), min_size=1, max_size=8))
def test_any_balanced_set_of_lines_posts_and_any_unbalanced_one_does_not(amounts):
    chart = ChartOfAccounts(id="t")
    chart.open_account(code="1000", name="Cash", type="asset", parent=None)
    chart.open_account(code="4000", name="Sales", type="revenue", parent=None)
    debits = [LineInput(account="1000", debit=a) for a in amounts]
    entry = post(chart, [*debits, LineInput(account="4000", credit=sum(amounts))])
    assert sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines)
    with pytest.raises(RuleViolation):
        post(chart, [*debits, LineInput(account="4000", credit=sum(amounts) + Decimal("0.01"))])


def test_closed_periods_refuse_postings(chart):
    periods = Periods(id="p")
    periods.close("2026-01")
    with pytest.raises(RuleViolation) as refused:
        post(chart, [LineInput("1000", debit=Decimal(1)), LineInput("4000", credit=Decimal(1))], periods=periods)
    assert refused.value.errors[0].field == "date"
    periods.reopen("2026-01")
    assert post(chart, [LineInput("1000", debit=Decimal(1)), LineInput("4000", credit=Decimal(1))], periods=periods)


def issued_invoice(chart, total=Decimal("100.00")) -> Invoice:
    invoice = Invoice.draft(
        id="i",
        customer="ACME",
        currency="USD",
        due_date=date(2026, 2, 1),
        lines=[InvoiceLineInput("x", Decimal(1), total, "4000")],
    )
    invoice.issue(
        number="INV-2026-000001",
        issue_date=date(2026, 1, 2),
        journal_entry="j",
        receivable_account="1100",
        tax_account="2200",
        chart=chart,
    )
    return invoice


def record(chart, amount: str, customer: str = "ACME") -> Payment:
    payment, _ = Payment.record(
        id="p",
        customer=customer,
        amount=Decimal(amount),
        currency="USD",
        date=date(2026, 1, 10),
        deposit_account="1000",
        receivable_account="1100",
        journal_entry="j2",
        chart=chart,
    )
    return payment


def test_invoice_status_follows_its_allocations(chart):
    invoice, payment = issued_invoice(chart), record(chart, "150.00")
    payment.allocate(invoice, Decimal("40.00"))
    assert (invoice.status, invoice.outstanding, payment.status) == (
        "partially_paid",
        Decimal("60.00"),
        "partially_allocated",
    )
    payment.allocate(invoice, Decimal("60.00"))
    assert (invoice.status, invoice.outstanding, payment.unallocated) == ("paid", 0, Decimal("50.00"))
    with pytest.raises(StateConflict):
        payment.allocate(invoice, Decimal("1.00"))
    with pytest.raises(StateConflict):
        invoice.void(reason="x", date=date(2026, 1, 20), journal_entry=None)


def test_payments_never_allocate_or_refund_more_than_they_hold(chart):
    invoice, payment = issued_invoice(chart, Decimal("500.00")), record(chart, "50.00")
    with pytest.raises(RuleViolation):
        payment.allocate(invoice, Decimal("50.01"))
    payment.refund(amount=Decimal("20.00"), date=date(2026, 1, 11), reason="r", journal_entry="j3")
    with pytest.raises(RuleViolation):
        payment.allocate(invoice, Decimal("30.01"))
    with pytest.raises(RuleViolation):
        payment.refund(amount=Decimal("30.01"), date=date(2026, 1, 11), reason="r", journal_entry="j4")
    with pytest.raises(RuleViolation):
        record(chart, "10.00", customer="Globex").allocate(invoice, Decimal("1.00"))


def test_events_replay_to_the_same_state(chart):
    invoice, payment = issued_invoice(chart), record(chart, "100.00")
    payment.allocate(invoice, Decimal("100.00"))
    replayed = Invoice(id="i")
    replayed.replay(list(invoice.pending), len(invoice.pending))
    assert replayed.to_state() == invoice.to_state()
    assert Invoice.from_state(invoice.to_state(), 3).to_state() == invoice.to_state()


def test_an_entry_a_document_posted_is_reversed_only_by_that_document(chart):
    lines = [LineInput("1000", debit=Decimal(5)), LineInput("4000", credit=Decimal(5))]
    entry = JournalEntry.post(
        id="e", date=date(2026, 1, 5), description="d", currency="USD", lines=lines, chart=chart,
        periods=Periods(id="p"), source="invoice", source_id="inv-1",
    )  # fmt: skip
    with pytest.raises(RuleViolation) as refused:
        entry.reverse(reversal_id="r", date=date(2026, 1, 6), reason="x", chart=chart, periods=Periods(id="p"))
    assert refused.value.errors[0].field == "entry"
    assert entry.status == "posted"
    reversal = entry.reverse(
        reversal_id="r", date=date(2026, 1, 6), reason="x", chart=chart, periods=Periods(id="p"), document="inv-1"
    )
    assert entry.status == "reversed"
    assert reversal.reverses == "e"
