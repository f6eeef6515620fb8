"""Forms of the back-office actions. They only shape input for a service: every rule of
the books (balance, closed periods, decimals of a currency, states) is the domain's,
and its errors come back next to these fields."""

from datetime import date
from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms import formset_factory

from finance.domain import money
from finance.domain.chart import ACCOUNT_TYPES
from finance.domain.invoice import InvoiceLineInput
from finance.domain.journal import LineInput
from finance.services.clock import today
from ledger import models
from ledger.admin import display

CURRENCIES = sorted(money.MINOR_UNITS)
AMOUNT_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 12})


def amount_field(**kwargs) -> forms.DecimalField:
    # No decimal_places here: the currency decides, and the domain says so by name.
    return forms.DecimalField(max_digits=19, widget=AMOUNT_WIDGET, **kwargs)


def date_field(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)


def currency_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=[(c, c) for c in CURRENCIES], initial=settings.FINANCE_BASE_CURRENCY)


def account_choices(*, types: tuple[str, ...] | None = None, blank: str = "---------") -> list[tuple[str, str]]:
    """Every account of the chart, inactive ones marked: the domain, not the form, says
    why an account cannot take a posting."""
    accounts = models.Account.objects.order_by("code").only("code", "name", "active", "type")
    if types:
        accounts = accounts.filter(type__in=types)
    return [("", blank)] + [(a.code, f"{a.code} — {a.name}" + ("" if a.active else " (inactive)")) for a in accounts]


class VersionedForm(forms.Form):
    """Carries the version the user saw: acting on a record that has moved on since is
    refused (If-Match) instead of silently applied to something else."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


# --- accounts -----------------------------------------------------------------------


class AccountOpenForm(forms.Form):
    code = forms.CharField(max_length=32, help_text="1–32 letters, digits, '.' or '-'")
    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=[(t, t.capitalize()) for t in ACCOUNT_TYPES])
    parent = forms.ChoiceField(required=False, help_text="an account of the same type")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = account_choices(blank="(top level)")


class AccountEditForm(VersionedForm):
    name = forms.CharField(max_length=200)
    parent = forms.ChoiceField(required=False)

    def __init__(self, *args, account_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = account_choices(types=(account_type,), blank="(top level)")


class ConfirmForm(VersionedForm):
    """An action with nothing to fill in but the version it applies to."""


# --- journal entries ----------------------------------------------------------------


class JournalEntryForm(forms.Form):
    date = date_field(initial=today)
    description = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 60}))
    reference = forms.CharField(max_length=100, required=False)
    currency = currency_field()


class JournalLineForm(forms.Form):
    account = forms.ChoiceField(required=False)
    debit = amount_field(required=False)
    credit = amount_field(required=False)
    memo = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, accounts: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = accounts

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("account") or data.get("debit") is not None or data.get("credit") is not None)

    def to_input(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(account=data["account"], debit=data["debit"], credit=data["credit"], memo=data["memo"])


JournalLineFormSet = formset_factory(JournalLineForm, extra=4, max_num=500, validate_max=True)


class ReverseForm(VersionedForm):
    date = date_field(initial=today)
    reason = forms.CharField(max_length=400, widget=forms.TextInput(attrs={"size": 60}))


# --- invoices -----------------------------------------------------------------------


class InvoiceForm(forms.Form):
    customer = forms.CharField(max_length=200)
    currency = currency_field()
    due_date = date_field()


class InvoiceEditForm(VersionedForm):
    customer = forms.CharField(max_length=200)
    due_date = date_field()


class InvoiceLineForm(forms.Form):
    description = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"size": 40}))
    quantity = forms.DecimalField(max_digits=19, required=False, widget=AMOUNT_WIDGET)
    unit_price = amount_field(required=False)
    account = forms.ChoiceField(required=False)
    tax_rate = forms.DecimalField(max_digits=9, required=False, widget=AMOUNT_WIDGET, help_text="0.20 for 20 %")

    def __init__(self, *args, accounts: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = accounts

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(f) not in (None, "") for f in ("description", "quantity", "unit_price", "account"))

    def clean(self):
        data = super().clean()
        if not self.is_blank():
            for name in ("description", "quantity", "unit_price", "account"):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, "This field is required on a line.")
        return data

    def to_input(self) -> InvoiceLineInput:
        data = self.cleaned_data
        return InvoiceLineInput(
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            account=data["account"],
            tax_rate=data["tax_rate"] if data["tax_rate"] is not None else Decimal(0),
        )


InvoiceLineFormSet = formset_factory(InvoiceLineForm, extra=3, max_num=500, validate_max=True)


class IssueForm(VersionedForm):
    issue_date = date_field(initial=today)


class VoidForm(VersionedForm):
    reason = forms.CharField(max_length=400, widget=forms.TextInput(attrs={"size": 60}))
    date = date_field(required=False, help_text="empty: today (never before the issue date)")


# --- payments -----------------------------------------------------------------------


class PaymentForm(forms.Form):
    customer = forms.CharField(max_length=200)
    amount = amount_field()
    currency = currency_field()
    date = date_field(initial=today)
    deposit_account = forms.ChoiceField()
    method = forms.CharField(max_length=200, required=False)
    reference = forms.CharField(max_length=200, required=False)
    invoice = forms.CharField(widget=forms.HiddenInput, required=False)
    allocate = amount_field(required=False, label="Allocate to the invoice")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit_account"].choices = account_choices(types=("asset",))


class AllocateForm(VersionedForm):
    invoice = forms.ChoiceField()
    amount = amount_field()

    def __init__(self, *args, invoices: list[models.Invoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [("", "---------")] + [
            (
                str(i.id),
                f"{i.number} — due {i.due_date}, outstanding {display.amount(i.outstanding, i.currency)} {i.currency}",
            )
            for i in invoices
        ]


class RefundForm(VersionedForm):
    amount = amount_field()
    date = date_field(initial=today)
    reason = forms.CharField(max_length=400, widget=forms.TextInput(attrs={"size": 60}))


# --- periods ------------------------------------------------------------------------


class PeriodCloseForm(forms.Form):
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        error_messages={"invalid": "Enter a month as YYYY-MM."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first_of_month = today().replace(day=1)
        last_month = date.fromordinal(first_of_month.toordinal() - 1)
        self.fields["period"].initial = f"{last_month.year:04d}-{last_month.month:02d}"


class PeriodReopenForm(forms.Form):
    reason = forms.CharField(max_length=400, widget=forms.TextInput(attrs={"size": 60}))
