"""/api/v1/journal-entries/ — posting, batches, reversals and the entry list."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import services
from finance.api.conditional import etag, if_match
from finance.api.filters import choice_param, date_param
from finance.api.idempotency import idempotent
from finance.api.pagination import LimitPagination
from finance.api.serializers import BatchOut, JournalBatchIn, JournalEntryIn, JournalEntryOut, ReverseIn
from finance.domain.journal import SOURCES
from ledger import models


class JournalPagination(LimitPagination):
    ordering = "-recorded_seq"


def _entries():
    return models.JournalEntry.objects.prefetch_related(
        Prefetch("lines", queryset=models.JournalLine.objects.order_by("line_no"))
    )


def _entry_response(entry_id: str, status: int = 200) -> Response:
    entry = get_object_or_404(_entries(), id=entry_id)
    return Response(JournalEntryOut(entry).data, status=status, headers=etag(entry.version))


class JournalEntryList(APIView):
    pagination_class = JournalPagination  # also tells the OpenAPI document the page's shape

    @extend_schema(
        parameters=[
            OpenApiParameter("account", str, description="entries with a line on this account"),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("source", str, enum=list(SOURCES)),
            OpenApiParameter("limit", int),
        ],
        responses=JournalEntryOut(many=True),
    )
    def get(self, request):
        entries = _entries()
        account = request.query_params.get("account")
        if account:
            entries = entries.filter(id__in=models.JournalLine.objects.filter(account=account).values("entry_id"))
        date_from, date_to = date_param(request, "date_from"), date_param(request, "date_to")
        if date_from:
            entries = entries.filter(date__gte=date_from)
        if date_to:
            entries = entries.filter(date__lte=date_to)
        source = choice_param(request, "source", SOURCES)
        if source:
            entries = entries.filter(source=source)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(JournalEntryOut(page, many=True).data)

    @extend_schema(request=JournalEntryIn, responses={201: JournalEntryOut})
    @idempotent
    def post(self, request):
        data = JournalEntryIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = JournalEntryIn.to_entry(data.validated_data)
        posted = services.journal_entry_post(
            date=entry.date,
            description=entry.description,
            reference=entry.reference,
            currency=entry.currency,
            lines=entry.lines,
            actor=request.user.get_username(),
        )
        return _entry_response(posted.id, status=201)


class JournalEntryBatch(APIView):
    @extend_schema(request=JournalBatchIn, responses={201: BatchOut})
    @idempotent
    def post(self, request):
        data = JournalBatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        ids = services.journal_entries_post_batch(
            entries=[JournalEntryIn.to_entry(item) for item in data.validated_data["entries"]],
            actor=request.user.get_username(),
        )
        return Response({"ids": ids}, status=201)


class JournalEntryDetail(APIView):
    @extend_schema(responses=JournalEntryOut)
    def get(self, request, entry_id):
        return _entry_response(entry_id)


class JournalEntryReverse(APIView):
    @extend_schema(request=ReverseIn, responses={201: JournalEntryOut})
    @idempotent
    def post(self, request, entry_id):
        data = ReverseIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.JournalEntry, id=entry_id)
        reversal = services.journal_entry_reverse(
            entry_id=str(entry_id),
            **data.validated_data,
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _entry_response(reversal.id, status=201)
