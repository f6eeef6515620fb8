"""A small company's books: a 40-account chart and four months of trading, posted
through the services like any accountant's work, so every report has something to say."""

import random
import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from finance import services
from finance.api.permissions import ROLES
from finance.domain.invoice import InvoiceLineInput
from finance.domain.journal import LineInput
from finance.domain.periods import period_of
from finance.services.clock import today
from finance.services.payments import AllocationInput
from ledger import models

ACTOR = "demo-seed"
CHART = [
    ("1000", "Cash and bank", "asset", None),
    ("1010", "Operating account", "asset", "1000"),
    ("1020", "Savings account", "asset", "1000"),
    ("1030", "Petty cash", "asset", "1000"),
    ("1100", "Accounts receivable", "asset", None),
    ("1200", "Inventory", "asset", None),
    ("1300", "Prepaid expenses", "asset", None),
    ("1500", "Equipment", "asset", None),
    ("1510", "Accumulated depreciation", "asset", "1500"),
    ("1600", "Vehicles", "asset", None),
    ("2000", "Accounts payable", "liability", None),
    ("2100", "Company credit card", "liability", None),
    ("2200", "Sales tax payable", "liability", None),
    ("2300", "Payroll liabilities", "liability", None),
    ("2400", "Accrued expenses", "liability", None),
    ("2500", "Unearned revenue", "liability", None),
    ("2700", "Bank loan", "liability", None),
    ("3000", "Owner's equity", "equity", None),
    ("3100", "Owner contributions", "equity", "3000"),
    ("3200", "Owner drawings", "equity", "3000"),
    ("3900", "Retained earnings", "equity", None),
    ("4000", "Sales", "revenue", None),
    ("4010", "Product sales", "revenue", "4000"),
    ("4020", "Service revenue", "revenue", "4000"),
    ("4100", "Consulting revenue", "revenue", None),
    ("4900", "Other income", "revenue", None),
    ("4910", "Interest income", "revenue", "4900"),
    ("5000", "Cost of goods sold", "expense", None),
    ("6000", "Operating expenses", "expense", None),
    ("6010", "Rent", "expense", "6000"),
    ("6020", "Utilities", "expense", "6000"),
    ("6030", "Salaries", "expense", "6000"),
    ("6040", "Payroll taxes", "expense", "6000"),
    ("6050", "Office supplies", "expense", "6000"),
    ("6060", "Software subscriptions", "expense", "6000"),
    ("6070", "Marketing", "expense", "6000"),
    ("6080", "Travel", "expense", "6000"),
    ("6090", "Insurance", "expense", "6000"),
    ("6100", "Professional fees", "expense", "6000"),
    ("6110", "Bank fees", "expense", "6000"),
    ("6120", "Depreciation", "expense", "6000"),
]
CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Enterprises"]
MONTHLY = [  # (description, expense account, credit account, amount)
    ("Office rent", "6010", "1010", Decimal("2400.00")),
    ("Salaries", "6030", "1010", Decimal("9800.00")),
    ("Payroll taxes", "6040", "2300", Decimal("760.00")),
    ("Electricity and internet", "6020", "2100", Decimal("318.40")),
    ("Software subscriptions", "6060", "2100", Decimal("212.00")),
]


def _d(value: str) -> Decimal:
    return Decimal(value)


