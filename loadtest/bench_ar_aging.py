"""The AR aging report at 100,000 invoices and 100,000 payments: the query as it was (a
correlated subquery per invoice and per payment) against the one in ledger/selectors.py
(allocations joined and grouped), on the same rows, same answer checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finance_load_aging SECRET_KEY=x \\
        .venv/bin/python -m loadtest.bench_ar_aging [--rows 100000] [--repeat 5]

The database is created, migrated, filled in bulk and dropped again (its name must end
in ``_aging``). Each query runs with Postgres' JIT on (the server's default) and off (the
service's setting, config/settings.py).
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal

from loadtest.bench_database import recreate_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def old_ar_aging(as_of: date) -> dict:
    """The report's figures as computed before (one correlated subquery per row)."""
    from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    from ledger import models
    from ledger.selectors import ZERO, _bucket

    def sum_of(model, link: str):
        return Coalesce(
            Subquery(
                model.objects.filter(**{link: OuterRef("pk")}, date__lte=as_of)
                .values(link)
                .annotate(total=Sum("amount"))
                .values("total")
            ),
            Value(ZERO),
            output_field=DecimalField(max_digits=19, decimal_places=4),
        )

    rows: dict = defaultdict(lambda: defaultdict(lambda: ZERO))
    invoices = (
        models.Invoice.objects.filter(number__isnull=False, issue_date__lte=as_of)
        .exclude(void_date__lte=as_of)
        .annotate(paid=sum_of(models.Allocation, "invoice"))
        .values_list("customer", "currency", "total", "paid", "due_date")
    )
    for customer, currency, total, paid, due_date in invoices:
        if total - paid:
            rows[(customer, currency)][_bucket((as_of - due_date).days)] += total - paid
    payments = (
        models.Payment.objects.filter(date__lte=as_of)
        .annotate(allocated_by=sum_of(models.Allocation, "payment"), refunded_by=sum_of(models.Refund, "payment"))
        .values_list("customer", "currency", "amount", "allocated_by", "refunded_by")
    )
    for customer, currency, amount, allocated, refunded in payments:
        if amount - allocated - refunded:
            rows[(customer, currency)]["unapplied"] -= amount - allocated - refunded
    return rows


def seed(rows: int) -> None:
    from ledger import models
    from loadtest.bench_admin import seed_invoices_and_payments

    seed_invoices_and_payments(rows)
    invoices = list(models.Invoice.objects.filter(status="paid").values_list("id", "total", "issue_date"))
    payments = list(models.Payment.objects.values_list("id", flat=True)[: len(invoices)])
    models.Allocation.objects.bulk_create(
        [
            models.Allocation(invoice_id=invoice, seq=1, payment_id=payment, amount=total, date=issued)
            for (invoice, total, issued), payment in zip(invoices, payments, strict=False)
        ],
        batch_size=5000,
    )
    models.Refund.objects.bulk_create(
        [
            models.Refund(
                payment_id=payment,
                seq=1,
                amount=Decimal("5.00"),
                date=date(2024, 6, 1),
                reason="bench",
                journal_entry=uuid.uuid4(),
            )
            for payment in payments[::50]
        ],
        batch_size=5000,
    )


def timed(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the database for a look with EXPLAIN")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    recreate_database(database_url, suffix="_aging")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from ledger import models, selectors

        call_command("migrate", verbosity=0)
        seed(args.rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        as_of = date(2025, 12, 31)
        new = selectors.ar_aging(as_of)
        old = old_ar_aging(as_of)
        old_totals = sum((sum(figures.values(), Decimal(0)) for figures in old.values()), Decimal(0))
        assert Decimal(new["totals"]["USD"]["total"]) == old_totals, (new["totals"], old_totals)
        load = os.getloadavg()[0]
        lines = []
        for label, function, jit in (
            ("subquery per row, JIT on (before)", old_ar_aging, "on"),
            ("subquery per row, JIT off", old_ar_aging, "off"),
            ("summed by customer and column, JIT on", selectors.ar_aging, "on"),
            ("summed by customer and column, JIT off (now)", selectors.ar_aging, "off"),
        ):
            with connection.cursor() as cursor:
                cursor.execute(f"SET jit = {jit}")
            median, worst = timed(lambda function=function: function(as_of), args.repeat)
            lines.append(f"| {label} | {median:.0f} | {worst:.0f} |\n")
        sys.stdout.write(
            f"{models.Invoice.objects.count()} invoices, {models.Payment.objects.count()} payments, "
            f"{models.Allocation.objects.count()} allocations, {models.Refund.objects.count()} refunds; "
            f"load average {load:.1f} on {os.cpu_count()} cores\n"
            "| query | median ms | max ms |\n|---|---:|---:|\n" + "".join(lines)
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(database_url, suffix="_aging", create=False)


if __name__ == "__main__":
    main()
