"""Random sequences of valid and invalid commands, through the services, must keep every
invariant of the books."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from finance import repository, services
from finance.domain.errors import DomainError
from finance.domain.invoice import Invoice, InvoiceLineInput
from finance.domain.journal import JournalEntry, LineInput
from finance.domain.payment import Payment
from finance.eventstore import store
from finance.services.payments import AllocationInput
from ledger import models, rebuild, selectors

ACCOUNTS = ["1000", "1100", "2200", "3000", "4000", "4100", "5000"]
START = date(2026, 1, 1)

days = st.integers(min_value=0, max_value=150).map(lambda n: START + timedelta(days=n))
valid_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
amounts = st.one_of(
    valid_amounts, valid_amounts, valid_amounts, st.sampled_from([Decimal("-1.00"), Decimal(0), Decimal("1.005")])
)
currencies = st.sampled_from(["USD", "USD", "EUR"])
picks = st.integers(min_value=0, max_value=10_000)

commands = st.one_of(
    st.tuples(
        st.just("entry"),
        days,
        currencies,
        st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.booleans(), amounts), min_size=1, max_size=4),
    ),
    st.tuples(st.just("balanced"), days, currencies, st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), amounts),
    st.tuples(
        st.just("invoice"),
        days,
        currencies,
        st.sampled_from(["ACME", "Globex"]),
        amounts,
        st.sampled_from(["0", "0.2", "0.075"]),
        st.booleans(),
    ),
    st.tuples(st.just("payment"), days, currencies, st.sampled_from(["ACME", "Globex"]), amounts, st.none() | picks),
    st.tuples(st.just("allocate"), picks, picks, amounts),
    st.tuples(st.just("refund"), picks, amounts, days),
    st.tuples(st.just("void"), picks),
    st.tuples(st.just("reverse"), picks, days),
    st.tuples(st.just("period"), days, st.booleans()),
    st.tuples(st.just("deactivate"), st.sampled_from(ACCOUNTS), st.booleans()),
)


def pick(ids: list[str], index: int) -> str | None:
    return ids[index % len(ids)] if ids else None


def run(command, known: dict[str, list[str]]) -> None:
    kind, *args = command
    if kind == "entry":
        day, currency, lines = args
        services.journal_entry_post(
            date=day,
            description="random",
            currency=currency,
            actor="prop",
            lines=[
                LineInput(account=a, debit=x if is_debit else None, credit=None if is_debit else x)
                for a, is_debit, x in lines
            ],
        )
    elif kind == "balanced":
        day, currency, debit, credit, amount = args
        entry = services.journal_entry_post(
            date=day,
            description="balanced",
            currency=currency,
            actor="prop",
            lines=[LineInput(account=debit, debit=amount), LineInput(account=credit, credit=amount)],
        )
        known["entries"].append(entry.id)
    elif kind == "invoice":
        day, currency, customer, price, rate, issue = args
        invoice = services.invoice_create(
            customer=customer,
            currency=currency,
            due_date=day + timedelta(days=30),
            actor="prop",
            lines=[
                InvoiceLineInput(
                    description="x", quantity=Decimal("1.5"), unit_price=price, account="4000", tax_rate=Decimal(rate)
                )
            ],
        )
        known["invoices"].append(invoice.id)
        if issue:
            services.invoice_issue(invoice_id=invoice.id, issue_date=day, actor="prop")
    elif kind == "payment":
        day, currency, customer, amount, invoice_pick = args
        invoice = pick(known["invoices"], invoice_pick) if invoice_pick is not None else None
        allocations = [AllocationInput(invoice=invoice, amount=amount / 2)] if invoice and amount > 0 else []
        payment = services.payment_record(
            customer=customer,
            amount=amount,
            currency=currency,
            date=day,
            deposit_account="1000",
            allocations=allocations,
            actor="prop",
        )
        known["payments"].append(payment.id)
    elif kind == "allocate":
        payment, invoice, amount = pick(known["payments"], args[0]), pick(known["invoices"], args[1]), args[2]
        if payment and invoice:
            services.payment_allocate(payment_id=payment, invoice_id=invoice, amount=amount, actor="prop")
    elif kind == "refund":
        payment, amount, day = pick(known["payments"], args[0]), args[1], args[2]
        if payment:
            services.payment_refund(payment_id=payment, amount=amount, date=day, reason="r", actor="prop")
    elif kind == "void":
        invoice = pick(known["invoices"], args[0])
        if invoice:
            services.invoice_void(invoice_id=invoice, reason="random", actor="prop")
    elif kind == "reverse":
        entry, day = pick(known["entries"], args[0]), args[1]
        if entry:
            services.journal_entry_reverse(entry_id=entry, date=day, reason="random", actor="prop")
    elif kind == "period":
        day, close = args
        period = f"{day:%Y-%m}"
        (services.period_close if close else services.period_reopen)(period=period, actor="prop")
    elif kind == "deactivate":
        code, deactivate = args
        (services.account_deactivate if deactivate else services.account_reactivate)(code=code, actor="prop")


def assert_books_hold() -> None:
    for as_of in (date(2026, 1, 31), date(2026, 3, 15), date(2026, 12, 31)):
        trial = selectors.trial_balance(as_of)
        for currency, totals in trial["totals"].items():
            assert totals["debit"] == totals["credit"], (as_of, currency, totals)
        receivable = {row["currency"]: Decimal(row["balance"]) for row in trial["rows"] if row["account"] == "1100"}
        aging = selectors.ar_aging(as_of)["totals"]
        for currency in set(receivable) | set(aging):
            assert Decimal(aging.get(currency, {}).get("total", "0")) == receivable.get(currency, 0), (as_of, currency)
    for invoice in models.Invoice.objects.all():
        paid = sum((a.amount for a in invoice.allocation_rows.all()), Decimal(0))
        assert invoice.amount_paid == paid
        if invoice.status in ("issued", "partially_paid", "paid"):
            assert invoice.outstanding == invoice.total - paid >= 0
        else:
            assert invoice.outstanding == 0
    for payment in models.Payment.objects.all():
        assert payment.unallocated == payment.amount - payment.allocated - payment.refunded >= 0
    assert set(rebuild.verify().values()) == {0}
    for stream_id, stream_type in store.all_stream_ids():
        cls = repository.AGGREGATE_TYPES[stream_type]
        if cls in (Invoice, Payment, JournalEntry):
            aggregate_id = stream_id[len(cls.TYPE) + 1 :]
            repository.snapshot(stream_id, stream_type)
            assert (
                repository.load(cls, aggregate_id).to_state()
                == repository.load(cls, aggregate_id, use_snapshots=False).to_state()
            )


@pytest.mark.django_db
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(commands, min_size=1, max_size=25))
def test_random_commands_keep_every_invariant(chart, history):
    with transaction.atomic():  # each example starts from the same books
        check_history(history)
        transaction.set_rollback(True)


def check_history(history) -> None:
    known: dict[str, list[str]] = {"entries": [], "invoices": [], "payments": []}
    for command in history:
        try:
            run(command, known)
        except DomainError:
            event(f"refused {command[0]}")  # refused commands must leave no trace (checked below)
            continue
        event(f"ran {command[0]}")
    assert_books_hold()
