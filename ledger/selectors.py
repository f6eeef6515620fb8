"""Read-only queries behind the reports. Amounts leave here as strings at their
currency's scale; sums are exact (SQL numeric on Postgres)."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import F, Sum

from finance.domain import money
from finance.domain.chart import DEBIT_NORMAL
from ledger import models

ZERO = Decimal(0)
AGING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def _fmt(amount: Decimal, currency: str) -> str:
    return money.fmt(amount, currency)


def account_version(code: str) -> int | None:
    return models.Account.objects.filter(code=code).values_list("version", flat=True).first()


def account_balance_is_zero(code: str) -> bool:
    return not (
        models.AccountDailyTotal.objects.filter(account=code)
        .values("currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .exclude(debit=F("credit"))
        .exists()
    )


def _totals_by_account(*, date_from: date | None = None, date_to: date | None = None):
    """{(account, currency): (debit, credit)} over the days in range."""
    rows = models.AccountDailyTotal.objects.all()
    if date_from:
        rows = rows.filter(date__gte=date_from)
    if date_to:
        rows = rows.filter(date__lte=date_to)
    return {
        (row["account"], row["currency"]): (row["debit"], row["credit"])
        for row in rows.values("account", "currency").annotate(debit=Sum("debit"), credit=Sum("credit"))
    }


def _accounts() -> dict[str, models.Account]:
    return {account.code: account for account in models.Account.objects.all()}


def trial_balance(as_of: date) -> dict:
    accounts = _accounts()
    rows, totals = [], defaultdict(lambda: [ZERO, ZERO])
    for (code, currency), (debit, credit) in sorted(_totals_by_account(date_to=as_of).items()):
        account = accounts.get(code)
        rows.append(
            {
                "account": code,
                "name": account.name if account else "",
                "type": account.type if account else "",
                "currency": currency,
                "debit": _fmt(debit, currency),
                "credit": _fmt(credit, currency),
                "balance": _fmt(debit - credit, currency),
            }
        )
        totals[currency][0] += debit
        totals[currency][1] += credit
    return {
        "as_of": as_of.isoformat(),
        "rows": rows,
        "totals": {c: {"debit": _fmt(d, c), "credit": _fmt(k, c)} for c, (d, k) in sorted(totals.items())},
    }


def _normal_balance(account_type: str, debit: Decimal, credit: Decimal) -> Decimal:
    return debit - credit if account_type in DEBIT_NORMAL else credit - debit


def balance_sheet(as_of: date) -> dict:
    """Assets = liabilities + equity + earnings not yet closed to equity, per currency."""
    accounts = _accounts()
    sections = {"asset": [], "liability": [], "equity": []}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for (code, currency), (debit, credit) in sorted(_totals_by_account(date_to=as_of).items()):
        account = accounts.get(code)
        if account is None:
            continue
        balance = _normal_balance(account.type, debit, credit)
        if account.type in sections:
            sections[account.type].append(
                {"account": code, "name": account.name, "currency": currency, "balance": _fmt(balance, currency)}
            )
            sums[currency][account.type] += balance
        else:  # revenue and expense: this year's result until closed into equity
            sums[currency]["earnings"] += credit - debit
    totals = {}
    for currency, figures in sorted(sums.items()):
        liabilities_and_equity = figures["liability"] + figures["equity"] + figures["earnings"]
        totals[currency] = {
            "assets": _fmt(figures["asset"], currency),
            "liabilities": _fmt(figures["liability"], currency),
            "equity": _fmt(figures["equity"], currency),
            "retained_earnings": _fmt(figures["earnings"], currency),
            "liabilities_and_equity": _fmt(liabilities_and_equity, currency),
        }
    return {"as_of": as_of.isoformat(), "sections": sections, "totals": totals}


def income_statement(date_from: date, date_to: date) -> dict:
    accounts = _accounts()
    sections = {"revenue": [], "expense": []}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for (code, currency), (debit, credit) in sorted(_totals_by_account(date_from=date_from, date_to=date_to).items()):
        account = accounts.get(code)
        if account is None or account.type not in sections:
            continue
        amount = _normal_balance(account.type, debit, credit)
        sections[account.type].append(
            {"account": code, "name": account.name, "currency": currency, "amount": _fmt(amount, currency)}
        )
        sums[currency][account.type] += amount
    totals = {
        currency: {
            "revenue": _fmt(f["revenue"], currency),
            "expenses": _fmt(f["expense"], currency),
            "net_income": _fmt(f["revenue"] - f["expense"], currency),
        }
        for currency, f in sorted(sums.items())
    }
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "sections": sections, "totals": totals}


# AR aging in two statements that sum in the database, by customer, currency and column:
# the allocations and refunds are summed per invoice and per payment once and joined.
# At 100,000 invoices and payments, a correlated subquery per row (and bringing every row
# into Python) took most of a second, and Postgres' JIT compiling those plans as long
# again (docs/performance.md). Outstanding and unapplied amounts are never negative, so
# a zero sum means nothing is owed.
_AGING_INVOICES = (
    "SELECT i.customer, i.currency,"
    " CASE WHEN i.due_date >= %s THEN 'current' WHEN i.due_date >= %s THEN 'days_1_30'"
    "  WHEN i.due_date >= %s THEN 'days_31_60' WHEN i.due_date >= %s THEN 'days_61_90' ELSE 'over_90' END,"
    " SUM(i.total - COALESCE(a.paid, 0))"
    " FROM ledger_invoice i LEFT JOIN ("
    "  SELECT invoice_id, SUM(amount) AS paid FROM ledger_allocation WHERE date <= %s GROUP BY invoice_id"
    " ) a ON a.invoice_id = i.id"
    " WHERE i.number IS NOT NULL AND i.issue_date <= %s AND (i.void_date IS NULL OR i.void_date > %s)"
    " GROUP BY 1, 2, 3"
)
_AGING_PAYMENTS = (
    "SELECT p.customer, p.currency, SUM(p.amount - COALESCE(a.allocated, 0) - COALESCE(r.refunded, 0))"
    " FROM ledger_payment p LEFT JOIN ("
    "  SELECT payment_id, SUM(amount) AS allocated FROM ledger_allocation WHERE date <= %s GROUP BY payment_id"
    " ) a ON a.payment_id = p.id LEFT JOIN ("
    "  SELECT payment_id, SUM(amount) AS refunded FROM ledger_refund WHERE date <= %s GROUP BY payment_id"
    " ) r ON r.payment_id = p.id"
    " WHERE p.date <= %s GROUP BY 1, 2"
)
_CENTS_OF_CENTS = Decimal("0.0001")


def _amount(value) -> Decimal:
    """A sum as Postgres (numeric: exact) or SQLite (a float for decimals) returns it."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(_CENTS_OF_CENTS)


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "days_1_30"
    if days_overdue <= 60:
        return "days_31_60"
    if days_overdue <= 90:
        return "days_61_90"
    return "over_90"


