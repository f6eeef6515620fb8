"""Books set up the way an accountant would: through the services, never the ORM."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User

from finance import services
from finance.domain.invoice import InvoiceLineInput
from finance.domain.journal import LineInput
from finance.services.payments import AllocationInput

ACTOR = "setup"
CHART = [
    ("1000", "Cash", "asset", None),
    ("1010", "Petty cash", "asset", "1000"),
    ("1100", "Receivables", "asset", None),
    ("2200", "Sales tax payable", "liability", None),
    ("3000", "Owner's equity", "equity", None),
    ("4000", "Revenue", "revenue", None),
    ("4100", "Consulting", "revenue", "4000"),
    ("5000", "Expenses", "expense", None),
]


def open_chart() -> None:
    for code, name, type_, parent in CHART:
        services.account_open(code=code, name=name, type=type_, parent=parent, actor=ACTOR)


def post(day: date, description: str, debit: str, credit: str, amount: str, currency: str = "USD"):
    return services.journal_entry_post(
        date=day,
        description=description,
        currency=currency,
        lines=[LineInput(account=debit, debit=Decimal(amount)), LineInput(account=credit, credit=Decimal(amount))],
        actor=ACTOR,
    )


def draft_invoice(customer: str, due: date, quantity: str = "2", price: str = "50.00", tax: str = "0.20"):
    return services.invoice_create(
        customer=customer,
        currency="USD",
        due_date=due,
        lines=[
            InvoiceLineInput(
                description="Consulting hours",
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                account="4100",
                tax_rate=Decimal(tax),
            )
        ],
        actor=ACTOR,
    )


def issued_invoice(customer: str, issued: date, due: date, **kwargs):
    invoice = draft_invoice(customer, due, **kwargs)
    return services.invoice_issue(invoice_id=invoice.id, issue_date=issued, actor=ACTOR)


def payment(customer: str, amount: str, day: date, invoice=None, allocate: str | None = None):
    allocations = [AllocationInput(invoice=invoice.id, amount=Decimal(allocate or amount))] if invoice else []
    return services.payment_record(
        customer=customer,
        amount=Decimal(amount),
        currency="USD",
        date=day,
        deposit_account="1000",
        allocations=allocations,
        actor=ACTOR,
    )


def activity(*, entries: int, invoices: int, payments: int, start: date) -> None:
    """A few months of activity on an open chart: manual entries, invoices issued (some
    paid, some part-paid, some drafts and voids) and payments, some unallocated."""
    for n in range(entries):
        post(start + timedelta(days=n % 90), f"Office supplies {n}", "5000", "1000", f"{10 + n % 7}.{n % 100:02d}")
    customers = ["ACME", "Globex", "Initech", "Umbrella", "Hooli"]
    for n in range(invoices):
        customer = customers[n % len(customers)]
        issued = start + timedelta(days=n % 60)
        if n % 10 == 9:
            draft_invoice(customer, issued + timedelta(days=30))
            continue
        invoice = issued_invoice(customer, issued, issued + timedelta(days=30), quantity=str(1 + n % 4))
        if n % 10 == 8:
            services.invoice_void(invoice_id=invoice.id, reason="sent twice", date=issued, actor=ACTOR)
        elif n % 3 == 0 and n // 3 < payments:
            payment(customer, str(invoice.total), issued + timedelta(days=5), invoice)
        elif n % 3 == 1 and n // 3 < payments:
            payment(customer, "20.00", issued + timedelta(days=5), invoice)
    for n in range(payments // 3):
        payment(customers[n % len(customers)], "15.00", start + timedelta(days=n % 60))


def user_with_role(username: str, role: str | None, *, superuser: bool = False) -> User:
    user = User.objects.create_user(username=username, password=f"{username}-password-1", is_staff=True)
    if superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
