"""One function per use case, each owning its transaction: load → command → append
(several streams at once where the books need it) → project inline → publish after commit.
Views, the admin, tasks and commands call these and nothing else to change the books."""

from finance.services.accounts import account_deactivate, account_open, account_reactivate, account_update
from finance.services.invoices import invoice_create, invoice_issue, invoice_update, invoice_void
from finance.services.journal import journal_entries_post_batch, journal_entry_post, journal_entry_reverse
from finance.services.payments import payment_allocate, payment_record, payment_refund
from finance.services.periods import period_close, period_reopen

__all__ = [
    "account_deactivate",
    "account_open",
    "account_reactivate",
    "account_update",
    "invoice_create",
    "invoice_issue",
    "invoice_update",
    "invoice_void",
    "journal_entries_post_batch",
    "journal_entry_post",
    "journal_entry_reverse",
    "payment_allocate",
    "payment_record",
    "payment_refund",
    "period_close",
    "period_reopen",
]
