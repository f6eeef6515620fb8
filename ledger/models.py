"""Read models, fed by ``ledger.projections`` in the transaction of the events they
reflect. Never written by anything else: every row can be rebuilt from the event log."""

from django.db import models

AMOUNT = {"max_digits": 19, "decimal_places": 4}


class Account(models.Model):
    code = models.CharField(primary_key=True, max_length=32)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, db_index=True)
    parent = models.CharField(max_length=32, null=True, blank=True)
    active = models.BooleanField(default=True, db_index=True)
    normal_balance = models.CharField(max_length=6)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "ledger_account"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class JournalEntry(models.Model):
    id = models.UUIDField(primary_key=True)
    date = models.DateField(db_index=True)
    description = models.CharField(max_length=500)
    reference = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=10, db_index=True)
    source_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    status = models.CharField(max_length=10)
    reverses = models.UUIDField(null=True, blank=True)
    reversed_by = models.UUIDField(null=True, blank=True)
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    recorded_seq = models.BigIntegerField(db_index=True, help_text="event sequence: stable list order")

    class Meta:
        db_table = "ledger_journal_entry"
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["date", "recorded_seq"])]

    def __str__(self) -> str:
        return f"{self.date} {self.description}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    date = models.DateField()
    account = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    debit = models.DecimalField(**AMOUNT)
    credit = models.DecimalField(**AMOUNT)
    memo = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "ledger_journal_line"
        constraints = [models.UniqueConstraint(fields=["entry", "line_no"], name="ledger_line_entry_no")]
        indexes = [models.Index(fields=["account", "currency", "date"])]
        ordering = ["entry", "line_no"]


class AccountDailyTotal(models.Model):
    """Debits and credits per account, currency and day: reports at any as-of date sum
    days instead of lines."""

    account = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    date = models.DateField()
    debit = models.DecimalField(**AMOUNT)
    credit = models.DecimalField(**AMOUNT)

    class Meta:
        db_table = "ledger_account_daily_total"
        constraints = [
            models.UniqueConstraint(fields=["account", "currency", "date"], name="ledger_daily_account_currency_date")
        ]
        indexes = [models.Index(fields=["date", "account"])]


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True)
    number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    customer = models.CharField(max_length=200, db_index=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, db_index=True)
    lines = models.JSONField()
    subtotal = models.DecimalField(**AMOUNT)
    tax = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    amount_paid = models.DecimalField(**AMOUNT)
    outstanding = models.DecimalField(**AMOUNT)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(db_index=True)
    journal_entry = models.UUIDField(null=True, blank=True)
    receivable_account = models.CharField(max_length=32, null=True, blank=True)
    void_date = models.DateField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    void_entry = models.UUIDField(null=True, blank=True)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    recorded_seq = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "ledger_invoice"
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.number or f"draft {self.id}"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True)
    customer = models.CharField(max_length=200, db_index=True)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    date = models.DateField(db_index=True)
    deposit_account = models.CharField(max_length=32)
    receivable_account = models.CharField(max_length=32)
    method = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    allocated = models.DecimalField(**AMOUNT)
    refunded = models.DecimalField(**AMOUNT)
    unallocated = models.DecimalField(**AMOUNT)
    status = models.CharField(max_length=24, db_index=True)
    journal_entry = models.UUIDField()
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    recorded_seq = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "ledger_payment"

    def __str__(self) -> str:
        return f"{self.customer} {self.amount} {self.currency}"


class Allocation(models.Model):
    """Part of a payment matched to an invoice, counted from ``date`` in AR reports."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocation_rows")
    seq = models.PositiveIntegerField(help_text="position among the invoice's allocations")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocation_rows")
    amount = models.DecimalField(**AMOUNT)
    date = models.DateField(db_index=True)

    class Meta:
        db_table = "ledger_allocation"
        constraints = [models.UniqueConstraint(fields=["invoice", "seq"], name="ledger_allocation_invoice_seq")]


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refund_rows")
    seq = models.PositiveIntegerField()
    amount = models.DecimalField(**AMOUNT)
    date = models.DateField()
    reason = models.CharField(max_length=500)
    journal_entry = models.UUIDField()

    class Meta:
        db_table = "ledger_refund"
        constraints = [models.UniqueConstraint(fields=["payment", "seq"], name="ledger_refund_payment_seq")]


class ClosedPeriod(models.Model):
    period = models.CharField(primary_key=True, max_length=7)
    closed_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_closed_period"
        ordering = ["period"]