def ar_aging(as_of: date) -> dict:
    """Outstanding of issued invoices by days past due, and each customer's unapplied
    payments (negative), as of a date. The totals equal the receivable's balance."""
    rows: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    day = as_of.isoformat()
    limits = [(as_of - timedelta(days=days)).isoformat() for days in (0, 30, 60, 90)]
    with connection.cursor() as cursor:
        cursor.execute(_AGING_INVOICES, [*limits, day, day, day])
        for customer, currency, column, outstanding in cursor.fetchall():
            if outstanding:
                rows[(customer, currency)][column] += _amount(outstanding)
        cursor.execute(_AGING_PAYMENTS, [day, day, day])
        for customer, currency, unapplied in cursor.fetchall():
            if unapplied:
                rows[(customer, currency)]["unapplied"] -= _amount(unapplied)
    columns = (*AGING_BUCKETS, "unapplied")
    out, totals = [], defaultdict(lambda: defaultdict(lambda: ZERO))
    for (customer, currency), figures in sorted(rows.items()):
        total = sum((figures[c] for c in columns), ZERO)
        row = {"customer": customer, "currency": currency}
        row.update({c: _fmt(figures[c], currency) for c in columns})
        row["total"] = _fmt(total, currency)
        out.append(row)
        for c in columns:
            totals[currency][c] += figures[c]
        totals[currency]["total"] += total
    return {
        "as_of": as_of.isoformat(),
        "rows": out,
        "totals": {
            currency: {c: _fmt(figures[c], currency) for c in (*columns, "total")}
            for currency, figures in sorted(totals.items())
        },
    }


def account_statement(code: str, *, currency: str, date_from: date | None, date_to: date | None) -> dict:
    """Lines of one account in one currency with a running balance (debit positive)."""
    opening = ZERO
    if date_from:
        before = models.AccountDailyTotal.objects.filter(account=code, currency=currency, date__lt=date_from).aggregate(
            debit=Sum("debit"), credit=Sum("credit")
        )
        opening = (before["debit"] or ZERO) - (before["credit"] or ZERO)
    lines = models.JournalLine.objects.filter(account=code, currency=currency)
    if date_from:
        lines = lines.filter(date__gte=date_from)
    if date_to:
        lines = lines.filter(date__lte=date_to)
    # Plain rows, not model instances: a busy account's statement has thousands of lines,
    # and two model objects per line cost a worker far more time and memory than a tuple.
    rows = lines.order_by("date", "entry__recorded_seq", "line_no").values_list(
        "date", "entry_id", "entry__description", "memo", "debit", "credit"
    )
    balance, out = opening, []
    for day, entry_id, description, memo, debit, credit in rows:
        balance += debit - credit
        out.append(
            {
                "date": day.isoformat(),
                "entry": str(entry_id),
                "description": description,
                "memo": memo,
                "debit": _fmt(debit, currency),
                "credit": _fmt(credit, currency),
                "balance": _fmt(balance, currency),
            }
        )
    return {
        "account": code,
        "currency": currency,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "opening_balance": _fmt(opening, currency),
        "lines": out,
        "closing_balance": _fmt(balance, currency),
    }
