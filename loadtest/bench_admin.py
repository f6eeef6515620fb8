"""How fast the back office's lists and reports render with 100,000 rows.

Creates a scratch database (Django's test database machinery: ``test_<name>``, dropped
at the end), writes 100,000 journal entries (events in the store and rows in the read
models), 100,000 invoices and 100,000 payments, then renders each page in process as
an accountant, several times, and prints the median and 95th percentile with the query
count.

Rows are written in bulk rather than through the services: the lists read only these
tables, and three hundred thousand commands would take this machine well over an hour
for no difference in what is measured.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finance SECRET_KEY=x \\
        .venv/bin/python -m loadtest.bench_admin [--rows 100000] [--repeat 15]
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment  # noqa: E402

from finance import services  # noqa: E402
from finance.domain.journal import JournalEntryPosted, Line  # noqa: E402
from finance.eventstore import feed, store  # noqa: E402
from ledger import models  # noqa: E402

START = date(2024, 1, 1)
CUSTOMERS = [f"Customer {n:04d}" for n in range(2000)]
CHART = [
    ("1000", "Cash", "asset"),
    ("1100", "Receivables", "asset"),
    ("2200", "Sales tax payable", "liability"),
    ("3000", "Owner's equity", "equity"),
    ("4000", "Revenue", "revenue"),
    ("5000", "Expenses", "expense"),
    ("5100", "Travel", "expense"),
    ("5200", "Software", "expense"),
]


def seed_entries(rows: int) -> float:
    """Open the chart through its service, then write ``rows`` journal entries as the
    posting service would leave them — one ``JournalEntryPosted`` event per stream in
    the event store, and the entry, its lines and the daily totals in the read models —
    but in bulk: the lists read these tables, and this takes a minute instead of an hour."""
    for code, name, type_ in CHART:
        services.account_open(code=code, name=name, type=type_, parent=None, actor="bench")
    started = time.perf_counter()
    metadata = {"actor": "bench", "request_id": "bench", "correlation_id": "bench", "causation_id": "bench"}
    expenses = ["5000", "5100", "5200"]
    daily: dict[tuple[str, date], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for first in range(0, rows, 2000):
        batch = []
        for n in range(first, min(first + 2000, rows)):
            day, amount = START + timedelta(days=n % 700), Decimal(f"{1 + n % 500}.{n % 100:02d}")
            lines = (
                Line(account=expenses[n % 3], debit=amount, credit=Decimal(0), currency="USD"),
                Line(account="1000", debit=Decimal(0), credit=amount, currency="USD"),
            )
            event = JournalEntryPosted(
                date=day,
                description=f"Purchase {n}",
                reference=f"PO-{n}",
                currency="USD",
                lines=lines,
                source="manual",
                source_id=None,
                reverses=None,
            )
            batch.append((str(uuid.uuid4()), event))
        with transaction.atomic():
            recorded = store.append(
                [
                    store.Append(f"journal-{entry_id}", "journal", 0, [store.NewEvent(e.type_name(), 1, e.to_data())])
                    for entry_id, e in batch
                ],
                metadata=metadata,
            )
            sequence = {r.stream_id: r for r in recorded}
            models.JournalEntry.objects.bulk_create(
                models.JournalEntry(
                    id=entry_id,
                    date=e.date,
                    description=e.description,
                    reference=e.reference,
                    currency=e.currency,
                    source="manual",
                    status="posted",
                    version=1,
                    recorded_at=sequence[f"journal-{entry_id}"].recorded_at,
                    recorded_seq=sequence[f"journal-{entry_id}"].sequence,
                )
                for entry_id, e in batch
            )
            models.JournalLine.objects.bulk_create(
                models.JournalLine(
                    entry_id=entry_id,
                    line_no=number,
                    date=e.date,
                    account=line.account,
                    currency="USD",
                    debit=line.debit,
                    credit=line.credit,
                )
                for entry_id, e in batch
                for number, line in enumerate(e.lines, start=1)
            )
        for _, e in batch:
            for line in e.lines:
                daily[(line.account, e.date)][0] += line.debit
                daily[(line.account, e.date)][1] += line.credit
    models.AccountDailyTotal.objects.bulk_create(
        models.AccountDailyTotal(account=account, currency="USD", date=day, debit=debit, credit=credit)
        for (account, day), (debit, credit) in daily.items()
    )
    feed.advance_and_publish()
    return time.perf_counter() - started


def seed_invoices_and_payments(rows: int) -> None:
    now = datetime.now(UTC)
    invoices, payments = [], []
    for n in range(rows):
        issued = START + timedelta(days=n % 700)
        total = Decimal(f"{100 + n % 900}.00")
        paid = total if n % 3 == 0 else Decimal(0)
        status = "paid" if n % 3 == 0 else ("draft" if n % 10 == 1 else "issued")
        invoices.append(
            models.Invoice(
                id=uuid.uuid4(),
                number=None if status == "draft" else f"INV-{issued.year}-{n:06d}",
                customer=CUSTOMERS[n % len(CUSTOMERS)],
                currency="USD",
                status=status,
                lines=[],
                subtotal=total,
                tax=Decimal(0),
                total=total,
                amount_paid=paid,
                outstanding=Decimal(0) if status in ("draft", "paid") else total,
                issue_date=None if status == "draft" else issued,
                due_date=issued + timedelta(days=30),
                version=2,
                created_at=now,
                recorded_seq=n,
            )
        )
        payments.append(
            models.Payment(
                id=uuid.uuid4(),
                customer=CUSTOMERS[n % len(CUSTOMERS)],
                amount=Decimal("50.00"),
                currency="USD",
                date=issued,
                deposit_account="1000",
                receivable_account="1100",
                allocated=Decimal(0),
                refunded=Decimal(0),
                unallocated=Decimal("50.00"),
                status="unallocated",
                journal_entry=uuid.uuid4(),
                version=1,
                created_at=now,
                recorded_seq=n,
            )
        )
    models.Invoice.objects.bulk_create(invoices, batch_size=5000)
    models.Payment.objects.bulk_create(payments, batch_size=5000)


PAGES = {
    "accounts": "/admin/ledger/account/",
    "journal entries": "/admin/ledger/journalentry/",
    "journal entries, one account": "/admin/ledger/journalentry/?account=5100",
    "journal entries, one month": "/admin/ledger/journalentry/?date__year=2024&date__month=6",
    "journal entries, search": "/admin/ledger/journalentry/?q=Purchase+4242",
    "invoices": "/admin/ledger/invoice/",
    "invoices, overdue": "/admin/ledger/invoice/?overdue=yes",
    "invoices, search customer": "/admin/ledger/invoice/?q=Customer+0042",
    "payments": "/admin/ledger/payment/",
    "events": "/admin/finance/event/",
    "events, one type": "/admin/finance/event/?type=JournalEntryPosted",
    "streams": "/admin/finance/stream/",
    "chart of accounts": "/admin/ledger/account/chart/",
    "trial balance": "/admin/reports/trial-balance/?as_of=2025-12-31",
    "balance sheet": "/admin/reports/balance-sheet/?as_of=2025-12-31",
    "income statement": "/admin/reports/income-statement/?date_from=2024-01-01&date_to=2025-12-31",
    "account statement, one month": (
        "/admin/reports/account-statement/?account=5100&date_from=2024-06-01&date_to=2024-06-30"
    ),
    "ar aging": "/admin/reports/ar-aging/?as_of=2025-12-31",
}


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int]:
    client.get(url)  # warm caches, as a second visit would find them
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    # Pages render with the manifest storage production uses, from a scratch collection.
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    override_settings(STATIC_ROOT=static_root).enable()
    call_command("collectstatic", interactive=False, verbosity=0)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        seconds = seed_entries(args.rows)
        seed_invoices_and_payments(args.rows)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        user = User.objects.create_user("bench-accountant", is_staff=True)
        user.groups.add(Group.objects.get(name="accountant"))
        client = Client()
        client.force_login(user)
        report(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, {connection.vendor}")
        report(f"date: {date.today().isoformat()}, load average {os.getloadavg()[0]:.1f} when measuring began")
        report(
            f"seeded {args.rows} journal entries in {seconds:.0f} s; "
            f"{models.Invoice.objects.count()} invoices, {models.Payment.objects.count()} payments, "
            f"{models.JournalEntry.objects.count()} entries"
        )
        report("| page | median ms | p95 ms | queries |\n|---|---|---|---|")
        for name, url in PAGES.items():
            median, p95, queries = measure(client, url, args.repeat)
            report(f"| {name} | {median:.0f} | {p95:.0f} | {queries} |")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    main()
