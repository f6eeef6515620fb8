import pytest

pytestmark = pytest.mark.django_db


def post_entry(client, debit: str, credit: str, amount: str, day: str = "2026-03-05"):
    return client.post(
        "/api/v1/journal-entries/",
        {
            "date": day,
            "description": "x",
            "lines": [{"account": debit, "debit": amount}, {"account": credit, "credit": amount}],
        },
        format="json",
    )


def test_open_list_and_fetch_accounts(accountant, chart):
    response = accountant.post(
        "/api/v1/accounts/", {"code": "1010", "name": "Petty cash", "type": "asset", "parent": "1000"}, format="json"
    )

    assert response.status_code == 201
    assert response.json() == {
        "code": "1010",
        "name": "Petty cash",
        "type": "asset",
        "parent": "1000",
        "active": True,
        "normal_balance": "debit",
        "version": 1,
    }
    assert accountant.get("/api/v1/accounts/4000/").json()["normal_balance"] == "credit"
    codes = [a["code"] for a in accountant.get("/api/v1/accounts/?type=asset").json()["results"]]
    assert codes == ["1000", "1010", "1100"]
    assert accountant.get("/api/v1/accounts/?type=gold").status_code == 400
    assert accountant.get("/api/v1/accounts/4999/").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "1000", "name": "Again", "type": "asset"}, 409),
        ({"code": "has space", "name": "x", "type": "asset"}, 422),
        ({"code": "X" * 33, "name": "x", "type": "asset"}, 400),
        ({"code": "1500", "name": "x", "type": "treasure"}, 400),
        ({"code": "1500", "name": "x", "type": "asset", "parent": "4000"}, 422),
        ({"code": "1500", "name": "x", "type": "asset", "parent": "0000"}, 422),
        ({"code": "1500", "name": "   ", "type": "asset"}, 400),
        ({"code": 1500, "name": "x", "type": "asset"}, 400),
    ],
)
def test_invalid_accounts_are_refused(accountant, chart, body, status):
    response = accountant.post("/api/v1/accounts/", body, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"


def test_rename_and_move_an_account_but_never_into_a_cycle(accountant, chart):
    accountant.post(
        "/api/v1/accounts/", {"code": "1010", "name": "Till", "type": "asset", "parent": "1000"}, format="json"
    )

    renamed = accountant.patch("/api/v1/accounts/1010/", {"name": "Till drawer"}, format="json")
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["parent"], renamed.json()["version"]) == ("Till drawer", "1000", 2)
    cycle = accountant.patch("/api/v1/accounts/1000/", {"parent": "1010"}, format="json")
    assert cycle.status_code == 422
    assert accountant.patch("/api/v1/accounts/1010/", {"parent": None}, format="json").json()["parent"] is None
    assert accountant.patch("/api/v1/accounts/1010/", {"type": "expense"}, format="json").status_code == 400


