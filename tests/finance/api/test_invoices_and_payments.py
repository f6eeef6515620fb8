import pytest

from ledger import models

pytestmark = pytest.mark.django_db


def draft(client, **overrides) -> dict:
    body = {
        "customer": "ACME",
        "due_date": "2026-04-30",
        "lines": [
            {"description": "Widgets", "quantity": "3", "unit_price": "9.99", "account": "4000", "tax_rate": "0.20"},
            {"description": "Setup", "quantity": "1", "unit_price": "50.00", "account": "4100"},
        ],
    }
    body.update(overrides)
    response = client.post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def issue(client, invoice: dict, day: str = "2026-03-31") -> dict:
    response = client.post(f"/api/v1/invoices/{invoice['id']}/issue/", {"issue_date": day}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def pay(client, amount: str, allocations=(), customer: str = "ACME", day: str = "2026-04-10") -> dict:
    body = {
        "customer": customer,
        "amount": amount,
        "date": day,
        "deposit_account": "1000",
        "allocations": list(allocations),
    }
    response = client.post("/api/v1/payments/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def trial_balance(client, as_of: str = "2026-12-31") -> dict[str, str]:
    rows = client.get(f"/api/v1/reports/trial-balance/?as_of={as_of}").json()["rows"]
    return {row["account"]: row["balance"] for row in rows}


def test_a_draft_rounds_each_line_half_up_and_sums_the_lines(accountant, chart):
    invoice = draft(accountant)

    assert invoice["status"] == "draft"
    assert invoice["number"] is None
    # 3 x 9.99 = 29.97, tax 5.994 -> 5.99; 50.00 untaxed.
    assert [(line["net"], line["tax"]) for line in invoice["lines"]] == [("29.97", "5.99"), ("50.00", "0.00")]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("79.97", "5.99", "85.96")
    assert invoice["outstanding"] == "0.00"


def test_half_up_rounding_on_exact_halves(accountant, chart):
    invoice = draft(
        accountant,
        lines=[
            {"description": "a", "quantity": "1", "unit_price": "0.25", "account": "4000", "tax_rate": "0.10"},
        ],
    )
    # tax 0.025 rounds half up to 0.03 (banker's rounding would give 0.02).
    assert invoice["lines"][0]["tax"] == "0.03"


def test_editing_replaces_a_draft_and_is_refused_after_issue(accountant, chart):
    invoice = draft(accountant)
    url = f"/api/v1/invoices/{invoice['id']}/"

    edited = accountant.patch(
        url,
        {
            "customer": "Globex",
            "lines": [{"description": "Only line", "quantity": "2", "unit_price": "10.00", "account": "4000"}],
        },
        format="json",
    )

    assert edited.status_code == 200
    assert edited.json()["customer"] == "Globex"
    assert edited.json()["total"] == "20.00"
    assert edited.json()["version"] == 2
    issue(accountant, edited.json())
    assert accountant.patch(url, {"customer": "Initech"}, format="json").status_code == 409


def test_issue_numbers_gap_free_per_year_and_posts_the_invoice(accountant, chart):
    first = issue(accountant, draft(accountant), "2026-03-01")
    second = issue(accountant, draft(accountant), "2026-03-02")
    next_year = issue(accountant, draft(accountant), "2027-01-02")

    assert (first["number"], second["number"], next_year["number"]) == (
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2027-000001",
    )
    assert first["status"] == "issued"
    assert first["outstanding"] == "85.96"
    entry = accountant.get(f"/api/v1/journal-entries/{first['journal_entry']}/").json()
    assert entry["source"] == "invoice"
    assert {(ln["account"], ln["debit"], ln["credit"]) for ln in entry["lines"]} == {
        ("1100", "85.96", None),
        ("4000", None, "29.97"),
        ("4100", None, "50.00"),
        ("2200", None, "5.99"),
    }


def test_issuing_twice_is_a_conflict_and_spends_no_number(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    assert accountant.post(f"/api/v1/invoices/{invoice['id']}/issue/", {}, format="json").status_code == 409
    assert issue(accountant, draft(accountant))["number"] == "INV-2026-000002"


def test_a_failed_issue_spends_no_number(accountant, chart):
    bad = draft(accountant, lines=[{"description": "x", "quantity": "1", "unit_price": "5.00", "account": "4999"}])

    response = accountant.post(f"/api/v1/invoices/{bad['id']}/issue/", {"issue_date": "2026-03-01"}, format="json")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lines[0].account", "message": "account 4999 does not exist"}]
    assert issue(accountant, draft(accountant))["number"] == "INV-2026-000001"


def test_issue_names_a_missing_receivable_or_tax_account(accountant, chart, settings):
    settings.FINANCE_TAX_ACCOUNT = "2999"
    invoice = draft(accountant)
    response = accountant.post(f"/api/v1/invoices/{invoice['id']}/issue/", {}, format="json")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"tax_account"}
    assert "2999" in response.json()["errors"][0]["message"]


def test_payment_posts_cash_against_the_receivable_and_allocates_atomically(accountant, chart):
    invoice = issue(accountant, draft(accountant))

    payment = pay(accountant, "50.00", [{"invoice": invoice["id"], "amount": "50.00"}])

    assert payment["status"] == "allocated"
    assert (payment["allocated"], payment["unallocated"]) == ("50.00", "0.00")
    assert payment["allocations"] == [{"invoice": invoice["id"], "amount": "50.00"}]
    after = accountant.get(f"/api/v1/invoices/{invoice['id']}/").json()
    assert (after["status"], after["amount_paid"], after["outstanding"]) == ("partially_paid", "50.00", "35.96")
    assert trial_balance(accountant)["1100"] == "35.96"


def test_allocation_pays_an_invoice_in_full(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    payment = pay(accountant, "100.00")

    response = accountant.post(
        f"/api/v1/payments/{payment['id']}/allocate/", {"invoice": invoice["id"], "amount": "85.96"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "partially_allocated"
    assert response.json()["unallocated"] == "14.04"
    assert accountant.get(f"/api/v1/invoices/{invoice['id']}/").json()["status"] == "paid"
    again = accountant.post(
        f"/api/v1/payments/{payment['id']}/allocate/", {"invoice": invoice["id"], "amount": "1.00"}, format="json"
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("amount", "customer", "field"),
    [
        ("200.00", "ACME", "amount"),
        ("90.00", "ACME", "amount"),
        ("10.00", "Globex", "invoice"),
        ("10.001", "ACME", "amount"),
        ("-1.00", "ACME", "amount"),
    ],
)
def test_over_allocation_and_mismatched_customers_are_refused(accountant, chart, amount, customer, field):
    invoice = issue(accountant, draft(accountant))
    payment = pay(accountant, "150.00", customer=customer)

    response = accountant.post(
        f"/api/v1/payments/{payment['id']}/allocate/", {"invoice": invoice["id"], "amount": amount}, format="json"
    )

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {field}
    assert accountant.get(f"/api/v1/invoices/{invoice['id']}/").json()["amount_paid"] == "0.00"
    assert accountant.get(f"/api/v1/payments/{payment['id']}/").json()["allocated"] == "0.00"


def test_allocating_to_an_unknown_or_draft_invoice_is_refused(accountant, chart):
    payment = pay(accountant, "10.00")
    unknown = accountant.post(
        f"/api/v1/payments/{payment['id']}/allocate/",
        {"invoice": "00000000-0000-0000-0000-000000000000", "amount": "1.00"},
        format="json",
    )
    assert unknown.status_code == 422
    drafted = draft(accountant)
    to_draft = accountant.post(
        f"/api/v1/payments/{payment['id']}/allocate/", {"invoice": drafted["id"], "amount": "1.00"}, format="json"
    )
    assert to_draft.status_code == 422


def test_a_bad_allocation_inside_a_new_payment_writes_nothing(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    body = {
        "customer": "ACME",
        "amount": "10.00",
        "date": "2026-04-10",
        "deposit_account": "1000",
        "allocations": [{"invoice": invoice["id"], "amount": "20.00"}],
    }

    response = accountant.post("/api/v1/payments/", body, format="json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "allocations[0].amount"
    assert models.Payment.objects.count() == 0
    assert trial_balance(accountant)["1100"] == "85.96"


def test_refund_comes_from_the_unallocated_amount_only(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    payment = pay(accountant, "100.00", [{"invoice": invoice["id"], "amount": "85.96"}])
    url = f"/api/v1/payments/{payment['id']}/refund/"

    too_much = accountant.post(url, {"amount": "20.00", "date": "2026-04-12", "reason": "x"}, format="json")
    assert too_much.status_code == 422

    refunded = accountant.post(url, {"amount": "14.04", "date": "2026-04-12", "reason": "overpaid"}, format="json")
    assert refunded.status_code == 200
    assert (refunded.json()["refunded"], refunded.json()["unallocated"]) == ("14.04", "0.00")
    assert refunded.json()["status"] == "allocated"
    balances = trial_balance(accountant)
    assert balances["1100"] == "0.00"
    assert balances["1000"] == "85.96"


def test_void_reverses_an_issued_invoice_and_refuses_one_with_payments(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    voided = accountant.post(f"/api/v1/invoices/{invoice['id']}/void/", {"reason": "wrong customer"}, format="json")
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["outstanding"]) == ("void", "0.00")
    assert trial_balance(accountant)["1100"] == "0.00"
    entries = accountant.get("/api/v1/journal-entries/?source=invoice").json()["results"]
    assert {e["status"] for e in entries} == {"posted", "reversed"}

    paid = issue(accountant, draft(accountant))
    pay(accountant, "10.00", [{"invoice": paid["id"], "amount": "10.00"}])
    assert accountant.post(f"/api/v1/invoices/{paid['id']}/void/", {"reason": "x"}, format="json").status_code == 409
    assert accountant.post(f"/api/v1/invoices/{invoice['id']}/void/", {"reason": "x"}, format="json").status_code == 409


def test_invoice_list_filters(accountant, chart):
    open_invoice = issue(accountant, draft(accountant, due_date="2026-01-31", customer="Late Co"), "2026-01-01")
    draft(accountant, customer="Drafty")

    def ids(query: str) -> set[str]:
        response = accountant.get(f"/api/v1/invoices/?{query}")
        assert response.status_code == 200
        return {invoice["id"] for invoice in response.json()["results"]}

    assert ids("status=issued") == {open_invoice["id"]}
    assert ids("customer=Late%20Co") == {open_invoice["id"]}
    assert ids("overdue=true") == {open_invoice["id"]}
    assert len(ids("overdue=false")) == 1
    assert accountant.get("/api/v1/invoices/?status=lost").status_code == 400
    assert accountant.get("/api/v1/invoices/?overdue=maybe").status_code == 400


def test_ar_aging_buckets_outstanding_and_reconciles_with_the_receivable(accountant, chart):
    early = issue(accountant, draft(accountant, due_date="2026-01-15"), "2026-01-01")
    issue(accountant, draft(accountant, customer="Globex", due_date="2026-06-30"), "2026-05-01")
    pay(accountant, "30.00", [{"invoice": early["id"], "amount": "20.00"}], day="2026-02-01")

    aging = accountant.get("/api/v1/reports/ar-aging/?as_of=2026-05-31").json()

    rows = {row["customer"]: row for row in aging["rows"]}
    assert rows["ACME"]["over_90"] == "65.96"  # 85.96 - 20.00, due 2026-01-15: 136 days late
    assert rows["ACME"]["unapplied"] == "-10.00"
    assert rows["ACME"]["total"] == "55.96"
    assert rows["Globex"]["current"] == "85.96"
    assert aging["totals"]["USD"]["total"] == trial_balance(accountant, "2026-05-31")["1100"] == "141.92"
    before_payment = accountant.get("/api/v1/reports/ar-aging/?as_of=2026-01-20").json()
    assert before_payment["totals"]["USD"]["days_1_30"] == "85.96"
    assert before_payment["totals"]["USD"]["total"] == trial_balance(accountant, "2026-01-20")["1100"]


def test_reads_see_every_write_at_once(accountant, chart):
    invoice = issue(accountant, draft(accountant))
    assert accountant.get("/api/v1/reports/ar-aging/?as_of=2026-12-31").json()["totals"]["USD"]["total"] == "85.96"
    pay(accountant, "85.96", [{"invoice": invoice["id"], "amount": "85.96"}])
    settled = accountant.get("/api/v1/reports/ar-aging/?as_of=2026-12-31").json()
    assert (settled["rows"], settled["totals"]) == ([], {})
    assert accountant.get(f"/api/v1/invoices/{invoice['id']}/").json()["status"] == "paid"
    statement = accountant.get("/api/v1/accounts/1100/statement/").json()
    assert statement["closing_balance"] == "0.00"
    assert [line["balance"] for line in statement["lines"]] == ["85.96", "0.00"]


def test_payment_list_and_detail(accountant, chart):
    payment = pay(accountant, "12.34")
    detail = accountant.get(f"/api/v1/payments/{payment['id']}/")
    assert detail["ETag"] == f'"{payment["version"]}"'
    assert detail.json()["status"] == "unallocated"
    assert [p["id"] for p in accountant.get("/api/v1/payments/?customer=ACME").json()["results"]] == [payment["id"]]
    assert accountant.get("/api/v1/payments/?customer=Nobody").json()["results"] == []
