"""/api/v1/reports/ — trial balance, balance sheet, income statement, AR aging."""

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import cache
from finance.api.filters import date_param
from finance.domain.errors import RuleViolation
from finance.services.clock import today
from ledger import selectors

_AS_OF = [OpenApiParameter("as_of", str, description="YYYY-MM-DD; default today (UTC)")]


class TrialBalance(APIView):
    @extend_schema(parameters=_AS_OF, responses=dict)
    def get(self, request):
        as_of = date_param(request, "as_of", today())
        return Response(cache.report("trial-balance", (as_of,), lambda: selectors.trial_balance(as_of)))


class BalanceSheet(APIView):
    @extend_schema(parameters=_AS_OF, responses=dict)
    def get(self, request):
        as_of = date_param(request, "as_of", today())
        return Response(cache.report("balance-sheet", (as_of,), lambda: selectors.balance_sheet(as_of)))


class IncomeStatement(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="YYYY-MM-DD; default 1 January of the 'to' year"),
            OpenApiParameter("to", str, description="YYYY-MM-DD; default today (UTC)"),
        ],
        responses=dict,
    )
    def get(self, request):
        date_to = date_param(request, "to", today())
        date_from = date_param(request, "from", date(date_to.year, 1, 1))
        if date_from > date_to:
            raise RuleViolation.on("from", "must not be after 'to'")
        return Response(
            cache.report(
                "income-statement", (date_from, date_to), lambda: selectors.income_statement(date_from, date_to)
            )
        )


class ArAging(APIView):
    @extend_schema(parameters=_AS_OF, responses=dict)
    def get(self, request):
        as_of = date_param(request, "as_of", today())
        return Response(cache.report("ar-aging", (as_of,), lambda: selectors.ar_aging(as_of)))