def test_an_account_version_ignores_changes_to_other_accounts(accountant, chart):
    accountant.post("/api/v1/accounts/", {"code": "1010", "name": "Till", "type": "asset"}, format="json")
    assert (
        accountant.patch("/api/v1/accounts/1010/", {"name": "A"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    )
    stale = accountant.patch("/api/v1/accounts/1010/", {"name": "B"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert accountant.patch("/api/v1/accounts/4000/", {"name": "Revenue"}, format="json").status_code == 200
    current = accountant.patch("/api/v1/accounts/1010/", {"name": "B"}, format="json", HTTP_IF_MATCH='"2"')
    assert current.status_code == 200
    assert (
        accountant.patch("/api/v1/accounts/1010/", {"name": "C"}, format="json", HTTP_IF_MATCH="yesterday").status_code
        == 400
    )


def test_an_account_with_a_balance_cannot_be_deactivated(accountant, chart):
    assert post_entry(accountant, "1000", "4000", "10.00").status_code == 201

    assert accountant.post("/api/v1/accounts/1000/deactivate/").status_code == 409
    assert post_entry(accountant, "4000", "1000", "10.00").status_code == 201
    deactivated = accountant.post("/api/v1/accounts/1000/deactivate/")
    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    assert accountant.post("/api/v1/accounts/1000/deactivate/").status_code == 409
    assert [a["code"] for a in accountant.get("/api/v1/accounts/?active=false").json()["results"]] == ["1000"]
    assert post_entry(accountant, "1000", "4000", "1.00").status_code == 422
    assert accountant.post("/api/v1/accounts/1000/reactivate/").json()["active"] is True
    assert accountant.post("/api/v1/accounts/1000/reactivate/").status_code == 409


def test_statement_has_opening_running_and_closing_balances(accountant, chart):
    post_entry(accountant, "1000", "4000", "100.00", "2026-01-10")
    post_entry(accountant, "5000", "1000", "30.00", "2026-02-10")
    post_entry(accountant, "1000", "4000", "5.50", "2026-03-10")

    statement = accountant.get("/api/v1/accounts/1000/statement/?from=2026-02-01&to=2026-03-31").json()

    assert statement["opening_balance"] == "100.00"
    assert [(ln["date"], ln["debit"], ln["credit"], ln["balance"]) for ln in statement["lines"]] == [
        ("2026-02-10", "0.00", "30.00", "70.00"),
        ("2026-03-10", "5.50", "0.00", "75.50"),
    ]
    assert statement["closing_balance"] == "75.50"
    assert accountant.get("/api/v1/accounts/1000/statement/?from=someday").status_code == 400
    assert accountant.get("/api/v1/accounts/1000/statement/?currency=XXX").status_code == 422


def test_trial_balance_balance_sheet_and_income_statement(accountant, chart):
    post_entry(accountant, "1000", "3000", "1000.00", "2026-01-01")
    post_entry(accountant, "1000", "4000", "300.00", "2026-02-01")
    post_entry(accountant, "5000", "1000", "120.00", "2026-02-15")

    tb = accountant.get("/api/v1/reports/trial-balance/?as_of=2026-02-28").json()
    assert tb["totals"] == {"USD": {"debit": "1420.00", "credit": "1420.00"}}
    assert {r["account"]: r["balance"] for r in tb["rows"]} == {
        "1000": "1180.00",
        "3000": "-1000.00",
        "4000": "-300.00",
        "5000": "120.00",
    }
    early = accountant.get("/api/v1/reports/trial-balance/?as_of=2026-01-31").json()
    assert early["totals"] == {"USD": {"debit": "1000.00", "credit": "1000.00"}}

    sheet = accountant.get("/api/v1/reports/balance-sheet/?as_of=2026-02-28").json()
    assert sheet["totals"]["USD"] == {
        "assets": "1180.00",
        "liabilities": "0.00",
        "equity": "1000.00",
        "retained_earnings": "180.00",
        "liabilities_and_equity": "1180.00",
    }
    income = accountant.get("/api/v1/reports/income-statement/?from=2026-02-01&to=2026-02-28").json()
    assert income["totals"]["USD"] == {"revenue": "300.00", "expenses": "120.00", "net_income": "180.00"}
    assert accountant.get("/api/v1/reports/income-statement/?from=2026-03-01&to=2026-02-01").status_code == 422
    assert accountant.get("/api/v1/reports/trial-balance/?as_of=31-12-2026").status_code == 400


def test_periods_close_and_reopen(accountant, chart):
    post_entry(accountant, "1000", "4000", "1.00", "2026-01-05")

    assert accountant.post("/api/v1/periods/2026-01/close/").json() == {"period": "2026-01", "status": "closed"}
    assert accountant.post("/api/v1/periods/2026-01/close/").status_code == 409
    assert post_entry(accountant, "1000", "4000", "1.00", "2026-01-06").status_code == 422
    periods = {p["period"]: p["status"] for p in accountant.get("/api/v1/periods/?limit=500").json()["results"]}
    assert periods["2026-01"] == "closed"
    assert periods["2026-02"] == "open"
    reopened = accountant.post("/api/v1/periods/2026-01/reopen/", {"reason": "late invoice"}, format="json")
    assert reopened.json()["status"] == "open"
    assert post_entry(accountant, "1000", "4000", "1.00", "2026-01-06").status_code == 201
    assert accountant.post("/api/v1/periods/2026-01/reopen/").status_code == 409
    assert accountant.post("/api/v1/periods/2026-13/close/").status_code == 422
    assert accountant.post("/api/v1/periods/26-01/close/").status_code == 404
