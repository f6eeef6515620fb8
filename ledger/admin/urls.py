"""Back-office pages that are not one model's: reports and the live activity page."""

from django.urls import path

from ledger.admin import live, reports

app_name = "admin-reports"

urlpatterns = [
    path("reports/trial-balance/", reports.trial_balance, name="trial-balance"),
    path("reports/balance-sheet/", reports.balance_sheet, name="balance-sheet"),
    path("reports/income-statement/", reports.income_statement, name="income-statement"),
    path("reports/ar-aging/", reports.ar_aging, name="ar-aging"),
    path("reports/account-statement/", reports.account_statement, name="account-statement"),
    path("live-activity/", live.live_activity_view, name="live-activity"),
]
