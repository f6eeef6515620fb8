"""The books a scenario works on, set up through the public API. Codes carry the run id,
so a run's balances hold only its own writes even in a database that earlier runs used."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlparse

import httpx

from loadtest.chaos.calls import Recorder

TODAY = datetime.date.today().isoformat()
DUE = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
# The invoice's postings need the receivable and tax accounts of the settings' defaults.
SHARED_ACCOUNTS = (("1100", "Accounts receivable", "asset"), ("2200", "Sales tax payable", "liability"))


@dataclass(frozen=True)
class Books:
    run_id: str
    cash: str  # the payment's deposit account
    revenue: str  # the invoice's revenue account
    debit: str  # the journal entries' two accounts
    credit: str
    invoice: str = ""  # issued, to allocate to
    payment: str = ""  # recorded, unallocated, to allocate from
    draft: str = ""  # a draft invoice, to edit

    def line(self, description: str, price: str = "10.00") -> dict:
        return {"description": description, "quantity": "1", "unit_price": price, "account": self.revenue}


def _checked(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in expected:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def open_account(client: httpx.Client, code: str, name: str, account_type: str) -> None:
    _checked(client.post("/api/v1/accounts/", json={"code": code, "name": name, "type": account_type}), 201, 409)


def set_up(recorder: Recorder, *, customer: str = "ACME", invoice_total: str = "0") -> Books:
    """Accounts of this run; with ``invoice_total``, an issued invoice of that amount and an
    unallocated payment of the same amount from the same customer, and a draft invoice."""
    run = recorder.run_id
    books = Books(run, cash=f"1000-{run}", revenue=f"4000-{run}", debit=f"1010-{run}", credit=f"4010-{run}")
    with recorder.client() as client:
        for code, name, account_type in SHARED_ACCOUNTS:
            open_account(client, code, name, account_type)
        open_account(client, books.cash, "Cash", "asset")
        open_account(client, books.revenue, "Sales", "revenue")
        open_account(client, books.debit, "Petty cash", "asset")
        open_account(client, books.credit, "Other income", "revenue")
        if Decimal(invoice_total) <= 0:
            return books
        invoice = _checked(
            client.post(
                "/api/v1/invoices/",
                json={"customer": customer, "due_date": DUE, "lines": [books.line("chaos", invoice_total)]},
            ),
            201,
        )
        _checked(client.post(f"/api/v1/invoices/{invoice['id']}/issue/", json={}), 200, 201)
        payment = _checked(
            client.post(
                "/api/v1/payments/",
                json={"customer": customer, "amount": invoice_total, "date": TODAY, "deposit_account": books.cash},
            ),
            201,
        )
        draft = _checked(
            client.post("/api/v1/invoices/", json={"customer": customer, "due_date": DUE, "lines": [books.line("v1")]}),
            201,
        )
    return Books(**{**books.__dict__, "invoice": invoice["id"], "payment": payment["id"], "draft": draft["id"]})


def entry(books: Books, amount: Decimal) -> dict:
    return {
        "date": TODAY,
        "description": "chaos",
        "lines": [{"account": books.debit, "debit": str(amount)}, {"account": books.credit, "credit": str(amount)}],
    }


def get(recorder: Recorder, path: str) -> dict:
    with recorder.client() as client:
        return _checked(client.get(path), 200)


def balance(recorder: Recorder, code: str) -> Decimal:
    """The account's balance (debit − credit) in the trial balance as of today."""
    report = get(recorder, f"/api/v1/reports/trial-balance/?as_of={TODAY}")
    return sum((Decimal(row["balance"]) for row in report["rows"] if row["account"] == code), Decimal(0))


def list_all(recorder: Recorder, path: str) -> list[dict]:
    """Every item of a paginated list."""
    items: list[dict] = []
    with recorder.client() as client:
        while path:
            page = _checked(client.get(path), 200)
            items.extend(page["results"])
            # The link is absolute and https (the proxy header says so): keep its path.
            path = urlparse(page["next"])._replace(scheme="", netloc="").geturl() if page["next"] else ""
    return items
