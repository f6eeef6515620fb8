"""The load scenario (locust): accountants, API clients and viewers of a small company's
books, each pausing 0.5-1.5 s between actions as a person or a polite client does.

- Accountants browse reports and lists, open invoices, post journal entries and issue
  invoices.
- API clients run the receivables flow: create an invoice, issue it, record a payment
  and allocate it to the invoice, every POST with an Idempotency-Key, then read the
  invoice back (it must be paid: read-your-writes).
- Viewers read reports and lists.

LOADTEST_THINK=0 drops the think time (the saturation run). Tokens come from the
environment: LOADTEST_ACCOUNTANT_TOKEN, LOADTEST_VIEWER_TOKEN, each one token or several
separated by commas, one picked per simulated user (loadtest/run.py seeds the books and
issues 20 of each). The accounts are those of ``manage.py seed_demo``. Run it alone with
``locust -f loadtest/locustfile.py --host http://127.0.0.1:PORT``.
"""

import os
import random
import uuid
from datetime import date, timedelta

from locust import HttpUser, between, constant, task
from locust.clients import LocustHttpAdapter
from urllib3.util.retry import Retry

CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Enterprises"]
EXPENSES = [("6050", "Office supplies"), ("6070", "Marketing"), ("6080", "Travel"), ("6110", "Bank fees")]
STATEMENT_ACCOUNTS = ["1010", "1100", "4100", "6010"]
REPORTS = [
    ("/api/v1/reports/trial-balance/", "trial balance"),
    ("/api/v1/reports/balance-sheet/", "balance sheet"),
    ("/api/v1/reports/income-statement/", "income statement"),
    ("/api/v1/reports/ar-aging/", "ar aging"),
]
LISTS = [
    ("/api/v1/journal-entries/?limit=50", "journal entries"),
    ("/api/v1/invoices/?limit=50", "invoices"),
    ("/api/v1/invoices/?status=issued&limit=50", "invoices issued"),
    ("/api/v1/payments/?limit=50", "payments"),
    ("/api/v1/accounts/", "accounts"),
]
# LOADTEST_THINK=0 (the saturation run) drops the think time.
THINK = between(0.5, 1.5) if os.environ.get("LOADTEST_THINK", "1") != "0" else constant(0)
# A request that got no response at all (the connection was reset, as when a worker is
# recycled) is sent once more with the same headers, so a POST keeps its Idempotency-Key:
# what the API contract tells clients to do. urllib3 logs each resend ("Retrying"), and
# loadtest/run.py counts them.
RESEND = Retry(total=1, connect=1, read=1, redirect=0, status=0, other=0, allowed_methods=None, raise_on_status=False)
# The ingress terminates TLS and says so; production settings redirect plain HTTP.
PROXY = {"X-Forwarded-Proto": "https"}


def today() -> str:
    return date.today().isoformat()


def invoice_body() -> dict:
    lines = [
        {
            "description": "Consulting hours",
            "quantity": str(random.randint(2, 30)),
            "unit_price": "145.00",
            "account": "4100",
            "tax_rate": "0.08",
        }
    ]
    if random.random() < 0.5:
        lines.append({"description": "Support plan", "quantity": "1", "unit_price": "490.00", "account": "4020"})
    return {
        "customer": random.choice(CUSTOMERS),
        "due_date": (date.today() + timedelta(days=30)).isoformat(),
        "lines": lines,
    }


class BooksUser(HttpUser):
    abstract = True
    wait_time = THINK
    token_variable = "LOADTEST_ACCOUNTANT_TOKEN"  # noqa: S105 - a variable name

    def on_start(self) -> None:
        self.client.mount("http://", LocustHttpAdapter(pool_manager=None, max_retries=RESEND))
        # Several people (or integrations) of each role, each with a token of their own.
        token = random.choice(os.environ[self.token_variable].split(","))
        self.client.headers.update({**PROXY, "Authorization": f"Token {token}"})
        self.invoice_ids: list[str] = []

    def post(self, path: str, body: dict, name: str):
        """A POST with a fresh Idempotency-Key, as the API contract asks of clients."""
        return self.client.post(path, json=body, name=name, headers={"Idempotency-Key": str(uuid.uuid4())})

    def read_report(self) -> None:
        path, name = random.choice(REPORTS)
        self.client.get(path, name=name)

    def read_list(self) -> None:
        path, name = random.choice(LISTS)
        response = self.client.get(path, name=name)
        if name.startswith("invoices") and response.ok:
            self.invoice_ids = [invoice["id"] for invoice in response.json()["results"][:20]]

    def read_invoice(self) -> None:
        if self.invoice_ids:
            self.client.get(f"/api/v1/invoices/{random.choice(self.invoice_ids)}/", name="invoice")
        else:
            self.read_list()


class Accountant(BooksUser):
    weight = 5

    @task(4)
    def report(self) -> None:
        self.read_report()

    @task(4)
    def browse(self) -> None:
        self.read_list()

    @task(2)
    def invoice(self) -> None:
        self.read_invoice()

    @task(1)
    def statement(self) -> None:
        code = random.choice(STATEMENT_ACCOUNTS)
        start = (date.today() - timedelta(days=30)).isoformat()
        self.client.get(f"/api/v1/accounts/{code}/statement/?from={start}", name="account statement")

    @task(2)
    def post_journal_entry(self) -> None:
        account, description = random.choice(EXPENSES)
        amount = f"{random.randint(5, 900)}.{random.randint(0, 99):02d}"
        self.post(
            "/api/v1/journal-entries/",
            {
                "date": today(),
                "description": description,
                "lines": [{"account": account, "debit": amount}, {"account": "2100", "credit": amount}],
            },
            name="post journal entry",
        )

    @task(1)
    def issue_invoice(self) -> None:
        created = self.post("/api/v1/invoices/", invoice_body(), name="create invoice")
        if created.status_code == 201:
            self.post(f"/api/v1/invoices/{created.json()['id']}/issue/", {"issue_date": today()}, name="issue invoice")


class ApiClient(BooksUser):
    """An integration that bills and collects: every step with an Idempotency-Key."""

    weight = 2

    @task
    def receivables_flow(self) -> None:
        created = self.post("/api/v1/invoices/", invoice_body(), name="create invoice")
        if created.status_code != 201:
            return
        invoice = created.json()
        issued = self.post(f"/api/v1/invoices/{invoice['id']}/issue/", {"issue_date": today()}, name="issue invoice")
        if issued.status_code != 200:
            return
        payment = self.post(
            "/api/v1/payments/",
            {
                "customer": invoice["customer"],
                "amount": invoice["total"],
                "date": today(),
                "deposit_account": "1010",
                "method": "bank transfer",
            },
            name="record payment",
        )
        if payment.status_code != 201:
            return
        allocated = self.post(
            f"/api/v1/payments/{payment.json()['id']}/allocate/",
            {"invoice": invoice["id"], "amount": invoice["total"]},
            name="allocate payment",
        )
        if allocated.status_code != 200:
            return
        with self.client.get(f"/api/v1/invoices/{invoice['id']}/", name="invoice", catch_response=True) as read:
            if read.ok and read.json()["status"] != "paid":
                read.failure(f"invoice {invoice['id']} read back as {read.json()['status']}, not paid")


class Viewer(BooksUser):
    weight = 3
    token_variable = "LOADTEST_VIEWER_TOKEN"  # noqa: S105 - a variable name

    @task(5)
    def report(self) -> None:
        self.read_report()

    @task(3)
    def browse(self) -> None:
        self.read_list()

    @task(2)
    def invoice(self) -> None:
        self.read_invoice()
