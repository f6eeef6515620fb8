"""Input serializers check shape and types only (400); the rules of the books live in
the domain (422). Output serializers render read models; money is always a string."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finance.api.fields import AmountField, DecimalStringField, MoneyField, StrictCharField
from finance.domain import money
from finance.domain.chart import ACCOUNT_TYPES
from finance.domain.invoice import InvoiceLineInput
from finance.domain.journal import LineInput
from finance.services.journal import EntryInput
from finance.services.payments import AllocationInput
from ledger import models


def _currency_default() -> str:
    return settings.FINANCE_BASE_CURRENCY


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error instead of silence."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["is not a field of this request"] for name in unknown})
        return super().to_internal_value(data)


# --- accounts -----------------------------------------------------------------------


class AccountCreateIn(StrictSerializer):
    code = StrictCharField(max_length=32)
    name = StrictCharField(max_length=200)
    type = serializers.ChoiceField(choices=ACCOUNT_TYPES)
    parent = StrictCharField(max_length=32, allow_null=True, required=False, default=None)


class AccountUpdateIn(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    parent = StrictCharField(max_length=32, allow_null=True, required=False)


class AccountOut(serializers.ModelSerializer):
    class Meta:
        model = models.Account
        fields = ["code", "name", "type", "parent", "active", "normal_balance", "version"]


# --- journal entries ----------------------------------------------------------------


class JournalLineIn(StrictSerializer):
    account = StrictCharField(max_length=32)
    debit = MoneyField(required=False)
    credit = MoneyField(required=False)
    currency = StrictCharField(max_length=3, required=False)
    memo = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def to_line(self, data: dict) -> LineInput:
        return LineInput(
            account=data["account"],
            debit=data.get("debit"),
            credit=data.get("credit"),
            currency=data.get("currency"),
            memo=data["memo"],
        )


class JournalEntryIn(StrictSerializer):
    date = serializers.DateField()
    description = StrictCharField(max_length=500, allow_blank=True)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    currency = StrictCharField(max_length=3, required=False, default=_currency_default)
    lines = JournalLineIn(many=True, allow_empty=True, max_length=1000)

    @staticmethod
    def to_entry(data: dict) -> EntryInput:
        return EntryInput(
            date=data["date"],
            description=data["description"],
            currency=data["currency"],
            reference=data["reference"],
            lines=[JournalLineIn().to_line(line) for line in data["lines"]],
        )


class JournalBatchIn(StrictSerializer):
    entries = JournalEntryIn(many=True, allow_empty=False, max_length=1000)


class ReverseIn(StrictSerializer):
    date = serializers.DateField()
    reason = StrictCharField(max_length=500)


class JournalLineOut(serializers.ModelSerializer):
    debit = serializers.SerializerMethodField()
    credit = serializers.SerializerMethodField()

    class Meta:
        model = models.JournalLine
        fields = ["account", "debit", "credit", "currency", "memo"]

    def get_debit(self, line) -> str | None:
        return money.fmt(line.debit, line.currency) if line.debit else None

    def get_credit(self, line) -> str | None:
        return money.fmt(line.credit, line.currency) if line.credit else None


class JournalEntryOut(serializers.ModelSerializer):
    lines = JournalLineOut(many=True, read_only=True)

    class Meta:
        model = models.JournalEntry
        fields = [
            "id",
            "date",
            "description",
            "reference",
            "currency",
            "status",
            "source",
            "source_id",
            "reverses",
            "reversed_by",
            "lines",
            "version",
        ]


class BatchOut(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField())


# --- invoices -----------------------------------------------------------------------


class InvoiceLineIn(StrictSerializer):
    description = StrictCharField(max_length=500)
    quantity = DecimalStringField()
    unit_price = MoneyField()
    account = StrictCharField(max_length=32)
    tax_rate = DecimalStringField(required=False, default=money.ZERO)

    @staticmethod
    def to_line(data: dict) -> InvoiceLineInput:
        return InvoiceLineInput(
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            account=data["account"],
            tax_rate=data["tax_rate"],
        )


class InvoiceCreateIn(StrictSerializer):
    customer = StrictCharField(max_length=200)
    currency = StrictCharField(max_length=3, required=False, default=_currency_default)
    due_date = serializers.DateField()
    lines = InvoiceLineIn(many=True, allow_empty=True, max_length=500)


class InvoiceUpdateIn(StrictSerializer):
    customer = StrictCharField(max_length=200, required=False)
    due_date = serializers.DateField(required=False)
    lines = InvoiceLineIn(many=True, allow_empty=True, max_length=500, required=False)


class IssueIn(StrictSerializer):
    issue_date = serializers.DateField(required=False, default=None)


class VoidIn(StrictSerializer):
    reason = StrictCharField(max_length=500)
    date = serializers.DateField(required=False, default=None)


class InvoiceLineOut(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.CharField()
    unit_price = serializers.CharField()
    account = serializers.CharField()
    tax_rate = serializers.CharField()
    net = serializers.CharField()
    tax = serializers.CharField()


class InvoiceOut(serializers.ModelSerializer):
    lines = InvoiceLineOut(many=True, read_only=True)
    subtotal = AmountField()
    tax = AmountField()
    total = AmountField()
    amount_paid = AmountField()
    outstanding = AmountField()

    class Meta:
        model = models.Invoice
        fields = [
            "id",
            "number",
            "customer",
            "currency",
            "status",
            "lines",
            "subtotal",
            "tax",
            "total",
            "amount_paid",
            "outstanding",
            "issue_date",
            "due_date",
            "journal_entry",
            "void_reason",
            "version",
        ]


# --- payments -----------------------------------------------------------------------


class AllocationIn(StrictSerializer):
    invoice = serializers.UUIDField()
    amount = MoneyField()

    @staticmethod
    def to_allocation(data: dict) -> AllocationInput:
        return AllocationInput(invoice=str(data["invoice"]), amount=data["amount"])


class PaymentCreateIn(StrictSerializer):
    customer = StrictCharField(max_length=200)
    amount = MoneyField()
    currency = StrictCharField(max_length=3, required=False, default=_currency_default)
    date = serializers.DateField()
    deposit_account = StrictCharField(max_length=32)
    method = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    reference = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    allocations = AllocationIn(many=True, required=False, default=list, max_length=500)


class RefundIn(StrictSerializer):
    amount = MoneyField()
    date = serializers.DateField()
    reason = StrictCharField(max_length=500)


class AllocationOut(serializers.Serializer):
    invoice = serializers.UUIDField()
    amount = serializers.CharField()


class PaymentOut(serializers.ModelSerializer):
    amount = AmountField()
    allocated = AmountField()
    unallocated = AmountField()
    refunded = AmountField()
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = models.Payment
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "date",
            "deposit_account",
            "method",
            "reference",
            "allocated",
            "unallocated",
            "refunded",
            "allocations",
            "status",
            "journal_entry",
            "version",
        ]

    @extend_schema_field(AllocationOut(many=True))
    def get_allocations(self, payment) -> list[dict]:
        return [
            {"invoice": str(row.invoice_id), "amount": money.fmt(row.amount, payment.currency)}
            for row in payment.allocation_rows.all()
        ]


# --- periods and events -------------------------------------------------------------


class PeriodOut(serializers.Serializer):
    period = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])


class ReopenIn(StrictSerializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class EventMetadataOut(serializers.Serializer):
    actor = serializers.CharField()
    request_id = serializers.CharField()
    correlation_id = serializers.CharField()
    causation_id = serializers.CharField()


class EventOut(serializers.Serializer):
    position = serializers.IntegerField(allow_null=True)
    event_id = serializers.UUIDField()
    aggregate = serializers.CharField()
    aggregate_id = serializers.CharField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    schema_version = serializers.IntegerField()
    data = serializers.JSONField()
    metadata = EventMetadataOut()
    recorded_at = serializers.DateTimeField()


class FeedOut(serializers.Serializer):
    results = EventOut(many=True)
    last_position = serializers.IntegerField()
