"""Random sequences of domain commands, valid and not, straight on the aggregates (no
database): each command either succeeds or raises one of the domain's own errors and
changes nothing; after every step the books hold — each entry balances per currency,
no invoice is overpaid, no payment hands out more than it holds, the receivable
account equals what customers owe less their credit, and replaying the events rebuilds
every aggregate. (tests/ledger/test_invariants.py runs the same idea through the
services and the database.)"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from finance.domain.chart import ChartOfAccounts
from finance.domain.errors import DomainError
from finance.domain.invoice import Invoice, InvoiceLineInput
from finance.domain.journal import JournalEntry, LineInput
from finance.domain.payment import Payment
from finance.domain.periods import Periods

RECEIVABLE, TAX, CASH = "1100", "2200", "1000"
ACCOUNTS = {
    CASH: "asset",
    RECEIVABLE: "asset",
    TAX: "liability",
    "3000": "equity",
    "4000": "revenue",
    "5000": "expense",
}
START = date(2026, 1, 1)

days = st.integers(min_value=0, max_value=120).map(lambda n: START + timedelta(days=n))
good_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2)
amounts = st.one_of(good_amounts, good_amounts, st.sampled_from([Decimal(0), Decimal("-5.00"), Decimal("0.001")]))
currencies = st.sampled_from(["USD", "USD", "EUR", "JPY"])
customers = st.sampled_from(["ACME", "Globex"])
picks = st.integers(min_value=0, max_value=1_000)


def copy(aggregate):
    """A working copy, as a unit of work loads it: changed, then kept or thrown away.
    It keeps the events so far (nothing here is ever stored) for the replay check."""
    clone = type(aggregate).from_state(aggregate.to_state(), aggregate.version)
    clone.pending = list(aggregate.pending)
    return clone


class Books(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.chart = ChartOfAccounts(id="chart")
        for code, account_type in ACCOUNTS.items():
            self.chart.open_account(code=code, name=code, type=account_type, parent=None)
        self.periods = Periods(id="periods")
        self.entries: dict[str, JournalEntry] = {}
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, Payment] = {}
        self.invoice_entries: dict[str, str] = {}  # invoice id → the entry its issue posted
        self.numbers = 0
        self.refused = 0

    # --- helpers --------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self.numbers += 1
        return f"{prefix}-{self.numbers}"

    def _post(self, lines, day, currency, source="manual", source_id=None, reverses=None) -> JournalEntry:
        return JournalEntry.post(
            id=self._new_id("entry"),
            date=day,
            description="random",
            currency=currency,
            lines=lines,
            chart=self.chart,
            periods=self.periods,
            source=source,
            source_id=source_id,
            reverses=reverses,
            # As the services post: manual lines never touch the receivable.
            control_accounts=frozenset({RECEIVABLE}) if source == "manual" else frozenset(),
        )

    def _attempt(self, command) -> None:
        """Run a use case on working copies; it keeps them only if every step succeeds.
        Anything but a DomainError fails the test."""
        try:
            command()
        except DomainError:
            self.refused += 1

    @staticmethod
    def _checked(step, *aggregates):
        """One command method: if it refuses, the aggregates it was called on are as
        they were (every rule is checked before anything changes)."""
        before = [(a.to_state(), len(a.pending)) for a in aggregates]
        try:
            return step()
        except DomainError:
            assert [(a.to_state(), len(a.pending)) for a in aggregates] == before
            raise

    def _pick(self, items: dict, index: int):
        keys = sorted(items)
        return keys[index % len(keys)]

    # --- commands -------------------------------------------------------------------

    @rule(
        day=days,
        currency=currencies,
        lines=st.lists(st.tuples(st.sampled_from(sorted(ACCOUNTS)), st.booleans(), amounts), min_size=1, max_size=4),
    )
    def post_entry(self, day, currency, lines):
        def command():
            entry = self._post(
                [
                    LineInput(account=a, debit=x if debit else None, credit=None if debit else x)
                    for a, debit, x in lines
                ],
                day,
                currency,
            )
            self.entries[entry.id] = entry

        self._attempt(command)

    @precondition(lambda self: self.entries)
    @rule(pick=picks, day=days)
    def reverse_entry(self, pick, day):
        original = copy(self.entries[self._pick(self.entries, pick)])

        def command():
            reversal = self._checked(
                lambda: original.reverse(
                    reversal_id=self._new_id("entry"), date=day, reason="random", chart=self.chart, periods=self.periods
                ),
                original,
            )
            self.entries[original.id] = original
            self.entries[reversal.id] = reversal

        self._attempt(command)

    @rule(customer=customers, currency=currencies, price=amounts, rate=st.sampled_from(["0", "0.2", "0.075"]), due=days)
    def draft_invoice(self, customer, currency, price, rate, due):
        def command():
            invoice = Invoice.draft(
                id=self._new_id("invoice"),
                customer=customer,
                currency=currency,
                due_date=due,
                lines=[InvoiceLineInput("x", Decimal("1.5"), price, "4000", Decimal(rate))],
            )
            self.invoices[invoice.id] = invoice

        self._attempt(command)

    @precondition(lambda self: self.invoices)
    @rule(pick=picks, day=days)
    def issue_invoice(self, pick, day):
        invoice = copy(self.invoices[self._pick(self.invoices, pick)])

        def command():
            entry_id = f"issue-of-{invoice.id}"
            lines = self._checked(
                lambda: invoice.issue(
                    number=self._new_id("INV"),
                    issue_date=day,
                    journal_entry=entry_id,
                    receivable_account=RECEIVABLE,
                    tax_account=TAX,
                    chart=self.chart,
                ),
                invoice,
            )
            entry = self._post(lines, day, invoice.currency, source="invoice", source_id=invoice.id)
            self.invoices[invoice.id] = invoice
            self.entries[entry.id] = entry
            self.invoice_entries[invoice.id] = entry.id

        self._attempt(command)

    @precondition(lambda self: self.invoices)
    @rule(pick=picks, day=days)
    def void_invoice(self, pick, day):
        invoice = copy(self.invoices[self._pick(self.invoices, pick)])
        posted = self.invoice_entries.get(invoice.id)

        def command():
            was_issued = self._checked(lambda: invoice.void(reason="random", date=day, journal_entry="r"), invoice)
            if was_issued and posted:
                original = copy(self.entries[posted])
                reversal = original.reverse(
                    reversal_id=self._new_id("entry"),
                    date=day,
                    reason="void",
                    chart=self.chart,
                    periods=self.periods,
                    document=invoice.id,
                )
                self.entries[original.id] = original
                self.entries[reversal.id] = reversal
            self.invoices[invoice.id] = invoice

        self._attempt(command)

    @rule(customer=customers, currency=currencies, amount=amounts, day=days)
    def record_payment(self, customer, currency, amount, day):
        def command():
            payment, lines = Payment.record(
                id=self._new_id("payment"),
                customer=customer,
                amount=amount,
                currency=currency,
                date=day,
                deposit_account=CASH,
                receivable_account=RECEIVABLE,
                journal_entry="recorded",
                chart=self.chart,
            )
            entry = self._post(lines, day, currency, source="payment", source_id=payment.id)
            self.payments[payment.id] = payment
            self.entries[entry.id] = entry

        self._attempt(command)

    @precondition(lambda self: self.payments and self.invoices)
    @rule(payment_pick=picks, invoice_pick=picks, amount=amounts)
    def allocate(self, payment_pick, invoice_pick, amount):
        payment = copy(self.payments[self._pick(self.payments, payment_pick)])
        invoice = copy(self.invoices[self._pick(self.invoices, invoice_pick)])

        def command():
            self._checked(lambda: payment.allocate(invoice, amount), payment, invoice)
            self.payments[payment.id], self.invoices[invoice.id] = payment, invoice

        self._attempt(command)

    @precondition(lambda self: self.payments)
    @rule(pick=picks, amount=amounts, day=days)
    def refund(self, pick, amount, day):
        payment = copy(self.payments[self._pick(self.payments, pick)])

        def command():
            lines = self._checked(
                lambda: payment.refund(amount=amount, date=day, reason="random", journal_entry="refund"), payment
            )
            entry = self._post(lines, day, payment.currency, source="payment", source_id=payment.id)
            self.payments[payment.id] = payment
            self.entries[entry.id] = entry

        self._attempt(command)

    @rule(day=days, close=st.booleans())
    def period(self, day, close):
        periods = copy(self.periods)

        def command():
            month = f"{day:%Y-%m}"
            self._checked(lambda: periods.close(month) if close else periods.reopen(month, reason="r"), periods)
            self.periods = periods

        self._attempt(command)

    @rule(code=st.sampled_from(sorted(ACCOUNTS)), deactivate=st.booleans(), balance_is_zero=st.booleans())
    def account_state(self, code, deactivate, balance_is_zero):
        chart = copy(self.chart)

        def command():
            self._checked(
                lambda: (
                    chart.deactivate(code, balance_is_zero=balance_is_zero) if deactivate else chart.reactivate(code)
                ),
                chart,
            )
            self.chart = chart

        self._attempt(command)

    # --- invariants -----------------------------------------------------------------

    @invariant()
    def every_entry_balances_per_currency(self):
        for entry in self.entries.values():
            totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
            for line in entry.lines:
                totals[line.currency or entry.currency][0] += line.debit or 0
                totals[line.currency or entry.currency][1] += line.credit or 0
            assert all(debit == credit for debit, credit in totals.values()), entry

    @invariant()
    def no_invoice_is_overpaid_and_no_payment_overspent(self):
        paid_from = defaultdict(Decimal)
        for invoice in self.invoices.values():
            applied = sum((a.amount for a in invoice.allocations), Decimal(0))
            assert invoice.amount_paid == applied
            assert invoice.outstanding >= 0
            assert invoice.total == invoice.subtotal + invoice.tax
            for allocation in invoice.allocations:
                paid_from[allocation.payment] += allocation.amount
        for payment in self.payments.values():
            assert payment.unallocated == payment.amount - payment.allocated - payment.refunded >= 0
            assert payment.allocated == paid_from[payment.id]

    @invariant()
    def the_receivable_is_what_customers_owe_less_their_credit(self):
        balance = defaultdict(Decimal)
        for entry in self.entries.values():
            for line in entry.lines:
                if line.account == RECEIVABLE:
                    balance[line.currency or entry.currency] += (line.debit or 0) - (line.credit or 0)
        owed = defaultdict(Decimal)
        for invoice in self.invoices.values():
            if invoice.status in ("issued", "partially_paid", "paid"):
                owed[invoice.currency] += invoice.outstanding
        for payment in self.payments.values():
            owed[payment.currency] -= payment.unallocated
        for currency in set(balance) | set(owed):
            assert balance[currency] == owed[currency], (currency, balance, owed)

    @invariant()
    def replaying_the_events_rebuilds_every_aggregate(self):
        for aggregate in [*self.entries.values(), *self.invoices.values(), *self.payments.values(), self.chart]:
            rebuilt = type(aggregate)(id=aggregate.id)
            rebuilt.replay(list(aggregate.pending), len(aggregate.pending))
            assert rebuilt.to_state() == aggregate.to_state()


TestBooks = Books.TestCase
