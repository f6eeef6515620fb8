from django.urls import path, re_path

from finance.api import accounts, events, invoices, journal, payments, periods

ACCOUNT = r"(?P<code>[A-Za-z0-9.\-]{1,32})"

urlpatterns = [
    path("accounts/", accounts.AccountList.as_view(), name="accounts"),
    re_path(rf"^accounts/{ACCOUNT}/$", accounts.AccountDetail.as_view(), name="account"),
    re_path(rf"^accounts/{ACCOUNT}/deactivate/$", accounts.AccountDeactivate.as_view(), name="account-deactivate"),
    re_path(rf"^accounts/{ACCOUNT}/reactivate/$", accounts.AccountReactivate.as_view(), name="account-reactivate"),
    re_path(rf"^accounts/{ACCOUNT}/statement/$", accounts.AccountStatement.as_view(), name="account-statement"),
    path("journal-entries/", journal.JournalEntryList.as_view(), name="journal-entries"),
    path("journal-entries/batch/", journal.JournalEntryBatch.as_view(), name="journal-entries-batch"),
    path("journal-entries/<uuid:entry_id>/", journal.JournalEntryDetail.as_view(), name="journal-entry"),
    path("journal-entries/<uuid:entry_id>/reverse/", journal.JournalEntryReverse.as_view(), name="journal-reverse"),
    path("journal-entries/<uuid:entry_id>/events/", events.JournalEntryEvents.as_view(), name="journal-events"),
    path("invoices/", invoices.InvoiceList.as_view(), name="invoices"),
    path("invoices/<uuid:invoice_id>/", invoices.InvoiceDetail.as_view(), name="invoice"),
    path("invoices/<uuid:invoice_id>/issue/", invoices.InvoiceIssue.as_view(), name="invoice-issue"),
    path("invoices/<uuid:invoice_id>/void/", invoices.InvoiceVoid.as_view(), name="invoice-void"),
    path("invoices/<uuid:invoice_id>/events/", events.InvoiceEvents.as_view(), name="invoice-events"),
    path("payments/", payments.PaymentList.as_view(), name="payments"),
    path("payments/<uuid:payment_id>/", payments.PaymentDetail.as_view(), name="payment"),
    path("payments/<uuid:payment_id>/allocate/", payments.PaymentAllocate.as_view(), name="payment-allocate"),
    path("payments/<uuid:payment_id>/refund/", payments.PaymentRefund.as_view(), name="payment-refund"),
    path("payments/<uuid:payment_id>/events/", events.PaymentEvents.as_view(), name="payment-events"),
    path("periods/", periods.PeriodList.as_view(), name="periods"),
    re_path(r"^periods/(?P<period>\d{4}-\d{2})/close/$", periods.PeriodClose.as_view(), name="period-close"),
    re_path(r"^periods/(?P<period>\d{4}-\d{2})/reopen/$", periods.PeriodReopen.as_view(), name="period-reopen"),
    path("chart/events/", events.ChartEvents.as_view(), name="chart-events"),
    path("events/", events.EventFeed.as_view(), name="events"),
    path("events/stream/", events.EventStream.as_view(), name="events-stream"),
]
