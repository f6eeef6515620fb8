from django.urls import path

from ledger.api import views

urlpatterns = [
    path("trial-balance/", views.TrialBalance.as_view(), name="report-trial-balance"),
    path("balance-sheet/", views.BalanceSheet.as_view(), name="report-balance-sheet"),
    path("income-statement/", views.IncomeStatement.as_view(), name="report-income-statement"),
    path("ar-aging/", views.ArAging.as_view(), name="report-ar-aging"),
]
