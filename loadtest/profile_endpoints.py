"""Profile the scenario's hot endpoints in one process (pyinstrument), against the
database a load test left behind (``make loadtest`` seeds it and writes to it).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finance_loadtest \\
    REDIS_URL=redis://127.0.0.1:6379/6 SECRET_KEY=x python -m loadtest.profile_endpoints

For every endpoint: the median time per request over ``--repeat`` requests through
Django's full middleware stack (the test client, no network), its query count, and a
pyinstrument text profile of the whole series in ``--out`` (default var/profiles/).
Writes go through the same code as the load test's writes (fresh Idempotency-Keys).
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def counting(queries: list[str]):
    """A database execute wrapper that records every statement in ``queries``."""

    def wrapper(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("var/profiles"))
    parser.add_argument("--only", default="", help="comma-separated endpoint names")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from pyinstrument import Profiler
    from rest_framework.test import APIClient

    from finance.api.auth import issue_token

    user, _ = get_user_model().objects.get_or_create(username="profile-accountant")
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name="accountant")[0])
    client = APIClient(SERVER_NAME="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    today = date.today().isoformat()

    def post(path: str, body: dict):
        response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert response.status_code in (200, 201), (path, response.status_code, response.content[:500])
        return response.json()

    def invoice_body() -> dict:
        return {
            "customer": "Globex",
            "due_date": (date.today() + timedelta(days=30)).isoformat(),
            "lines": [
                {"description": "Hours", "quantity": "3", "unit_price": "145.00", "account": "4100", "tax_rate": "0.08"}
            ],
        }

    def get(path: str):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.content[:500])

        return call

    invoice_id = post("/api/v1/invoices/", invoice_body())["id"]

    def issue():
        created = post("/api/v1/invoices/", invoice_body())
        post(f"/api/v1/invoices/{created['id']}/issue/", {"issue_date": today})

    def journal():
        post(
            "/api/v1/journal-entries/",
            {
                "date": today,
                "description": "Supplies",
                "lines": [{"account": "6050", "debit": "12.50"}, {"account": "2100", "credit": "12.50"}],
            },
        )

    def payment():
        post(
            "/api/v1/payments/",
            {"customer": "Globex", "amount": "10.00", "date": today, "deposit_account": "1010"},
        )

    start = (date.today() - timedelta(days=30)).isoformat()
    endpoints = {
        "trial balance": get("/api/v1/reports/trial-balance/"),
        "balance sheet": get("/api/v1/reports/balance-sheet/"),
        "income statement": get("/api/v1/reports/income-statement/"),
        "ar aging": get("/api/v1/reports/ar-aging/"),
        "journal entries": get("/api/v1/journal-entries/?limit=50"),
        "invoices": get("/api/v1/invoices/?limit=50"),
        "payments": get("/api/v1/payments/?limit=50"),
        "accounts": get("/api/v1/accounts/"),
        "invoice": get(f"/api/v1/invoices/{invoice_id}/"),
        "account statement": get(f"/api/v1/accounts/1010/statement/?from={start}"),
        "post journal entry": journal,
        "create and issue invoice": issue,
        "record payment": payment,
    }
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    args.out.mkdir(parents=True, exist_ok=True)
    sys.stdout.write(f"{'endpoint':<28} {'median ms':>10} {'p90 ms':>8} {'queries':>8}\n")
    for name, call in endpoints.items():
        if only and name not in only:
            continue
        call()  # warm
        queries: list[str] = []
        with connection.execute_wrapper(counting(queries)):
            call()
        times = []
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            began = time.perf_counter()
            call()
            times.append((time.perf_counter() - began) * 1000)
        profiler.stop()
        (args.out / f"{name.replace(' ', '-')}.txt").write_text(profiler.output_text(unicode=False, color=False))
        times.sort()
        sys.stdout.write(
            f"{name:<28} {statistics.median(times):>10.1f} {times[int(len(times) * 0.9)]:>8.1f} {len(queries):>8}\n"
        )


if __name__ == "__main__":
    main()
