"""/api/v1/periods/ — accounting periods (calendar months), open or closed."""

from django.db.models import Max, Min
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import services
from finance.api.filters import int_param
from finance.api.idempotency import idempotent
from finance.api.pagination import page_of
from finance.api.serializers import PeriodOut, ReopenIn
from finance.domain.periods import check_period, period_of
from finance.services.clock import today
from ledger import models


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _period_out(period: str) -> dict:
    closed = models.ClosedPeriod.objects.filter(period=period).exists()
    return {"period": period, "status": "closed" if closed else "open"}


class PeriodList(APIView):
    """Every month from the first posting (or closed period) to the later of this month
    and the last posting, newest first."""

    @extend_schema(
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=page_of(PeriodOut),
    )
    def get(self, request):
        span = models.JournalEntry.objects.aggregate(first=Min("date"), last=Max("date"))
        closed = set(models.ClosedPeriod.objects.values_list("period", flat=True))
        this_month = period_of(today())
        candidates = [this_month, *closed]
        if span["first"]:
            candidates += [period_of(span["first"]), period_of(span["last"])]
        months = sorted(set(_months(min(candidates), max(candidates))) | closed, reverse=True)
        limit = int_param(request, "limit", default=50, minimum=1, maximum=500)
        offset = int_param(request, "offset", default=0)
        page = months[offset : offset + limit]
        next_url = None
        if offset + limit < len(months):
            next_url = request.build_absolute_uri(f"{request.path}?limit={limit}&offset={offset + limit}")
        results = [{"period": p, "status": "closed" if p in closed else "open"} for p in page]
        return Response({"results": results, "next": next_url})


class PeriodClose(APIView):
    @extend_schema(request=None, responses=PeriodOut)
    @idempotent
    def post(self, request, period):
        services.period_close(period=check_period(period), actor=request.user.get_username())
        return Response(_period_out(period))


class PeriodReopen(APIView):
    @extend_schema(request=ReopenIn, responses=PeriodOut)
    @idempotent
    def post(self, request, period):
        data = ReopenIn(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.period_reopen(
            period=check_period(period), reason=data.validated_data["reason"], actor=request.user.get_username()
        )
        return Response(_period_out(period))
