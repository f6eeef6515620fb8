"""How amounts, links and account balances read on the back-office pages."""

from decimal import Decimal

from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from finance.domain import money


def amount(value: Decimal | str | None, currency: str) -> str:
    """``1250.5`` in USD reads ``1,250.50``; an unknown currency keeps the value's scale."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    places = money.minor_units(currency) if money.is_currency(currency) else max(0, -value.as_tuple().exponent)
    return f"{value:,.{places}f}"


def signed_balance(balance: Decimal, currency: str) -> str:
    """A debit-minus-credit balance as accountants write it: ``1,250.00 Dr``."""
    if balance == 0:
        return f"{amount(Decimal(0), currency)} {currency}"
    side = "Dr" if balance > 0 else "Cr"
    return f"{amount(abs(balance), currency)} {currency} {side}"


def admin_link(model: str, pk, text: str | None = None) -> str:
    """A link to a ledger object's page; ``model`` is the model name (``invoice``)."""
    if pk in (None, ""):
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:ledger_{model}_change", args=[quote(str(pk))]), text or pk
    )
