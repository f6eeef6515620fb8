"""The report pages of the back office. The figures come from ``ledger.selectors``, the
same functions the API's reports use; these views only take the dates, draw and
export. Bad dates are form errors on the page (400), never a server error."""

import csv
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from finance.services.clock import today
from ledger import selectors
from ledger.admin import charts
from ledger.admin.forms import account_choices, currency_field, date_field

REPORTS_PERMISSION = "ledger.view_account"
BUCKET_LABELS = {
    "current": "Current",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "over_90": "Over 90 days",
    "unapplied": "Unapplied",
}


class AsOfForm(forms.Form):
    as_of = date_field(label="As of")


class RangeForm(forms.Form):
    date_from = date_field(label="From")
    date_to = date_field(label="To")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "must not be before From")
        return data


class StatementForm(forms.Form):
    account = forms.ChoiceField()
    currency = currency_field()
    date_from = date_field(label="From", required=False)
    date_to = date_field(label="To", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = account_choices()

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "must not be before From")
        return data


def _bound(form_class, request, defaults: dict):
    """A form bound to the query string, with defaults for what it leaves out."""
    data = {**defaults, **{key: value for key, value in request.GET.items() if value != ""}}
    return form_class(data)


def _page(request, template: str, title: str, form, report: dict | None, **extra) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "form": form,
        "report": report,
        "csv_url": f"?{_csv_query(request)}",
        **extra,
    }
    return TemplateResponse(request, template, context, status=200 if form.is_valid() else 400)


def _csv_query(request) -> str:
    query = request.GET.copy()
    query["format"] = "csv"
    return query.urlencode()


def _csv(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def reports_view(view):
    """Staff login (the admin's own) and the reports permission."""

    def check(request, *args, **kwargs):
        if not request.user.has_perm(REPORTS_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    check.__name__ = view.__name__
    check.__doc__ = view.__doc__
    return admin.site.admin_view(check)


@reports_view
def trial_balance(request):
    form = _bound(AsOfForm, request, {"as_of": today().isoformat()})
    report = selectors.trial_balance(form.cleaned_data["as_of"]) if form.is_valid() else None
    if report is not None and _wants_csv(request):
        rows = [
            [r["account"], r["name"], r["type"], r["currency"], r["debit"], r["credit"], r["balance"]]
            for r in report["rows"]
        ]
        rows += [["total", "", "", c, t["debit"], t["credit"], ""] for c, t in report["totals"].items()]
        return _csv(
            f"trial-balance-{report['as_of']}.csv",
            ["account", "name", "type", "currency", "debit", "credit", "balance"],
            rows,
        )
    return _page(request, "admin/reports/trial_balance.html", "Trial balance", form, report)


@reports_view
def balance_sheet(request):
    form = _bound(AsOfForm, request, {"as_of": today().isoformat()})
    report = selectors.balance_sheet(form.cleaned_data["as_of"]) if form.is_valid() else None
    sections = []
    if report is not None:
        sections = [
            ("Assets", report["sections"]["asset"]),
            ("Liabilities", report["sections"]["liability"]),
            ("Equity", report["sections"]["equity"]),
        ]
    return _page(request, "admin/reports/balance_sheet.html", "Balance sheet", form, report, sections=sections)


@reports_view
def income_statement(request):
    start_of_year = today().replace(month=1, day=1)
    form = _bound(RangeForm, request, {"date_from": start_of_year.isoformat(), "date_to": today().isoformat()})
    report = None
    if form.is_valid():
        report = selectors.income_statement(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    sections = []
    if report is not None:
        sections = [("Revenue", report["sections"]["revenue"]), ("Expenses", report["sections"]["expense"])]
    return _page(request, "admin/reports/income_statement.html", "Income statement", form, report, sections=sections)


@reports_view
def ar_aging(request):
    form = _bound(AsOfForm, request, {"as_of": today().isoformat()})
    report = selectors.ar_aging(form.cleaned_data["as_of"]) if form.is_valid() else None
    columns = list(BUCKET_LABELS)
    if report is not None and _wants_csv(request):
        rows = [[r["customer"], r["currency"], *[r[c] for c in columns], r["total"]] for r in report["rows"]]
        rows += [["total", c, *[t[k] for k in columns], t["total"]] for c, t in report["totals"].items()]
        return _csv(f"ar-aging-{report['as_of']}.csv", ["customer", "currency", *columns, "total"], rows)
    chart_list, table, footer = [], [], []
    if report is not None:
        table = [(row, [row[c] for c in columns]) for row in report["rows"]]
        footer = [
            (currency, [totals[c] for c in columns], totals["total"]) for currency, totals in report["totals"].items()
        ]
        for currency, totals in report["totals"].items():
            values = [(BUCKET_LABELS[c], Decimal(totals[c])) for c in columns]
            chart_list.append(
                (currency, charts.bar_chart(values, currency=currency, title=f"Receivables by age in {currency}"))
            )
    return _page(
        request,
        "admin/reports/ar_aging.html",
        "AR aging",
        form,
        report,
        columns=[(c, BUCKET_LABELS[c]) for c in columns],
        charts=chart_list,
        table=table,
        footer=footer,
    )


@reports_view
def account_statement(request):
    form = _bound(StatementForm, request, {"currency": settings.FINANCE_BASE_CURRENCY})
    report = None
    if request.GET.get("account") and form.is_valid():
        data = form.cleaned_data
        report = selectors.account_statement(
            data["account"], currency=data["currency"], date_from=data["date_from"], date_to=data["date_to"]
        )
    elif not request.GET.get("account"):
        # Nothing asked yet: show the empty form, not errors.
        form = StatementForm(initial={"date_to": today()})
        return _page_unbound(request, form)
    if report is not None and _wants_csv(request):
        rows = [
            [
                line["date"],
                line["entry"],
                line["description"],
                line["memo"],
                line["debit"],
                line["credit"],
                line["balance"],
            ]
            for line in report["lines"]
        ]
        return _csv(
            f"statement-{report['account']}-{report['currency']}.csv",
            ["date", "entry", "description", "memo", "debit", "credit", "balance"],
            [["", "", "opening balance", "", "", "", report["opening_balance"]], *rows],
        )
    lines = []
    if report is not None:
        lines = [
            {**line, "debit": _blank_zero(line["debit"]), "credit": _blank_zero(line["credit"])}
            for line in report["lines"]
        ]
    return _page(
        request,
        "admin/reports/account_statement.html",
        "Account statement",
        form,
        report,
        lines=lines,
        # One reverse() for the page, not one per line of a long statement.
        entries_url=reverse("admin:ledger_journalentry_changelist"),
    )


def _blank_zero(value: str) -> str:
    return value if Decimal(value) else ""


def _page_unbound(request, form) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": "Account statement", "form": form, "report": None}
    return TemplateResponse(request, "admin/reports/account_statement.html", context)
