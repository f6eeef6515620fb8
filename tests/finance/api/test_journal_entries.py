import pytest

from ledger import models

pytestmark = pytest.mark.django_db

URL = "/api/v1/journal-entries/"


def entry(**overrides) -> dict:
    body = {
        "date": "2026-03-05",
        "description": "Cash sale",
        "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
    }
    body.update(overrides)
    return body


def problem_fields(response) -> set[str]:
    assert response["Content-Type"] == "application/problem+json"
    return {error["field"] for error in response.json()["errors"]}


def test_posting_a_balanced_entry_returns_it_with_version_and_etag(accountant, chart):
    response = accountant.post(URL, entry(reference="R-1"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "posted"
    assert body["source"] == "manual"
    assert body["currency"] == "USD"
    assert body["reference"] == "R-1"
    assert body["version"] == 1
    assert response["ETag"] == '"1"'
    assert body["lines"] == [
        {"account": "1000", "debit": "100.00", "credit": None, "currency": "USD", "memo": ""},
        {"account": "4000", "debit": None, "credit": "100.00", "currency": "USD", "memo": ""},
    ]
    fetched = accountant.get(f"{URL}{body['id']}/")
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched["ETag"] == '"1"'


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(accountant, chart):
    response = accountant.post(
        URL,
        entry(lines=[{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "90.00"}]),
        format="json",
    )

    assert response.status_code == 422
    assert problem_fields(response) == {"lines"}
    assert "do not balance" in response.json()["errors"][0]["message"]
    assert models.JournalEntry.objects.count() == 0


def test_every_offending_line_is_named(accountant, chart):
    accountant.post("/api/v1/accounts/3000/deactivate/")
    response = accountant.post(
        URL,
        entry(
            lines=[
                {"account": "9999", "debit": "10.00"},
                {"account": "1000", "debit": "5.00", "credit": "5.00"},
                {"account": "4000", "credit": "10.001"},
                {"account": "1000", "debit": "-3.00"},
                {"account": "4000", "credit": "0"},
            ]
        ),
        format="json",
    )

    assert response.status_code == 422
    assert problem_fields(response) == {
        "lines[0].account",
        "lines[1]",
        "lines[2].credit",
        "lines[3].debit",
        "lines[4].credit",
    }


@pytest.mark.parametrize(
    "lines",
    [
        [{"account": "1000", "debit": "100.00"}],
        [],
    ],
)
def test_an_entry_needs_two_lines(accountant, chart, lines):
    response = accountant.post(URL, entry(lines=lines), format="json")
    assert response.status_code == 422
    assert problem_fields(response) == {"lines"}


def test_inactive_and_unknown_accounts_are_refused(accountant, chart):
    accountant.post("/api/v1/accounts/", {"code": "1999", "name": "Old bank", "type": "asset"}, format="json")
    assert accountant.post("/api/v1/accounts/1999/deactivate/").status_code == 200

    response = accountant.post(
        URL, entry(lines=[{"account": "1999", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}]), format="json"
    )

    assert response.status_code == 422
    assert "inactive" in response.json()["errors"][0]["message"]


def test_entries_balance_per_currency(accountant, chart):
    mixed = entry(
        lines=[
            {"account": "1000", "debit": "100.00"},
            {"account": "4000", "credit": "100.00"},
            {"account": "1000", "debit": "5000", "currency": "JPY"},
            {"account": "4000", "credit": "5000", "currency": "JPY"},
        ]
    )
    assert accountant.post(URL, mixed, format="json").status_code == 201

    crossed = entry(
        lines=[{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100", "currency": "JPY"}]
    )
    response = accountant.post(URL, crossed, format="json")
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "USD" in messages and "JPY" in messages


@pytest.mark.parametrize(
    ("currency", "amount", "status"),
    [("USD", "1.001", 422), ("JPY", "1.5", 422), ("KWD", "1.001", 201), ("KWD", "1.0001", 422), ("USD", "1.00", 201)],
)
def test_amounts_are_held_to_the_currency_minor_units(accountant, chart, currency, amount, status):
    body = entry(
        currency=currency,
        lines=[{"account": "1000", "debit": amount}, {"account": "4000", "credit": amount}],
    )
    assert accountant.post(URL, body, format="json").status_code == status


@pytest.mark.parametrize("amount", [100, 100.5, True, None, ["1"], {"a": 1}])
def test_money_that_is_not_a_json_string_is_a_malformed_request(accountant, chart, amount):
    body = entry(lines=[{"account": "1000", "debit": amount}, {"account": "4000", "credit": "100.00"}])

    response = accountant.post(URL, body, format="json")

    assert response.status_code == 400
    assert "lines[0].debit" in problem_fields(response)
    assert models.JournalEntry.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        entry(date="05/03/2026"),
        entry(date=20260305),
        entry(description=7),
        entry(lines="1000"),
        entry(lines=[{"account": "1000", "debit": "1.00", "colour": "red"}, {"account": "4000", "credit": "1.00"}]),
        {**entry(), "surprise": True},
        [entry()],
    ],
)
def test_wrongly_typed_requests_are_400_problems(accountant, chart, body):
    response = accountant.post(URL, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("raw", ["{", "not json", '{"date": NaN}', '{"a": 1, "a": 2}', "\xff"])
def test_malformed_json_is_a_400_problem(accountant, chart, raw):
    response = accountant.generic("POST", URL, raw.encode("latin-1"), content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_huge_body_is_refused_with_413(accountant, chart, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = entry(description="x" * 20_000)
    response = accountant.post(URL, body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_posting_into_a_closed_period_is_refused(accountant, chart):
    assert accountant.post("/api/v1/periods/2026-03/close/").status_code == 200

    response = accountant.post(URL, entry(date="2026-03-31"), format="json")

    assert response.status_code == 422
    assert problem_fields(response) == {"date"}
    assert accountant.post(URL, entry(date="2026-04-01"), format="json").status_code == 201


def test_reversal_posts_the_mirror_entry_and_marks_the_original(accountant, chart):
    original = accountant.post(URL, entry(), format="json").json()

    response = accountant.post(
        f"{URL}{original['id']}/reverse/", {"date": "2026-03-06", "reason": "typo"}, format="json"
    )

    assert response.status_code == 201
    reversal = response.json()
    assert reversal["reverses"] == original["id"]
    assert [(line["account"], line["debit"], line["credit"]) for line in reversal["lines"]] == [
        ("1000", None, "100.00"),
        ("4000", "100.00", None),
    ]
    again = accountant.get(f"{URL}{original['id']}/").json()
    assert again["status"] == "reversed"
    assert again["reversed_by"] == reversal["id"]
    assert again["version"] == 2


def test_a_second_reversal_is_a_conflict(accountant, chart):
    original = accountant.post(URL, entry(), format="json").json()
    url = f"{URL}{original['id']}/reverse/"
    assert accountant.post(url, {"date": "2026-03-06", "reason": "typo"}, format="json").status_code == 201

    response = accountant.post(url, {"date": "2026-03-07", "reason": "again"}, format="json")

    assert response.status_code == 409
    assert models.JournalEntry.objects.count() == 2


def test_reversing_with_a_stale_if_match_is_412(accountant, chart):
    original = accountant.post(URL, entry(), format="json").json()
    url = f"{URL}{original['id']}/reverse/"

    response = accountant.post(url, {"date": "2026-03-06", "reason": "x"}, format="json", HTTP_IF_MATCH='"7"')

    assert response.status_code == 412
    ok = accountant.post(url, {"date": "2026-03-06", "reason": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 201


def test_unknown_entry_is_404(accountant, chart):
    missing = "00000000-0000-0000-0000-000000000000"
    assert accountant.get(f"{URL}{missing}/").status_code == 404
    response = accountant.post(f"{URL}{missing}/reverse/", {"date": "2026-03-06", "reason": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_batch_is_all_or_nothing_with_errors_by_index(accountant, chart):
    good, bad = entry(), entry(lines=[{"account": "1000", "debit": "1.00"}, {"account": "4000", "credit": "2.00"}])

    refused = accountant.post(f"{URL}batch/", {"entries": [good, bad, good]}, format="json")

    assert refused.status_code == 422
    assert problem_fields(refused) == {"entries[1].lines"}
    assert models.JournalEntry.objects.count() == 0

    accepted = accountant.post(f"{URL}batch/", {"entries": [good] * 3}, format="json")
    assert accepted.status_code == 201
    ids = accepted.json()["ids"]
    assert len(ids) == 3
    assert set(models.JournalEntry.objects.values_list("id", flat=True)) == {__import__("uuid").UUID(i) for i in ids}


def test_batch_accepts_up_to_a_thousand_entries(accountant, chart):
    assert accountant.post(f"{URL}batch/", {"entries": [entry()] * 1001}, format="json").status_code == 400
    assert accountant.post(f"{URL}batch/", {"entries": []}, format="json").status_code == 400


def test_list_filters_by_account_dates_and_source(accountant, chart):
    accountant.post(URL, entry(date="2026-01-10"), format="json")
    accountant.post(
        URL,
        entry(date="2026-02-10", lines=[{"account": "5000", "debit": "7.00"}, {"account": "1000", "credit": "7.00"}]),
        format="json",
    )

    def dates(query: str) -> list[str]:
        response = accountant.get(f"{URL}?{query}")
        assert response.status_code == 200
        return [e["date"] for e in response.json()["results"]]

    assert dates("") == ["2026-02-10", "2026-01-10"]
    assert dates("account=5000") == ["2026-02-10"]
    assert dates("date_from=2026-02-01") == ["2026-02-10"]
    assert dates("date_to=2026-01-31") == ["2026-01-10"]
    assert dates("source=invoice") == []
    assert accountant.get(f"{URL}?date_from=yesterday").status_code == 400
    assert accountant.get(f"{URL}?source=robot").status_code == 400


def test_lists_paginate_with_next_links(accountant, chart):
    accountant.post(f"{URL}batch/", {"entries": [entry()] * 5}, format="json")

    first = accountant.get(f"{URL}?limit=2").json()
    assert len(first["results"]) == 2
    second = accountant.get(first["next"]).json()
    third = accountant.get(second["next"]).json()
    assert third["next"] is None
    ids = [e["id"] for page in (first, second, third) for e in page["results"]]
    assert len(ids) == len(set(ids)) == 5


def test_limit_is_capped_at_500(accountant, chart):
    accountant.post(f"{URL}batch/", {"entries": [entry()] * 3}, format="json")
    response = accountant.get(f"{URL}?limit=100000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_the_receivable_control_account_takes_no_manual_postings(accountant, chart):
    response = accountant.post(
        URL, entry(lines=[{"account": "1000", "debit": "5.00"}, {"account": "1100", "credit": "5.00"}]), format="json"
    )
    assert response.status_code == 422
    assert problem_fields(response) == {"lines[1].account"}
    assert "control account" in response.json()["errors"][0]["message"]