class Command(BaseCommand):
    help = "Load the demo company (idempotent: does nothing when the chart exists)."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=4)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, months: int, seed: int, **options):
        login = self._ensure_login()
        if models.Account.objects.exists():
            self.stdout.write(f"demo data already loaded; login: {login}")
            return
        rng = random.Random(seed)
        for code, name, account_type, parent in CHART:
            services.account_open(code=code, name=name, type=account_type, parent=parent, actor=ACTOR)
        start = (today().replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
        self._post(start, "Owner's initial capital", [("1010", "50000.00", None), ("3100", None, "50000.00")])
        self._post(start, "Equipment purchase", [("1500", "12000.00", None), ("1010", None, "12000.00")])
        month = start
        invoices = []
        while month <= today():
            invoices += self._trade_month(month, rng)
            month = (month + timedelta(days=32)).replace(day=1)
        self._pay_invoices(invoices, rng)
        self._corrections(start, invoices)
        services.period_close(period=period_of(start), actor=ACTOR)
        self.stdout.write(
            f"demo company loaded: {models.Account.objects.count()} accounts, "
            f"{models.JournalEntry.objects.count()} journal entries, {models.Invoice.objects.count()} invoices; "
            f"login: {login}"
        )

    def _ensure_login(self) -> str:
        """A superuser ``demo`` whose random password lives only in var/ (not in git)."""
        secret_file = Path(settings.BASE_DIR) / "var" / "demo-login.txt"
        User = get_user_model()
        user = User.objects.filter(username="demo").first()
        if user is None or not secret_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username="demo", email="demo@example.com")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            secret_file.write_text(password)
        for role in ROLES:
            Group.objects.get_or_create(name=role)
        return f"demo / {secret_file.read_text().strip()}"

    def _post(self, day: date, description: str, lines, reference: str = "") -> str:
        entry = services.journal_entry_post(
            date=day,
            description=description,
            reference=reference,
            currency=settings.FINANCE_BASE_CURRENCY,
            lines=[
                LineInput(account=a, debit=_d(dr) if dr else None, credit=_d(cr) if cr else None) for a, dr, cr in lines
            ],
            actor=ACTOR,
        )
        return entry.id

    def _trade_month(self, month: date, rng: random.Random) -> list:
        end = min(today(), (month + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        for description, expense, credit, amount in MONTHLY:
            self._post(
                month + timedelta(days=rng.randint(0, 4)),
                f"{description} {month:%b %Y}",
                [(expense, str(amount), None), (credit, None, str(amount))],
            )
        self._post(end, f"Depreciation {month:%b %Y}", [("6120", "200.00", None), ("1510", None, "200.00")])
        issued = []
        for _ in range(rng.randint(4, 7)):
            day = month + timedelta(days=rng.randint(0, max(0, (end - month).days)))
            lines = [
                InvoiceLineInput(
                    description="Consulting hours",
                    quantity=Decimal(rng.randint(4, 40)),
                    unit_price=Decimal("145.00"),
                    account="4100",
                    tax_rate=Decimal("0.08"),
                ),
            ]
            if rng.random() < 0.5:
                lines.append(
                    InvoiceLineInput(
                        description="Support plan",
                        quantity=Decimal(1),
                        unit_price=Decimal("490.00"),
                        account="4020",
                        tax_rate=Decimal("0.08"),
                    )
                )
            invoice = services.invoice_create(
                customer=rng.choice(CUSTOMERS),
                currency=settings.FINANCE_BASE_CURRENCY,
                due_date=day + timedelta(days=30),
                lines=lines,
                actor=ACTOR,
            )
            issued.append(services.invoice_issue(invoice_id=invoice.id, issue_date=day, actor=ACTOR))
        return issued

    def _pay_invoices(self, invoices: list, rng: random.Random) -> None:
        for invoice in invoices:
            roll = rng.random()
            pay_day = min(today(), invoice.issue_date + timedelta(days=rng.randint(10, 45)))
            if roll < 0.55:  # paid in full
                amount = invoice.total
            elif roll < 0.75:  # paid in part
                amount = (invoice.total / 2).quantize(Decimal("0.01"))
            else:  # still open
                continue
            services.payment_record(
                customer=invoice.customer,
                amount=amount,
                currency=invoice.currency,
                date=pay_day,
                deposit_account="1010",
                method="bank transfer",
                reference=f"Remittance {invoice.number}",
                allocations=[AllocationInput(invoice=invoice.id, amount=amount)],
                actor=ACTOR,
            )

    def _corrections(self, start: date, invoices: list) -> None:
        # A prepayment left unapplied, then part of it refunded.
        credit = services.payment_record(
            customer="Globex",
            amount=Decimal("1500.00"),
            currency=settings.FINANCE_BASE_CURRENCY,
            date=today() - timedelta(days=12),
            deposit_account="1010",
            method="card",
            reference="Prepayment",
            actor=ACTOR,
        )
        services.payment_refund(
            payment_id=credit.id,
            amount=Decimal("250.00"),
            date=today() - timedelta(days=5),
            reason="Overpayment returned",
            actor=ACTOR,
        )
        # A mistaken entry, reversed.
        wrong = self._post(
            start + timedelta(days=40),
            "Office supplies (booked twice)",
            [("6050", "86.20", None), ("2100", None, "86.20")],
        )
        services.journal_entry_reverse(
            entry_id=wrong, date=start + timedelta(days=41), reason="Duplicate of the card statement line", actor=ACTOR
        )
        # An invoice sent to the wrong customer, voided; a draft still being prepared.
        wrong_invoice = services.invoice_create(
            customer="Initech",
            currency=settings.FINANCE_BASE_CURRENCY,
            due_date=today() + timedelta(days=30),
            lines=[
                InvoiceLineInput(
                    description="Workshop", quantity=Decimal(1), unit_price=Decimal("1200.00"), account="4100"
                )
            ],
            actor=ACTOR,
        )
        services.invoice_issue(invoice_id=wrong_invoice.id, issue_date=today() - timedelta(days=3), actor=ACTOR)
        services.invoice_void(invoice_id=wrong_invoice.id, reason="Billed to the wrong customer", actor=ACTOR)
        services.invoice_create(
            customer="Wayne Enterprises",
            currency=settings.FINANCE_BASE_CURRENCY,
            due_date=today() + timedelta(days=30),
            lines=[
                InvoiceLineInput(
                    description="Quarterly retainer",
                    quantity=Decimal(1),
                    unit_price=Decimal("3000.00"),
                    account="4100",
                    tax_rate=Decimal("0.08"),
                )
            ],
            actor=ACTOR,
        )
